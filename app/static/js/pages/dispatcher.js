/* Dispatcher page: enter a fault, candidate locations, restoration stages on the map,
 * crews and routes with ETAs, dropped tasks, "send to crew" (crew link + GPX).
 * Everything is rebuilt from the server after a reload: the recent faults (newest first)
 * and, for the chosen one, its stages and its dispatches (routes with stop progress, or the
 * progress of a routing run still going). */
(function () {
  'use strict';
  var P = window.Pages, OM = window.OutageMap, t = P.t;
  var MAP = 'dispatcher';
  var state = {fault: null, faultId: null, dispatch: null, faults: []};
  var seq = 0;  // bumped whenever the chosen fault changes: answers for an earlier choice are dropped
  window.DispatcherState = state;

  function stageSwitches(stages, upto) {
    var open = [], close = [];
    stages.slice(0, upto + 1).forEach(function (st) {
      (st.steps || []).forEach(function (s) {
        var sw = s.switch;
        var act = s.action;
        if (!sw) { return; }
        if (act === 'open') { close = close.filter(function (x) { return x !== sw; }); if (open.indexOf(sw) < 0) { open.push(sw); } }
        if (act === 'close') { open = open.filter(function (x) { return x !== sw; }); if (close.indexOf(sw) < 0) { close.push(sw); } }
      });
    });
    return {open: open, close: close};
  }

  function showStage(i) {
    var stages = state.fault.stages || [];
    Array.prototype.forEach.call(document.querySelectorAll('#stages li'), function (li, k) { li.classList.toggle('active', k === i); });
    var sw = stageSwitches(stages, i);
    var cand = (state.fault.candidates || [])[0] || {};
    P.showState(MAP, sw.open, sw.close, cand.nodes || []).then(function () { P.fitOverlay(MAP); })
      .catch(function (err) { P.message('fault-messages', P.errorText(err), true); });
  }

  function showFault(f) {
    state.fault = f;
    state.faultId = f.id;
    state.dispatch = null;
    P.$('fault-result').hidden = false;
    P.clear(P.$('routes'));
    P.clear(P.$('dropped'));
    P.clear(P.$('dispatch-list'));
    P.$('dispatch-progress').hidden = true;
    OM.setData(MAP, 'routes', {type: 'FeatureCollection', features: []});
    markFault();
    var cl = P.clear(P.$('candidates'));
    var cands = state.fault.candidates || [];
    if (cands.length > 10) { P.$('candidates').dataset.more = String(cands.length - 10); }
    cands.slice(0, 10).forEach(function (c, i) {
      var li = P.el('li', null, t('candidate') + ' ' + (i + 1) + ': ' + (c.nodes || []).slice(0, 6).join(', ') + ((c.nodes || []).length > 6 ? '…' : '') +
        (c.score !== undefined ? ' (' + Number(c.score).toFixed(2) + ')' : '') + (c.reason ? ' — ' + c.reason : ''));
      cl.appendChild(li);
    });
    if (cands.length > 10) { cl.appendChild(P.el('li', 'pg-hint', '… +' + (cands.length - 10))); }
    var sl = P.clear(P.$('stages'));
    (state.fault.stages || []).forEach(function (st, i) {
      var li = P.el('li', null, t('stage') + ' ' + (i + 1) + ' (' + (st.kind || '') + '): ' + (st.restored_customers || []).length + ' ' + t('restored') + ', ' + (st.still_out || []).length + ' ' + t('still_out'));
      li.dataset.stage = String(i);
      li.addEventListener('click', function () { showStage(i); });
      sl.appendChild(li);
    });
    if ((state.fault.stages || []).length) { showStage(state.fault.stages.length - 1); }
  }

  /* Show the fault indicators of the tripped feeder only (all when none is chosen). */
  P.$('fault-breaker').addEventListener('change', function () {
    var f = this.value;
    Array.prototype.forEach.call(document.querySelectorAll('#fault-indicators label'), function (l) {
      l.hidden = !!f && l.dataset.feeder !== f;
    });
  });

  P.$('fault-form').addEventListener('submit', function (ev) {
    ev.preventDefault();
    var fi = {};
    Array.prototype.forEach.call(document.querySelectorAll('#fault-indicators label:not([hidden]) input'), function (c) { if (c.checked) { fi[c.value] = true; } });
    var calls = P.$('fault-calls').value.split(/[\s,;]+/).filter(Boolean);
    var body = {};
    if (P.$('fault-breaker').value) { body.tripped_breaker = P.$('fault-breaker').value; }
    if (Object.keys(fi).length) { body.fault_indicators = fi; }
    if (calls.length) { body.calls = calls; }
    P.message('fault-messages', t('loading'));
    var my = ++seq;
    P.api('POST', P.API.faults, body).then(function (f) {
      P.message('fault-messages', '');
      if (my === seq) { showFault(f); }
      loadCrews();
      loadFaults();
    }).catch(function (err) { P.message('fault-messages', P.errorText(err), true); });
  });

  /* -- the recent faults (newest first) and the dispatches of the chosen one ----------- */
  function faultText(f) {
    var what = f.tripped_breaker || f.section || ((f.calls || []).length ? (f.calls || []).length + ' ' + t('calls') : '');
    return t('fault') + ' ' + f.id + ' · ' + t('status_' + f.status) + ' · ' + P.fmtTime(f.created_at) + (what ? ' · ' + what : '');
  }
  function markFault() {
    Array.prototype.forEach.call(document.querySelectorAll('#fault-list li[data-fault]'), function (li) {
      li.classList.toggle('active', li.dataset.fault === String(state.faultId));
    });
  }
  function loadFaults() {
    return P.api('GET', P.API.recentFaults(20)).then(function (data) {
      state.faults = P.items(data);
      var list = P.clear(P.$('fault-list'));
      if (!state.faults.length) { list.appendChild(P.el('li', 'pg-hint', t('no_faults'))); }
      state.faults.forEach(function (f) {
        var li = P.el('li', 'fault-item', faultText(f));
        li.dataset.fault = String(f.id);
        li.dataset.status = f.status;
        li.addEventListener('click', function () { selectFault(f.id); });
        list.appendChild(li);
      });
      markFault();
      return state.faults;
    }).catch(function (err) { P.message('fault-messages', P.errorText(err), true); return []; });
  }

  function selectFault(id) {
    var my = ++seq;
    state.faultId = id;
    markFault();
    P.message('fault-messages', t('loading'));
    return P.api('GET', P.API.fault(id)).then(function (f) {
      if (my !== seq) { return; }
      P.message('fault-messages', '');
      showFault(f);
      return loadDispatches(f.id, my, true);
    }).catch(function (err) { if (my === seq) { P.message('fault-messages', P.errorText(err), true); } });
  }

  function dispatchText(d) {
    return t('dispatch') + ' ' + d.id + ' · ' + t('status_' + d.status) + ' · ' + P.fmtTime(d.created_at) +
      (d.status === 'done' ? ' · ' + (d.routes || []).length + ' ' + t('routes_count') : '');
  }
  /* The fault's dispatches (newest first); with ``open`` the newest is shown. */
  function loadDispatches(faultId, my, open) {
    return P.api('GET', P.API.faultDispatches(faultId, 10)).then(function (data) {
      if (my !== seq) { return; }
      var items = P.items(data);
      var list = P.clear(P.$('dispatch-list'));
      items.forEach(function (d) {
        var li = P.el('li', 'dispatch-item', dispatchText(d));
        li.dataset.dispatch = String(d.id);
        li.dataset.status = d.status;
        li.addEventListener('click', function () { openDispatch(d, seq); });
        list.appendChild(li);
      });
      if (open && items.length) { openDispatch(items[0], my); }
      else { markDispatch(); }
    });
  }
  function markDispatch() {
    var id = state.dispatch ? state.dispatch.id : state.dispatchId;
    Array.prototype.forEach.call(document.querySelectorAll('#dispatch-list li[data-dispatch]'), function (li) {
      li.classList.toggle('active', li.dataset.dispatch === String(id));
    });
  }
  function openDispatch(d, my) {
    state.dispatchId = d.id;
    markDispatch();
    if (d.status === 'done') {
      state.dispatch = d;
      showRoutes(d);
    } else if ((d.status === 'queued' || d.status === 'running') && d.run_id) {
      followRun(d.id, d.run_id, my);
    } else {
      state.dispatch = null;
      showRoutes({routes: [], dropped: []});
      P.message('fault-messages', t('dispatch') + ' ' + d.id + ': ' + t('status_' + d.status), d.status === 'failed');
    }
  }

  /* Follow a routing run (started here, or found still going after a reload) to its routes. */
  function followRun(dispatchId, runId, my) {
    var bar = P.$('dispatch-progress');
    bar.hidden = false;
    bar.value = 0;
    P.message('fault-messages', t('dispatch_running'));
    return P.waitRun(runId, function (progress) { if (my === seq) { bar.value = progress; } }).then(function () {
      return P.api('GET', P.API.dispatch(dispatchId));
    }).then(function (d) {
      if (my !== seq) { return; }
      bar.hidden = true;
      P.message('fault-messages', '');
      state.dispatch = d;
      state.dispatchId = d.id;
      showRoutes(d);
      return loadDispatches(d.fault_id, my, false);
    }).catch(function (err) {
      if (my !== seq) { return; }
      bar.hidden = true;
      P.message('fault-messages', P.errorText(err), true);
    });
  }

  function loadCrews() {
    return P.api('GET', P.API.crews).then(function (data) {
      var feats = P.items(data).filter(function (c) { return c.position; }).map(function (c) {
        return {type: 'Feature', geometry: {type: 'Point', coordinates: [c.position.lon, c.position.lat]}, properties: {id: c.id, name: c.name, kind: 'crew', label: 'C'}};
      });
      OM.setData(MAP, 'points', {type: 'FeatureCollection', features: feats});
    }).catch(function () { /* crews are optional on the map */ });
  }

  P.$('dispatch').addEventListener('click', function () {
    if (!state.faultId) { return; }
    var my = seq;
    P.message('fault-messages', t('loading'));
    P.api('POST', P.API.dispatches, {fault_id: state.faultId}).then(function (started) {
      if (my !== seq) { return; }
      state.dispatchId = started.dispatch.id;
      return followRun(started.dispatch.id, started.run.id, my);
    }).catch(function (err) { if (my === seq) { P.message('fault-messages', P.errorText(err), true); } });
  });

  /* Each stop of a route with its ETA and the crew's progress (planned / arrived / done + times). */
  function renderStops(ol, stops) {
    P.clear(ol);
    (stops || []).forEach(function (s) {
      var status = s.status || 'planned';
      var li = P.el('li', 'route-stop stop-' + status);
      li.dataset.task = s.task_id;
      li.dataset.status = status;
      var text = (s.name || s.task_id) + ' ' + t('eta') + ' ' + P.fmtTime(s.arrival) + ' · ' + t(status);
      if (s.arrived_at) { text += ' · ' + t('arrived_at') + ' ' + P.fmtTime(s.arrived_at); }
      if (s.done_at) { text += ' · ' + t('done_at') + ' ' + P.fmtTime(s.done_at); }
      li.appendChild(P.el('span', null, text));
      ol.appendChild(li);
    });
  }

  function showRoutes(d) {
    var feats = [];
    var rl = P.clear(P.$('routes'));
    (d.routes || []).forEach(function (r) {
      if (r.geometry) { feats.push({type: 'Feature', geometry: r.geometry, properties: {crew: r.crew_id, distance_m: r.distance_m, time_s: r.duration_s}}); }
      var li = P.el('li', 'route');
      li.dataset.crew = r.crew_id;
      li.dataset.route = String(r.id);
      li.appendChild(P.el('strong', null, r.crew_id + ': '));
      var ol = P.el('ol', 'route-stops');
      renderStops(ol, r.stops);
      li.appendChild(ol);
      var btn = P.el('button', 'send-crew', t('send_to_crew'));
      btn.type = 'button';
      btn.addEventListener('click', function () { sendToCrew(r, li, btn); });
      li.appendChild(btn);
      rl.appendChild(li);
    });
    OM.setData(MAP, 'routes', {type: 'FeatureCollection', features: feats});
    var dl = P.clear(P.$('dropped'));
    (d.dropped || []).forEach(function (x) { dl.appendChild(P.el('li', null, x.task_id + ': ' + (x.reason || x.code || ''))); });
  }

  /* Crews report arrived / done from their phones: re-read the dispatch (one request for all
   * its routes) every 15 s while the page is visible, and at once when it gets the focus back. */
  var refreshing = false;
  function refreshProgress() {
    if (!state.dispatch || refreshing || document.visibilityState === 'hidden') { return; }
    refreshing = true;
    P.api('GET', P.API.dispatch(state.dispatch.id)).then(function (d) {
      state.dispatch = d;
      (d.routes || []).forEach(function (r) {
        var ol = document.querySelector('#routes li[data-route="' + String(Number(r.id)) + '"] ol.route-stops');
        if (ol) { renderStops(ol, r.stops); }
      });
    }).catch(function () { /* the next poll tries again */ }).then(function () { refreshing = false; });
  }
  setInterval(refreshProgress, 15000);
  window.addEventListener('focus', refreshProgress);
  document.addEventListener('visibilitychange', refreshProgress);

  /* The crew's phone link (its page shows its latest route) and the route as GPX. */
  function sendToCrew(r, li, btn) {
    btn.disabled = true;
    var link = P.el('a', 'crew-link', t('crew_link'));
    link.href = P.API.crewPage(r.crew_id, r.id);
    link.target = '_blank';
    link.rel = 'noopener';
    li.appendChild(link);
    var g = P.el('a', 'crew-gpx', 'GPX');
    g.href = P.API.routeGpx(r.id);
    g.setAttribute('download', '');
    li.appendChild(g);
  }

  loadCrews();
  // after a reload (or for a second dispatcher): the faults being worked, the newest one open
  loadFaults().then(function (faults) {
    if (faults.length && seq === 0 && !state.faultId) { selectFault(faults[0].id); }
  });
})();
