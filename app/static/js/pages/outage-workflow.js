/* The outage workflow on the planner page: status, the steps the user may take now (the API
 * says which: /api/outages/<id>/history -> actions), a note, and the status history (who, when).
 * planned -> reviewed -> approved (planner lead) -> published (notices queued) -> executed,
 * or cancelled; "send back" returns a reviewed or approved outage to planned.
 * Strings from data are set with textContent only. */
(function () {
  'use strict';
  var P = window.Pages, t = P.t;
  var enc = encodeURIComponent;
  var ORDER = ['review', 'approve', 'publish', 'execute', 'reopen', 'cancel'];

  function url(id, tail) { return '/api/outages/' + enc(id) + (tail ? '/' + tail : ''); }

  function errorText(err) {
    var key = 'wfe_' + (err && err.code);
    var known = Object.prototype.hasOwnProperty.call(P.config.labels || {}, key);
    return known ? t(key) + (err.code === 'notice_too_late' ? ' (' + err.message + ')' : '') : P.errorText(err);
  }

  function detailsText(h) {
    var d = h.details || {}, out = [];
    if (d.queued !== undefined) { out.push(d.queued + ' ' + t('wf_queued')); }
    if (d.cancelled !== undefined) { out.push(d.cancelled + ' ' + t('wf_cancelled_msgs')); }
    if (d.cancellations !== undefined) { out.push(d.cancellations + ' ' + t('wf_cancellations')); }
    return out.join(' · ');
  }

  /* Draw the workflow of stored outage `o` (o.db_id) into `box`; onChange(outage JSON) after a
     step; `error`: a message to show (the last step's refusal). */
  function render(o, box, onChange, error) {
    P.clear(box);
    box.classList.add('wf');
    var status = P.el('div', 'outage-status', t('status') + ': ' + t('outage_' + o.status));
    box.appendChild(status);
    var msg = P.el('div', 'pg-msg wf-msg' + (error ? ' error' : ''), error || '');
    msg.setAttribute('role', 'status');
    P.api('GET', url(o.db_id, 'history')).then(function (w) {
      o.status = w.status;
      o.version = w.version;
      status.textContent = t('status') + ': ' + t('outage_' + w.status);
      if (w.notice_deadline && (w.status === 'planned' || w.status === 'reviewed' || w.status === 'approved' || w.status === 'published')) {
        box.appendChild(P.el('div', 'wf-deadline', t('wf_deadline') + ': ' + P.fmtTime(w.notice_deadline)));
      }
      if (w.notice_short && ['planned', 'reviewed', 'approved'].indexOf(w.status) >= 0) {
        box.appendChild(P.el('div', 'pg-msg error wf-short', t('wf_short')));
      }
      var actions = ORDER.filter(function (a) { return w.actions.indexOf(a) >= 0; });
      var note = null;
      if (actions.indexOf('cancel') >= 0 || actions.indexOf('reopen') >= 0) {
        var label = P.el('label', 'wf-note-label', t('wf_note'));
        note = P.el('input');
        note.id = 'outage-note';
        note.maxLength = 2000;
        label.appendChild(note);
        box.appendChild(label);
      }
      var buttons = P.el('div', 'wf-buttons');
      actions.forEach(function (a) {
        var b = P.el('button', null, t('wf_' + a));
        b.id = a === 'execute' ? 'outage-executed' : 'outage-' + a;
        b.type = 'button';
        b.addEventListener('click', function () {
          Array.prototype.forEach.call(buttons.querySelectorAll('button'), function (x) { x.disabled = true; });
          var step = a === 'execute' ?
            P.api('POST', url(o.db_id, 'executed'), {actual_start: o.start, actual_end: o.end, version: w.version}) :
            P.api('POST', url(o.db_id, a), {version: w.version, note: note ? note.value : ''});
          step.then(function () {
            render(o, box, onChange);
            return P.api('GET', url(o.db_id));
          }).then(function (stored) { if (onChange) { onChange(stored); } }).catch(function (err) {
            render(o, box, onChange, errorText(err));  // read the outage again: a stale page shows what changed
          });
        });
        buttons.appendChild(b);
      });
      var again = P.el('button', 'wf-refresh', t('wf_refresh'));
      again.id = 'outage-refresh';
      again.type = 'button';
      again.title = t('wf_refresh_hint');
      again.addEventListener('click', function () { render(o, box, onChange); });
      buttons.appendChild(again);
      box.appendChild(buttons);
      box.appendChild(msg);
      box.appendChild(P.el('h4', null, t('wf_history')));
      var list = P.el('ol', 'wf-history');
      if (!w.history.length) { list.appendChild(P.el('li', 'pg-hint', t('wf_no_history'))); }
      w.history.forEach(function (h) {
        var li = P.el('li');
        li.dataset.action = h.action;
        li.appendChild(P.el('strong', null, t('wfh_' + h.action)));
        li.appendChild(document.createTextNode(' ' + t('wf_by') + ' ' + (h.by || '?') + ' · ' + P.fmtTime(h.at)));
        var extra = detailsText(h);
        if (extra) { li.appendChild(P.el('div', 'pg-hint', extra)); }
        if (h.note) { li.appendChild(P.el('div', 'wf-note', h.note)); }
        list.appendChild(li);
      });
      box.appendChild(list);
    }).catch(function (err) { box.appendChild(P.el('div', 'pg-msg error', P.errorText(err))); });
  }

  window.OutageWorkflow = {render: render};
})();
