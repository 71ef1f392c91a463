/* The admin's grid versions (app/pages/grid_versions.py): upload, list, diff, outages to re-check,
 * activate. Data is shown with textContent only (common.js). */
(function () {
  'use strict';
  var P = window.Pages, t = P.t, el = P.el, $ = P.$;
  var URL = '/api/grid/versions';
  var KINDS = ['rating', 'normal_state', 'connection', 'position', 'attribute'];
  var PAGE = 100;
  var current = null, shown = 0;

  function when(iso) { return iso ? iso.replace('T', ' ').slice(0, 16) : ''; }
  function layerName(k) { return t('layer_' + k); }

  function countsText(counts) {
    return Object.keys(counts || {}).map(function (layer) {
      var c = counts[layer], parts = [];
      ['added', 'removed', 'changed'].forEach(function (k) { if (c[k]) { parts.push(c[k] + ' ' + t(k).toLowerCase()); } });
      return layerName(layer) + ': ' + parts.join(', ');
    }).join('; ') || '—';
  }

  function loadList(selectId) {
    return P.api('GET', URL).then(function (doc) {
      var table = $('gv-list');
      P.table(table, P.items(doc), [
        {key: 'id', label: t('id')},
        {key: 'filename', label: t('file')},
        {key: 'status', label: t('status'), format: function (v) { return t('st_' + v); }},
        {key: 'uploaded_at', label: t('uploaded_at'), format: when},
        {key: 'effective_at', label: t('effective_at'), format: when},
        {key: 'counts', label: t('changes'), format: countsText},
        {key: 'outages_flagged', label: t('flagged')},
        {key: 'note', label: t('note')}
      ]);
      var rows = table.querySelectorAll('tbody tr');
      P.items(doc).forEach(function (v, i) {
        rows[i].dataset.id = v.id;
        rows[i].style.cursor = 'pointer';
        rows[i].addEventListener('click', function () { show(v.id); });
      });
      if (selectId) { show(selectId); }
    }).catch(function (e) { P.message('gv-message', P.errorText(e), true); });
  }

  function show(id) {
    Array.prototype.forEach.call($('gv-list').querySelectorAll('tbody tr'), function (r) {
      r.classList.toggle('active', String(r.dataset.id) === String(id));
    });
    return P.api('GET', URL + '/' + encodeURIComponent(id)).then(function (v) {
      current = v;
      $('gv-detail').hidden = false;
      $('gv-title').textContent = t('id') + ' ' + v.id + ' · ' + v.filename + ' · ' + t('st_' + v.status);
      $('gv-base').textContent = v.base_id ? t('compared_with') + ' ' + v.base_id : '';
      $('gv-activate-btn').disabled = v.status === 'served';
      flags(v.checks);
      counts(v);
      $('gv-truncated').hidden = !v.truncated;
      $('gv-truncated').textContent = t('truncated');
      shown = 0;
      P.clear($('gv-changes'));
      changes();
    }).catch(function (e) { P.message('gv-message', P.errorText(e), true); });
  }

  function flags(checks) {
    var ul = P.clear($('gv-flags'));
    if (!checks || !checks.length) { ul.appendChild(el('li', null, t('no_flags'))); return; }
    checks.forEach(function (c) {
      var li = el('li', 'gv-flag');
      li.appendChild(el('strong', null, t('outage') + ' ' + c.outage_id + ' (' + when(c.start) + ', ' + t('outage_' + c.status) + ')'));
      var sub = el('ul');
      c.findings.forEach(function (f) {
        var d = f.details || {}, text = t('f_' + f.code);
        if (f.code === 'customers_changed') {
          var parts = [];
          if (d.added) { parts.push('+' + d.added + ' ' + t('customers_more') + ' (' + (d.added_ids || []).join(', ') + ')'); }
          if (d.removed) { parts.push('−' + d.removed + ' ' + t('customers_fewer') + ' (' + (d.removed_ids || []).join(', ') + ')'); }
          text += ': ' + parts.join('; ');
        } else {
          text += ': ' + (d.id || '') + (d.column ? ' ' + d.column + ' ' + d.old + ' → ' + d.new : '');
        }
        sub.appendChild(el('li', null, text));
      });
      li.appendChild(sub);
      ul.appendChild(li);
    });
  }

  function counts(v) {
    var rows = Object.keys(v.counts || {}).map(function (layer) {
      return {layer: layerName(layer), added: v.counts[layer].added, removed: v.counts[layer].removed, changed: v.counts[layer].changed};
    });
    if (!rows.length) { P.clear($('gv-counts')).appendChild(el('caption', null, t('no_changes'))); }
    else { P.table($('gv-counts'), rows, [{key: 'layer', label: t('layer')}, {key: 'added', label: t('added')},
      {key: 'removed', label: t('removed')}, {key: 'changed', label: t('changed')}]); }
    var box = P.clear($('gv-ids'));
    ['added', 'removed'].forEach(function (k) {
      Object.keys(v[k] || {}).forEach(function (layer) {
        var ids = v[k][layer];
        var more = ids.length > 50 ? ' … (+' + (ids.length - 50) + ' ' + t('more') + ')' : '';
        box.appendChild(el('p', 'pg-hint', t(k) + ' · ' + layerName(layer) + ': ' + ids.slice(0, 50).join(', ') + more));
      });
    });
  }

  function changes() {
    var kind = $('gv-kind').value;
    var url = URL + '/' + encodeURIComponent(current.id) + '/changes?limit=' + PAGE + '&offset=' + shown + (kind ? '&kind=' + encodeURIComponent(kind) : '');
    return P.api('GET', url).then(function (doc) {
      var table = $('gv-changes');
      var body = table.querySelector('tbody');
      if (!body) {
        P.table(table, [], [{key: 'layer', label: t('layer')}, {key: 'id', label: t('id')}, {key: 'kind', label: t('kind')},
          {key: 'column', label: t('column')}, {key: 'old', label: t('old')}, {key: 'new', label: t('new')}]);
        body = table.querySelector('tbody');
      }
      P.items(doc).forEach(function (c) {
        var tr = el('tr');
        [layerName(c.layer), c.id, t('kind_' + c.kind), c.column, c.old, c.new].forEach(function (v) {
          tr.appendChild(el('td', null, v === null || v === undefined ? '' : v));
        });
        body.appendChild(tr);
      });
      shown += P.items(doc).length;
      $('gv-more').hidden = shown >= doc.total;
    });
  }

  $('gv-upload').addEventListener('submit', function (ev) {
    ev.preventDefault();
    var file = $('gv-file').files[0];
    if (!file) { return; }
    var form = new FormData();
    form.append('file', file);
    form.append('note', $('gv-note').value);
    P.clear($('gv-problems'));
    P.message('gv-message', t('uploading'));
    $('gv-send').disabled = true;
    P.api('POST', URL, form).then(function (v) {
      P.message('gv-message', t('uploaded_ok') + ' ' + v.id);
      return loadList(v.id);
    }).catch(function (e) {
      P.message('gv-message', P.errorText(e), true);
      (Array.isArray(e.details) ? e.details : []).filter(function (p) { return p.severity !== 'warning'; }).slice(0, 50)
        .forEach(function (p) { $('gv-problems').appendChild(el('li', null, p.code + ': ' + p.message)); });
    }).then(function () { $('gv-send').disabled = false; });
  });

  $('gv-activate').addEventListener('submit', function (ev) {
    ev.preventDefault();
    if (!current || !window.confirm(t('confirm_activate'))) { return; }
    var body = {version: current.version};
    var local = $('gv-effective').value;
    if (local) { body.effective_at = new Date(local).toISOString(); }
    P.api('POST', URL + '/' + encodeURIComponent(current.id) + '/activate', body).then(function (v) {
      P.message('gv-message', t('activated') + ': ' + v.id + ' · ' + t('st_' + v.status));
      return loadList(v.id);
    }).catch(function (e) { P.message('gv-message', P.errorText(e), true); });
  });

  var kind = $('gv-kind');
  kind.appendChild(el('option', null, t('all_kinds'))).value = '';
  KINDS.forEach(function (k) { kind.appendChild(el('option', null, t('kind_' + k))).value = k; });
  kind.addEventListener('change', function () { shown = 0; P.clear($('gv-changes')); changes(); });
  $('gv-more').addEventListener('click', changes);
  loadList();
}());
