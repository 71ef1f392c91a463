/* Dispatcher page (issue 14): a fault handled at a glance.
 *
 * - Enter a fault: the tripped breaker, then only that feeder's fault indicators (a search box,
 *   or click a switch on the map), trouble calls.
 * - The fault: its timeline with the time between events; the candidate locations as a ranked
 *   short list (one line each, details on demand, the picked one drawn on the map); the
 *   generator-truck decision with its reason; the stages as switching orders, each step
 *   executed in order after a confirmation. The executed state is stored by the server
 *   (POST /api/faults/<id>/steps/<seq>); the map (switch states, dark customers, customers back
 *   on supply) follows the executed steps, not the plan.
 * - Crews: live positions (re-read every 15 s), routes with an ETA per stop for the crews that
 *   have stops (the idle ones are named), re-plan every open fault when a new one arrives.
 * Everything is rebuilt from the server after a reload. Strings from data go in with textContent.
 *
 * Other scripts may add to the routes: after the routes are drawn the page fires
 * ``dispatcher:routes`` on document with ``{dispatch}``; the container #route-share is theirs. */
(function () {
  'use strict';
  var P = window.Pages, OM = window.OutageMap;
  var labelsEl = document.getElementById('dispatcher-labels');
  if (labelsEl) {
    var extra = JSON.parse(labelsEl.textContent);
    P.config.labels = P.config.labels || {};
    Object.keys(extra).forEach(function (k) { P.config.labels[k] = extra[k]; });
  }
  var t = P.t;
  var MAP = 'dispatcher';
  var enc = encodeURIComponent;
  var API = {
    step: function (faultId, seq) { return '/api/faults/' + enc(faultId) + '/steps/' + enc(seq); },
    indicators: function (feeder) { return '/api/faults/indicators?feeder=' + enc(feeder); }
  };
  var state = {fault: null, faultId: null, dispatch: null, dispatchId: null, faults: [], picked: 0,
               indicators: [], chosen: {}, crews: {}, crewPoints: [], fitted: null};
  var seq = 0;  // bumped whenever the chosen fault changes: answers for an earlier choice are dropped
  window.DispatcherState = state;

  /* A label with {name} placeholders filled in (values as text). */
  function fmt(key, values) {
    return t(key).replace(/\{(\w+)\}/g, function (m, k) { return values && values[k] !== undefined && values[k] !== null ? String(values[k]) : m; });
  }
  function duration(seconds) {
    if (seconds === null || seconds === undefined) { return ''; }
    var s = Math.max(0, Math.round(seconds));
    if (s < 60) { return fmt('dur_s', {s: s}); }
    var m = Math.round(s / 60);
    if (m < 60) { return fmt('dur_min', {m: m}); }
    return fmt('dur_h', {h: Math.floor(m / 60), m: ('0' + (m % 60)).slice(-2)});
  }
  function button(cls, text) {
    var b = P.el('button', cls, text);
    b.type = 'button';
    return b;
  }

  /* -- the fault-indicator form: only the tripped feeder's indicators ------------------ */
  var search = P.$('indicator-search');
  var hint = P.$('indicator-hint');
  var hintText = hint.textContent;
  function loadIndicators(feeder) {
    state.indicators = [];
    state.chosen = {};
    search.value = '';
    search.hidden = !feeder;
    hint.textContent = hintText;
    renderIndicators();
    if (!feeder) { return Promise.resolve(); }
    return P.api('GET', API.indicators(feeder)).then(function (data) {
      if (P.$('fault-breaker').value !== feeder) { return; }
      state.indicators = data.items || [];
      hint.textContent = fmt('indicators_of', {n: data.total, f: feeder});
      renderIndicators();
    }).catch(function (err) { P.message('fault-messages', P.errorText(err), true); });
  }
  function renderIndicators() {
    var box = P.clear(P.$('fault-indicators'));
    var q = search.value.trim().toLowerCase();
    state.indicators.forEach(function (ind) {
      var hit = !q || ind.id.toLowerCase().indexOf(q) >= 0 || String(ind.node_name || '').toLowerCase().indexOf(q) >= 0;
      var label = P.el('label');
      label.dataset.id = ind.id;
      label.hidden = !hit && !state.chosen[ind.id];
      var cb = P.el('input');
      cb.type = 'checkbox';
      cb.name = 'fi';
      cb.value = ind.id;
      cb.checked = !!state.chosen[ind.id];
      cb.addEventListener('change', function () { pickIndicator(ind.id, cb.checked); });
      label.appendChild(cb);
      label.appendChild(document.createTextNode(' ' + ind.id + (ind.node_name ? ' · ' + ind.node_name : '')));
      box.appendChild(label);
    });
    var ids = Object.keys(state.chosen);
    P.$('indicator-picked').textContent = ids.length ? fmt('picked', {ids: ids.join(', ')}) : '';
    drawPoints();
  }
  function pickIndicator(id, on) {
    if (on) { state.chosen[id] = true; } else { delete state.chosen[id]; }
    renderIndicators();
  }
  P.$('fault-breaker').addEventListener('change', function () { loadIndicators(this.value); });
  search.addEventListener('input', renderIndicators);
  /* Picking on the map: a click on a listed indicator toggles it; a click on another switch
   * or a cabinet (a cabinet holds several switches at one point) toggles the listed indicator
   * nearest to the click, within PICK_M metres. */
  var PICK_M = 30;
  document.addEventListener('outagemap:featureclick', function (e) {
    var d = e.detail || {};
    if (d.mapKey !== MAP || !state.indicators.length || ['switches', 'equipment'].indexOf(d.layerKey) < 0) { return; }
    var id = String(((d.feature || {}).properties || {}).id);
    var hit = state.indicators.filter(function (i) { return i.id === id; })[0];
    if (!hit && d.latlng) {
      var best = null;
      state.indicators.forEach(function (i) {
        var m = L.latLng(i.lat, i.lon).distanceTo(d.latlng);
        if (m <= PICK_M && (!best || m < best.m)) { best = {m: m, ind: i}; }
      });
      hit = best && best.ind;
    }
    if (hit) { pickIndicator(hit.id, !state.chosen[hit.id]); }
  });

  P.$('fault-form').addEventListener('submit', function (ev) {
    ev.preventDefault();
    var fi = {};
    Object.keys(state.chosen).forEach(function (id) { fi[id] = true; });
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
      loadFaults();
    }).catch(function (err) { P.message('fault-messages', P.errorText(err), true); });
  });

  /* -- the fault: timeline, candidates, generator decision, switching orders ------------ */
  function showFault(f) {
    var same = state.fault && state.fault.id === f.id;
    state.fault = f;
    state.faultId = f.id;
    if (!same) {
      state.picked = 0;
      state.dispatch = null;
      P.clear(P.$('routes'));
      P.clear(P.$('dropped'));
      P.clear(P.$('dispatch-list'));
      P.$('idle-crews').textContent = '';
      P.$('dispatch-progress').hidden = true;
      OM.setData(MAP, 'routes', {type: 'FeatureCollection', features: []});
    }
    P.$('fault-result').hidden = false;
    markFault();
    renderTimeline(f);
    renderCandidates(f);
    renderGenerator(f.generator_decision);
    renderStages(f);
    var st = f.state || {};
    P.$('customers-state').textContent = fmt('customers_now', {r: st.customers_restored || 0, o: st.customers_out || 0});
    P.$('mark-repaired').disabled = f.status !== 'open';
    P.$('mark-normal').disabled = f.status === 'closed';
    return showMapState(!same);
  }

  function renderTimeline(f) {
    var ol = P.clear(P.$('timeline'));
    (f.timeline || []).forEach(function (e) {
      var li = P.el('li', 'event' + (e.at ? ' reached' : ' pending'));
      li.dataset.kind = e.kind;
      if (e.stage !== undefined) { li.dataset.stage = String(e.stage); }
      var name = e.kind === 'stage' ? fmt('ev_stage', {n: Number(e.stage) + 1}) : t('ev_' + e.kind);
      if (e.kind === 'crew_arrived' && e.crew_id) { name += ' (' + e.crew_id + ')'; }
      li.appendChild(P.el('strong', null, name));
      li.appendChild(P.el('span', 'event-time', ' · ' + (e.at ? P.fmtTime(e.at) : t('not_yet'))));
      if (e.at && e.since_previous_s !== null && e.since_previous_s !== undefined) {
        li.appendChild(P.el('span', 'event-gap', ' · ' + fmt('after_previous', {d: duration(e.since_previous_s)})));
      }
      ol.appendChild(li);
    });
  }

  function pct(x) { return Math.round(Number(x) * 100) + '%'; }
  function sectionName(c) { return String(c.section || '').replace(/^section:/, ''); }
  /* A reason object of the core ({code, params, text, texts: {en, zh-Hans}}) in the page's
   * language; plain text stays as it is. */
  function reasonText(r) {
    if (!r || typeof r !== 'object') { return r === undefined || r === null ? '' : String(r); }
    var texts = r.texts || {};
    return (P.config.locale === 'zh' ? (texts['zh-Hans'] || texts.zh) : texts.en) || r.text || r.code || '';
  }
  /* The one line of a candidate: where, likelihood, the one reason (the core's ``summary``
   * when it gives one, else built here from its evidence). */
  function candidateLine(c, f) {
    var s = c.summary || {};
    var w = s.where;
    var where = w && typeof w === 'object'
      ? (w.name || w.node || sectionName(c)) + (w.feeder || c.feeder ? ' · ' + (w.feeder || c.feeder) : '')
      : (w || (sectionName(c) + (c.feeder ? ' · ' + c.feeder : '')));
    var likely = s.likelihood !== undefined && s.likelihood !== null
      ? (typeof s.likelihood === 'number' ? pct(s.likelihood) : String(s.likelihood))
      : (c.score !== undefined ? pct(c.score) : '');
    return {where: where, likelihood: likely, reason: s.reason ? reasonText(s.reason) : oneReason(c, f)};
  }
  function oneReason(c, f) {
    var ev = c.evidence || {}, ind = ev.indicators, calls = ev.calls;
    if (calls && calls.calls_explained) { return fmt('reason_calls', {n: calls.calls_explained}); }
    if (ind && (ind.contradict || []).length) { return fmt('reason_contradict', {n: ind.contradict.length}); }
    if (ind && (ind.agree || []).length) { return fmt('reason_indicators', {n: ind.agree.length}); }
    if (f.tripped_breaker) { return fmt('reason_breaker', {b: f.tripped_breaker}); }
    return fmt('reason_exposure', {km: ev.exposure_km});
  }
  function detailList(c) {
    var ev = c.evidence || {}, ind = ev.indicators || {}, calls = ev.calls || {};
    var w = (c.summary && typeof c.summary.where === 'object' && c.summary.where) || {};
    var rows = [
      ['cand_section', sectionName(c)],
      ['cand_equipment', w.node ? w.node + (w.name ? ' · ' + w.name : '') : (c.nodes || []).join(', ')],
      ['address', w.address],
      ['cand_device', w.device ? w.device + (w.device_node ? ' @ ' + w.device_node : '') + (w.remote === true ? ' · ' + t('op_remote') : w.remote === false ? ' · ' + t('op_manual') : '') : null],
      ['cand_feeder', c.feeder],
      ['cand_customers', (c.customers || []).length],
      ['cand_path', (ev.path || []).join(' → ')]
    ];
    if (ev.calls) { rows.push(['cand_calls', calls.calls_explained], ['cand_calls_elsewhere', calls.calls_elsewhere]); }
    if (ev.indicators) { rows.push(['cand_indicators_agree', (ind.agree || []).join(', ')], ['cand_indicators_contradict', (ind.contradict || []).join(', ')]); }
    if (!(c.details || []).length) { rows.push(['cand_full_reason', c.reason]); }
    var dl = P.el('dl', 'cand-details');
    rows.forEach(function (r) {
      if (r[1] === undefined || r[1] === null || r[1] === '') { return; }
      dl.appendChild(P.el('dt', null, t(r[0])));
      dl.appendChild(P.el('dd', null, r[1]));
    });
    if ((c.details || []).length) {
      dl.appendChild(P.el('dt', null, t('cand_full_reason')));
      var dd = P.el('dd');
      var ul = P.el('ul', 'cand-evidence');
      c.details.forEach(function (d) { ul.appendChild(P.el('li', null, reasonText(d))); });
      dd.appendChild(ul);
      dl.appendChild(dd);
    }
    return dl;
  }
  function renderCandidates(f) {
    var ol = P.clear(P.$('candidates'));
    var cands = f.candidates || [];
    cands.slice(0, 10).forEach(function (c, i) {
      var line = candidateLine(c, f);
      var li = P.el('li', 'candidate' + (i === state.picked ? ' picked' : ''));
      li.dataset.rank = String(i + 1);
      li.dataset.section = String(c.section || '');
      var head = P.el('div', 'cand-line');
      head.appendChild(P.el('strong', 'cand-where', line.where));
      head.appendChild(P.el('span', 'cand-likelihood', ' · ' + line.likelihood + ' ' + t('likelihood')));
      head.appendChild(P.el('span', 'cand-reason', ' · ' + line.reason));
      var pick = button('cand-pick', i === state.picked ? t('on_map') : t('show_on_map'));
      pick.disabled = i === state.picked;
      pick.addEventListener('click', function () { state.picked = i; renderCandidates(f); showMapState(true); });
      head.appendChild(pick);
      li.appendChild(head);
      var details = P.el('details', 'cand-more');
      details.appendChild(P.el('summary', null, t('details')));
      details.appendChild(detailList(c));
      li.appendChild(details);
      ol.appendChild(li);
    });
    if (cands.length > 10) { ol.appendChild(P.el('li', 'pg-hint', '… +' + (cands.length - 10))); }
  }

  function renderGenerator(g) {
    var p = P.$('generator-decision');
    if (!g) { p.textContent = ''; return; }
    p.dataset.reason = g.reason;
    p.classList.toggle('needed', !!g.needed);
    p.textContent = fmt('gen_' + g.reason, {repair: Math.round(g.repair_min), threshold: Math.round(g.threshold_min),
                                            n: g.customers_out, trucks: g.trucks});
  }

  var STAGE_TITLE = {remote: 'stage_remote', manual: 'stage_manual'};
  function whoText(s) {
    if (s.who === 'control_room') { return t('who_control_room'); }
    return s.crew_id ? fmt('who_crew', {c: s.crew_id}) : t('who_unrouted');
  }
  function renderStages(f) {
    var box = P.clear(P.$('stages'));
    (f.stages || []).forEach(function (st, i) {
      var sec = P.el('section', 'switching-order');
      sec.dataset.stage = String(i);
      sec.appendChild(P.el('h3', null, fmt(STAGE_TITLE[st.kind] || 'stage_other', {n: i + 1})));
      var table = P.el('table', 'pg-table switching');
      var head = P.el('tr');
      ['col_step', 'col_device', 'col_action', 'col_control', 'col_who', 'col_restores', 'col_state'].forEach(function (k) {
        head.appendChild(P.el('th', null, t(k)));
      });
      var thead = P.el('thead');
      thead.appendChild(head);
      table.appendChild(thead);
      var body = P.el('tbody');
      (st.steps || []).forEach(function (s) {
        var tr = P.el('tr', 'step' + (s.executed ? ' executed' : '') + (s.seq === f.next_step ? ' next' : ''));
        tr.dataset.seq = String(s.seq);
        tr.dataset.executed = s.executed ? 'true' : 'false';
        tr.appendChild(P.el('td', null, s.seq));
        // the switch, and its cabinet when the switch id does not already name it
        var inside = s.node && String(s.switch).indexOf(String(s.node)) !== 0 ? ' @ ' + s.node : '';
        tr.appendChild(P.el('td', 'step-device', s.switch + inside));
        tr.appendChild(P.el('td', 'step-action', t('action_' + s.action)));
        tr.appendChild(P.el('td', 'step-control', t(s.remote ? 'op_remote' : 'op_manual')));
        tr.appendChild(P.el('td', 'step-who', whoText(s)));
        tr.appendChild(P.el('td', 'step-restores', (s.restores || []).length));
        var cell = P.el('td', 'step-state');
        if (s.executed) {
          cell.textContent = fmt('executed_by', {t: P.fmtTime(s.executed_at), u: s.executed_by || '—'});
        } else if (s.seq === f.next_step && f.status !== 'closed') {
          var go = button('execute-step', t('execute'));
          go.addEventListener('click', function () { askConfirm(cell, s); });
          cell.appendChild(go);
        } else {
          cell.textContent = t('waiting');
        }
        tr.appendChild(cell);
        body.appendChild(tr);
        // the reason under the step, across the table (the core's words)
        var why = P.el('tr', 'step-why' + (s.executed ? ' executed' : ''));
        why.dataset.seq = String(s.seq);
        var td = P.el('td', 'step-reason', t('col_reason') + ': ' + (s.why ? reasonText(s.why) : (s.reason || '')));
        td.colSpan = 7;
        why.appendChild(td);
        body.appendChild(why);
      });
      table.appendChild(body);
      sec.appendChild(table);
      box.appendChild(sec);
    });
    if ((f.stages || []).length && f.next_step === null) { box.appendChild(P.el('p', 'pg-hint all-done', t('all_steps_done'))); }
  }

  /* A step is executed only after a second, explicit confirmation in its row. */
  function askConfirm(cell, s) {
    P.clear(cell);
    cell.appendChild(P.el('span', 'confirm-text', fmt('confirm_step', {action: t('action_' + s.action), switch: s.switch}) + ' '));
    var yes = button('confirm-step', t('confirm'));
    var no = button('cancel-step', t('cancel'));
    cell.appendChild(yes);
    cell.appendChild(no);
    no.addEventListener('click', function () { renderStages(state.fault); });
    yes.addEventListener('click', function () {
      yes.disabled = no.disabled = true;
      var f = state.fault, my = seq;
      P.api('POST', API.step(f.id, s.seq), {version: f.version}).then(function (nf) {
        if (my !== seq) { return; }
        P.message('fault-messages', '');
        showFault(nf);
        loadFaults();
      }).catch(function (err) {
        if (my !== seq) { return; }
        P.message('fault-messages', P.errorText(err), true);
        // another dispatcher acted first (or the order changed): show the stored state
        if (err && err.status === 409) { reloadFault(); } else { renderStages(state.fault); }
      });
    });
  }

  function reloadFault() {
    var my = seq;
    return P.api('GET', P.API.fault(state.faultId)).then(function (f) { if (my === seq) { showFault(f); } });
  }
  function setStatus(status) {
    var f = state.fault;
    if (!f) { return; }
    P.api('PATCH', P.API.fault(f.id), {version: f.version, status: status}).then(function () {
      loadFaults();
      return reloadFault();
    }).catch(function (err) { P.message('fault-messages', P.errorText(err), true); if (err && err.status === 409) { reloadFault(); } });
  }
  P.$('mark-repaired').addEventListener('click', function () { setStatus('restored'); });
  P.$('mark-normal').addEventListener('click', function () { setStatus('closed'); });

  /* -- the map: the executed switching state, the picked candidate, customers back ------- */
  var restoredLayer = null;
  function showMapState(fit) {
    var f = state.fault;
    if (!f) { return Promise.resolve(); }
    var st = f.state || {open: [], close: []};
    var cand = (f.candidates || [])[state.picked] || {};
    var my = seq;
    return P.showState(MAP, st.open, st.close, cand.nodes || []).then(function (fc) {
      if (fit) { P.fitOverlay(MAP); }
      state.overlay = fc;
      return P.api('GET', P.API.faultCustomers(f.id));
    }).then(function (data) {
      if (my !== seq) { return; }
      drawRestored((data.items || []).filter(function (c) { return c.supply_status === 'restored'; }));
    }).catch(function (err) { P.message('fault-messages', P.errorText(err), true); });
  }
  function drawRestored(customers) {
    var m = OM.maps[MAP];
    if (!m) { return; }
    if (!restoredLayer) { restoredLayer = L.layerGroup().addTo(m.map); }
    restoredLayer.clearLayers();
    customers.forEach(function (c) {
      if (c.lat === null || c.lon === null || c.lat === undefined) { return; }
      var mk = L.circleMarker([c.lat, c.lon], {radius: 4, color: '#1b7a3a', weight: 1, fillColor: '#2b9348', fillOpacity: 0.9});
      mk.bindTooltip(function () { return P.el('span', null, (c.name || c.id) + ' · ' + t('restored_customer')); });
      restoredLayer.addLayer(mk);
    });
    state.restoredShown = customers.length;
  }
  /* Crews (live positions) and the picked fault indicators share the points layer. */
  function drawPoints() {
    var feats = state.crewPoints.slice();
    state.indicators.forEach(function (i) {
      if (state.chosen[i.id]) {
        feats.push({type: 'Feature', geometry: {type: 'Point', coordinates: [i.lon, i.lat]},
                    properties: {id: i.id, kind: 'fault', label: '!', status: t('fault_indicator')}});
      }
    });
    OM.setData(MAP, 'points', {type: 'FeatureCollection', features: feats});
  }

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
      state.fault = null;  // a fresh choice: fit the map, forget the last fault's routes
      showFault(f);
      return loadDispatches(f.id, my, true);
    }).catch(function (err) { if (my === seq) { P.message('fault-messages', P.errorText(err), true); } });
  }

  function dispatchText(d) {
    var withStops = (d.routes || []).filter(function (r) { return (r.stops || []).length; }).length;
    return t('dispatch') + ' ' + d.id + ' · ' + t('status_' + d.status) + ' · ' + P.fmtTime(d.created_at) +
      (d.status === 'done' ? ' · ' + withStops + ' ' + t('routes_count') : '');
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
      reloadFault();  // the switching orders name the crews now routed to them
      return loadDispatches(d.fault_id, my, false);
    }).catch(function (err) {
      if (my !== seq) { return; }
      bar.hidden = true;
      P.message('fault-messages', P.errorText(err), true);
    });
  }

  /* Live crew positions: every crew's last reported position, re-read every 15 s. */
  function loadCrews() {
    return P.api('GET', P.API.crews).then(function (data) {
      state.crews = {};
      state.crewPoints = P.items(data).map(function (c) {
        state.crews[c.id] = c;
        if (!c.position) { return null; }
        return {type: 'Feature', geometry: {type: 'Point', coordinates: [c.position.lon, c.position.lat]},
                properties: {id: c.id, name: c.name, kind: 'crew', label: String(c.id).slice(0, 3),
                             status: t('crew_position_at') + ' ' + P.fmtTime(c.position.at)}};
      }).filter(Boolean);
      drawPoints();
    }).catch(function () { /* crews are optional on the map */ });
  }

  function startDispatch(body) {
    if (!state.faultId) { return; }
    var my = seq;
    P.message('fault-messages', t('loading'));
    P.api('POST', P.API.dispatches, body).then(function (started) {
      if (my !== seq) { return; }
      state.dispatchId = started.dispatch.id;
      return followRun(started.dispatch.id, started.run.id, my);
    }).catch(function (err) { if (my === seq) { P.message('fault-messages', P.errorText(err), true); } });
  }
  P.$('dispatch').addEventListener('click', function () { startDispatch({fault_id: state.faultId}); });
  /* A new fault arrived: route the crews again to every open fault's steps and repairs. */
  P.$('replan').addEventListener('click', function () { startDispatch({fault_id: state.faultId, open_faults: true}); });

  /* Each stop of a route with its ETA and the crew's progress (planned / arrived / done + times). */
  function renderStops(ol, stops) {
    P.clear(ol);
    (stops || []).forEach(function (s) {
      var status = s.status || 'planned';
      var li = P.el('li', 'route-stop stop-' + status);
      li.dataset.task = s.task_id;
      li.dataset.status = status;
      var name = s.name === 'repair' ? t('stop_repair') : (s.name || s.task_id);
      var text = name + ' · ' + t('eta') + ' ' + P.fmtTime(s.arrival) + ' · ' + t(status);
      if (s.arrived_at) { text += ' · ' + t('arrived_at') + ' ' + P.fmtTime(s.arrived_at); }
      if (s.done_at) { text += ' · ' + t('done_at') + ' ' + P.fmtTime(s.done_at); }
      li.appendChild(P.el('span', null, text));
      ol.appendChild(li);
    });
  }

  /* Only crews with stops get a route; the others are named as idle. */
  function showRoutes(d) {
    var feats = [];
    var rl = P.clear(P.$('routes'));
    var routes = d.routes || [];
    var busy = routes.filter(function (r) { return (r.stops || []).length; });
    var idle = d.idle_crews || routes.filter(function (r) { return !(r.stops || []).length; }).map(function (r) { return r.crew_id; });
    P.$('idle-crews').textContent = idle.length ? fmt('idle_crews', {n: idle.length, ids: idle.join(', ')}) : '';
    if (d.id && !busy.length) { rl.appendChild(P.el('li', 'pg-hint', t('no_routes'))); }
    busy.forEach(function (r) {
      if (r.geometry) { feats.push({type: 'Feature', geometry: r.geometry, properties: {crew: r.crew_id, distance_m: r.distance_m, time_s: r.duration_s}}); }
      var crew = state.crews[r.crew_id];
      var li = P.el('li', 'route');
      li.dataset.crew = r.crew_id;
      li.dataset.route = String(r.id);
      li.appendChild(P.el('strong', null, r.crew_id + (crew && crew.name ? ' (' + crew.name + ')' : '') + ': '));
      li.appendChild(P.el('span', 'route-summary', t('stop') + ': ' + (r.stops || []).length + ' · ' + duration(r.duration_s)));
      var ol = P.el('ol', 'route-stops');
      renderStops(ol, r.stops);
      li.appendChild(ol);
      var btn = button('send-crew', t('send_to_crew'));
      btn.addEventListener('click', function () { sendToCrew(r, li, btn); });
      li.appendChild(btn);
      rl.appendChild(li);
    });
    OM.setData(MAP, 'routes', {type: 'FeatureCollection', features: feats});
    var dl = P.clear(P.$('dropped'));
    (d.dropped || []).forEach(function (x) { dl.appendChild(P.el('li', null, x.task_id + ': ' + (x.reason || x.code || ''))); });
    document.dispatchEvent(new CustomEvent('dispatcher:routes', {detail: {dispatch: d}}));
  }

  /* Crews report arrived / done from their phones and move: re-read the dispatch (one request
   * for all its routes), the fault (timeline) and the crews' positions every 15 s while the page
   * is visible, and at once when it gets the focus back. */
  var refreshing = false;
  function refreshProgress() {
    if (refreshing || document.visibilityState === 'hidden') { return; }
    refreshing = true;
    var work = [loadCrews()];
    if (state.dispatch) {
      work.push(P.api('GET', P.API.dispatch(state.dispatch.id)).then(function (d) {
        state.dispatch = d;
        (d.routes || []).forEach(function (r) {
          var ol = document.querySelector('#routes li[data-route="' + String(Number(r.id)) + '"] ol.route-stops');
          if (ol) { renderStops(ol, r.stops); }
        });
      }));
    }
    if (state.fault) {
      var my = seq, version = state.fault.version;
      work.push(P.api('GET', P.API.fault(state.faultId)).then(function (f) {
        if (my !== seq || !state.fault) { return; }
        if (f.version !== version) { showFault(f); } else { state.fault.timeline = f.timeline; renderTimeline(f); }
      }));
    }
    Promise.all(work).catch(function () { /* the next poll tries again */ }).then(function () { refreshing = false; });
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
