/* Planner page: search, click equipment -> job (with zone preview), CSV upload, run a plan
 * with progress, outages on a timeline and on the map, load chart, metrics, exports.
 * After a reload the page shows the latest plan (a chooser lists the recent ones) and
 * follows a planning run that is still going with its progress bar. */
(function () {
  'use strict';
  var P = window.Pages, OM = window.OutageMap, t = P.t;
  var MAP = 'planner';
  var state = {jobs: [], plan: null, planId: null, outage: null, chart: null};
  window.PlannerState = state;

  /* -- search ------------------------------------------------------------------ */
  var searchTimer = null;
  P.$('search').addEventListener('input', function () {
    clearTimeout(searchTimer);
    searchTimer = setTimeout(function () {
      var list = P.clear(P.$('search-results'));
      var hits = OM.search(MAP, P.$('search').value, 15);
      if (!hits.length && P.$('search').value.trim()) { list.appendChild(P.el('li', 'pg-hint', t('no_results'))); }
      hits.forEach(function (h) {
        var li = P.el('li', null, (h.props.name || h.props.id) + ' (' + h.props.id + ')');
        li.addEventListener('click', function () {
          OM.focus(MAP, h);
          if (h.layerKey === 'equipment' || h.layerKey === 'switches' || h.layerKey === 'lines') { selectEquipment(h.props.id); }
        });
        list.appendChild(li);
      });
    }, 200);
  });

  /* -- new job from a map click ------------------------------------------------- */
  function isoLocal(d) {
    var p = function (n) { return ('0' + n).slice(-2); };
    return d.getFullYear() + '-' + p(d.getMonth() + 1) + '-' + p(d.getDate()) + 'T' + p(d.getHours()) + ':' + p(d.getMinutes());
  }
  (function defaults() {
    var e = new Date(); e.setDate(e.getDate() + 8); e.setHours(8, 0, 0, 0);
    var l = new Date(e.getTime()); l.setDate(l.getDate() + 14); l.setHours(18, 0, 0, 0);
    P.$('job-earliest').value = isoLocal(e);
    P.$('job-latest').value = isoLocal(l);
  })();

  function selectEquipment(id) {
    P.$('job-equipment').value = id;
    P.$('job-hint').textContent = '';
    P.$('zone-summary').textContent = t('loading');
    P.api('GET', P.config.data.zone + '?equipment=' + encodeURIComponent(id)).then(function (fc) {
      OM.setData(MAP, 'overlay', fc);
      P.$('zone-summary').textContent = fc.summary.dead_customers + ' ' + t('zone_customers') + ', ' +
        fc.summary.transferred_customers + ' ' + t('transferred_customers');
    }).catch(function (err) { P.$('zone-summary').textContent = P.errorText(err); });
  }
  document.addEventListener('outagemap:featureclick', function (e) {
    var d = e.detail;
    if (d.mapKey !== MAP) { return; }
    if (d.layerKey === 'equipment' || d.layerKey === 'switches' || d.layerKey === 'lines') {
      selectEquipment(d.feature.properties.id);
    }
  });

  function offsetIso(local) {
    // datetime-local has no zone: send it with the browser's offset (ISO 8601).
    var d = new Date(local);
    var off = -d.getTimezoneOffset();
    var sign = off >= 0 ? '+' : '-';
    var p = function (n) { return ('0' + Math.floor(Math.abs(n))).slice(-2); };
    return local + ':00' + sign + p(off / 60) + ':' + p(off % 60);
  }

  P.$('job-form').addEventListener('submit', function (ev) {
    ev.preventDefault();
    var body = {
      equipment: P.$('job-equipment').value.split(';').filter(Boolean),
      duration_min: parseInt(P.$('job-duration').value, 10),
      earliest: offsetIso(P.$('job-earliest').value),
      latest: offsetIso(P.$('job-latest').value),
      description: P.$('job-description').value
    };
    if (!body.equipment.length) { P.message('job-messages', t('select_equipment'), true); return; }
    P.api('POST', P.API.jobs, body).then(function (job) {
      P.message('job-messages', t('job_created') + ': ' + (job.id || ''));
      loadJobs();
    }).catch(function (err) { P.message('job-messages', P.errorText(err), true); });
  });

  P.$('csv-form').addEventListener('submit', function (ev) {
    ev.preventDefault();
    var f = P.$('csv-file').files[0];
    if (!f) { return; }
    var fd = new FormData();
    fd.append('file', f);
    P.api('POST', P.API.jobsImport, fd).then(function (res) {
      P.message('job-messages', (res.imported || 0) + ' ' + t('job_created'));
      loadJobs();
    }).catch(function (err) {
      P.message('job-messages', P.errorText(err), true);
      var rows = (err.details && err.details.rows) || [];
      var box = P.$('job-messages');
      rows.slice(0, 20).forEach(function (e) { box.appendChild(P.el('div', null, '#' + e.row + (e.field ? ' ' + e.field : '') + ': ' + e.message)); });
    });
  });

  /* Every open job, page by page (the API pages at 1000 at most): the list and the plan cover them all. */
  function fetchOpenJobs(offset, acc) {
    return P.api('GET', P.API.jobs + '?status=open&limit=1000&offset=' + offset).then(function (data) {
      var items = acc.concat(P.items(data));
      return items.length < (data.total || 0) && P.items(data).length ? fetchOpenJobs(offset + 1000, items) : items;
    });
  }
  function loadJobs() {
    return fetchOpenJobs(0, []).then(function (jobs) {
      state.jobs = jobs;
      P.$('jobs-count').textContent = jobs.length + ' ' + t('open_jobs');
      var list = P.clear(P.$('jobs'));
      state.jobs.forEach(function (j) {
        var eq = Array.isArray(j.equipment) ? j.equipment.join(';') : j.equipment;
        var li = P.el('li', null, (j.id || '') + ' · ' + eq + ' · ' + (j.duration_min || '') + ' min' + (j.description ? ' · ' + j.description : ''));
        li.dataset.jobId = j.id;
        li.addEventListener('click', function () { selectEquipment(eq); });
        list.appendChild(li);
      });
    }).catch(function (err) { P.message('job-messages', P.errorText(err), true); });
  }

  /* -- run a plan ---------------------------------------------------------------- */
  var planSeq = 0;  // bumped whenever the shown plan changes: answers for an earlier choice are dropped
  P.$('run-plan').addEventListener('click', function () {
    state.started = true;
    startProgress();
    // no job list: the server plans every open job (not only those a page of the list showed)
    P.api('POST', P.API.plans, {}).then(function (started) {
      return followRun(started.plan.id, started.run.id);
    }).catch(function (err) {
      P.$('plan-status').textContent = P.errorText(err);
    });
  });

  function startProgress() {
    P.$('plan-progress').hidden = false;
    P.$('plan-progress').value = 0;
    P.$('plan-status').textContent = t('plan_running');
  }

  /* Follow a planning run (started here, or found still going after a reload) to its plan. */
  function followRun(planId, runId) {
    startProgress();
    return P.waitRun(runId, function (progress, status) {
      P.$('plan-progress').value = progress;
      P.$('plan-status').textContent = t(status || 'running');
    }).then(function () {
      return openPlan(planId);
    }).then(function () {
      P.$('plan-progress').value = 1;
      P.$('plan-status').textContent = t('plan_done');
      loadJobs();
      loadPlans();
    }).catch(function (err) {
      P.$('plan-status').textContent = P.errorText(err);
      loadPlans();
    });
  }

  /* -- the recent plans (newest first): a chooser; the chosen plan is read in full ---- */
  function planText(p) {
    return t('plan') + ' ' + p.id + ' · ' + t('status_' + p.status) + ' · ' + P.fmtTime(p.created_at) +
      (p.status === 'done' ? ' · ' + (p.outages || []).length + ' ' + t('outages_count') : '');
  }
  function loadPlans() {
    return P.api('GET', P.API.recentPlans(20)).then(function (data) {
      var items = P.items(data);
      var sel = P.clear(P.$('plan-choice'));
      items.forEach(function (p) {
        var op = P.el('option', null, planText(p));
        op.value = String(p.id);
        op.dataset.status = p.status;
        sel.appendChild(op);
      });
      if (state.planId) { sel.value = String(state.planId); }
      P.$('plan-choice-label').hidden = !items.length;
      return items;
    }).catch(function (err) { P.message('job-messages', P.errorText(err), true); return []; });
  }
  function openPlan(id) {
    var my = ++planSeq;
    state.planId = id;
    P.$('plan-choice').value = String(id);
    return P.api('GET', P.API.plan(id)).then(function (plan) {
      if (my !== planSeq) { return; }
      state.plan = plan;
      showPlan();
    });
  }
  P.$('plan-choice').addEventListener('change', function () {
    var id = Number(this.value);
    if (id) { openPlan(id).catch(function (err) { P.message('job-messages', P.errorText(err), true); }); }
  });

  /* -- plan display ---------------------------------------------------------------- */
  /* The plan's outages: the core result (steps, zone, transfers) joined with the stored
   * outage (its database id, for exports) by core id. */
  function outagesOf(plan) {
    var core = (plan.result && plan.result.outages) || [];
    var byCore = {};
    (plan.outages || []).forEach(function (o) { byCore[o.core_id] = o; });
    return core.map(function (o) {
      var stored = byCore[o.id] || {};
      return Object.assign({}, o, {db_id: stored.id, label: o.id, status: stored.status, version: stored.version});
    });
  }

  function showPlan() {
    var plan = state.plan;
    P.$('plan-section').hidden = false;
    var tl = P.clear(P.$('timeline'));
    var outs = outagesOf(plan);
    state.outages = outs;
    var errs = P.clear(P.$('plan-errors'));
    // the reason in the page's language (by its code), the planner's own sentence beneath
    (plan.errors || []).forEach(function (e) {
      var li = P.el('li', null, (e.job ? e.job + ': ' : '') + (t('err_' + e.code) !== 'err_' + e.code ? t('err_' + e.code) : e.code));
      li.dataset.code = e.code;
      li.appendChild(P.el('div', 'pg-detail', e.message));
      errs.appendChild(li);
    });
    drawTimeline(tl, outs);
    var m = plan.metrics || (plan.result && plan.result.metrics) || {};
    var keys = ['outages', 'ci', 'cmi', 'ens_kwh', 'peak_hits', 'generator_hours'];
    P.table(P.$('metrics'), keys.map(function (k) {
      return {metric: t(k), plan: (m.plan || {})[k], baseline: (m.baseline || {})[k]};
    }), [{key: 'metric'}, {key: 'plan'}, {key: 'baseline'}]);
    var ex = P.clear(P.$('exports'));
    if (state.planId) {
      ['csv', 'xlsx', 'geojson'].forEach(function (fmt) {
        var a = P.el('a', 'export-plan-' + fmt, t('customers') + ' ' + fmt.toUpperCase());
        a.href = P.API.planExport(state.planId, fmt);
        a.setAttribute('download', '');
        ex.appendChild(a);
      });
    }
    if (outs.length) { showOutage(outs[0]); }
  }

  /* The outages on a day axis (the grid's days; the timeline scrolls sideways, DAY_PX per day),
     one row each: the bar spans the outage, its name beside it. */
  var DAY = 864e5, DAY_PX = 56, ROW = 18, AXIS = 18;
  function dayStart(iso) {  // local midnight of an ISO time with its offset (the grid's zone)
    var m = /^(\d{4}-\d{2}-\d{2})T.*?([+-]\d{2}:\d{2}|Z)$/.exec(iso);
    return m ? Date.parse(m[1] + 'T00:00:00' + m[2]) : Date.parse(iso);
  }
  function drawTimeline(tl, outs) {
    if (!outs.length) { tl.style.height = '24px'; return; }
    var d0 = Math.min.apply(null, outs.map(function (o) { return dayStart(o.start); }));
    var t1 = Math.max.apply(null, outs.map(function (o) { return Date.parse(o.end); }));
    var days = Math.max(1, Math.ceil((t1 - d0) / DAY));
    var inner = P.el('div', 'tl-inner');
    inner.style.width = (days * DAY_PX) + 'px';
    inner.style.height = (AXIS + outs.length * ROW + 4) + 'px';
    for (var k = 0; k < days; k++) {
      var tick = P.el('div', 'tl-day', P.fmtDay(d0 + k * DAY + DAY / 2));
      tick.style.left = (k * DAY_PX) + 'px';
      tick.style.width = DAY_PX + 'px';
      inner.appendChild(tick);
    }
    outs.forEach(function (o, i) {
      var x = (Date.parse(o.start) - d0) / DAY * DAY_PX;
      var w = Math.max(3, (Date.parse(o.end) - Date.parse(o.start)) / DAY * DAY_PX);
      var bar = P.el('div', 'bar');
      bar.style.left = x + 'px';
      bar.style.width = w + 'px';
      bar.style.top = (AXIS + 2 + i * ROW) + 'px';
      bar.title = o.label + ': ' + P.fmtTime(o.start) + ' – ' + P.fmtTime(o.end);
      bar.dataset.outageId = o.id;
      bar.addEventListener('click', function () { showOutage(o); });
      var name = P.el('span', 'tl-name', o.label);
      name.style.left = (x + w + 3) + 'px';
      name.style.top = bar.style.top;
      name.addEventListener('click', function () { showOutage(o); });
      inner.appendChild(bar);
      inner.appendChild(name);
    });
    tl.style.height = '';
    tl.appendChild(inner);
  }

  /* Switch states during the work: every switch operated in the transfer and isolate phases. */
  function stepsOf(o) {
    var open = [], close = [];
    (o.switching_steps || []).forEach(function (s) {
      if (s.phase !== 'transfer' && s.phase !== 'isolate') { return; }
      var sw = s.device;
      if (!sw) { return; }
      if (s.action === 'open') { close = close.filter(function (x) { return x !== sw; }); if (open.indexOf(sw) < 0) { open.push(sw); } }
      if (s.action === 'close') { open = open.filter(function (x) { return x !== sw; }); if (close.indexOf(sw) < 0) { close.push(sw); } }
    });
    return {open: open, close: close};
  }

  function showOutage(o) {
    state.outage = o;
    Array.prototype.forEach.call(document.querySelectorAll('#timeline .bar'), function (b) { b.classList.toggle('active', b.dataset.outageId === o.id); });
    var st = stepsOf(o);
    var work = (o.zone && o.zone.work_nodes) || [];
    // a stored outage: its switching state and the customers stored with it (one source of truth)
    var draw = o.db_id !== undefined ? P.api('GET', P.API.outageMap(o.db_id)).then(function (fc) { OM.setData(MAP, 'overlay', fc); return fc; }) :
      st.open.length ? P.showState(MAP, st.open, st.close, work) :
      P.api('GET', P.config.data.zone + '?equipment=' + encodeURIComponent((o.equipment || []).join(','))).then(function (fc) { OM.setData(MAP, 'overlay', fc); return fc; });
    draw.then(function () { P.fitOverlay(MAP); }).catch(function (err) { P.message('job-messages', P.errorText(err), true); });
    // generator trucks stand at the customer they feed
    OM.setData(MAP, 'points', {type: 'FeatureCollection', features: (o.generators || []).map(function (g) {
      var ll = OM.customerLatLng(MAP, g.customer);
      return ll && {type: 'Feature', geometry: {type: 'Point', coordinates: [ll[1], ll[0]]}, properties: {id: g.generator, name: g.name, kind: 'generator', kw: g.kw, label: 'G'}};
    }).filter(Boolean)});
    var d = P.clear(P.$('outage-detail'));
    d.appendChild(P.el('h3', null, t('outage') + ' ' + o.label));
    d.appendChild(P.el('div', null, t('start') + ': ' + P.fmtTime(o.start) + ' · ' + t('end') + ': ' + P.fmtTime(o.end)));
    d.appendChild(P.el('div', null, (o.customers || []).length + ' ' + t('zone_customers') + ' · ' + (o.transfers || []).length + ' ' + t('transferred') + ' · ' + (o.generators || []).length + ' ' + t('generator')));
    var ex = P.el('div', 'pg-exports');
    if (o.db_id !== undefined) {
      ['csv', 'xlsx', 'geojson'].forEach(function (fmt) {
        var a = P.el('a', 'export-outage-' + fmt, t('outage') + ' ' + fmt.toUpperCase());
        a.href = P.API.outageExport(o.db_id, fmt);
        a.setAttribute('download', '');
        ex.appendChild(a);
      });
    }
    d.appendChild(ex);
    if (o.db_id !== undefined) { d.appendChild(statusActions(o)); }
    loadChart(o);
  }

  /* The outage's workflow (review, approve, publish, cancel, executed) and its status history:
     outage-workflow.js; the stored status and version come back from the API. */
  function statusActions(o) {
    var box = P.el('div', 'pg-actions');
    window.OutageWorkflow.render(o, box, function (stored) { o.status = stored.status; o.version = stored.version; });
    return box;
  }

  /* Important customers' load over the outage day, with the window shaded. */
  var importantIds = null;
  function importantSet() {
    if (importantIds) { return importantIds; }
    var ids = {};
    var layer = OM.layer(MAP, 'important');
    var feats = (layer && layer._omFeatures) || [];
    feats.forEach(function (f) { ids[f.properties.id] = f.properties.importance; });
    if (feats.length) { importantIds = ids; }
    return ids;
  }
  function loadChart(o) {
    var imp = importantSet();
    var ids = (o.customers || []).filter(function (c) { return imp[c]; }).slice(0, 8);
    var canvas = P.$('load-chart');
    if (state.chart) { state.chart.destroy(); state.chart = null; }
    if (!ids.length || !window.Chart) { canvas.hidden = true; return; }
    var day = String(o.start).slice(0, 10);
    P.api('GET', P.config.data.load + '?customers=' + encodeURIComponent(ids.join(',')) + '&date=' + day).then(function (data) {
      canvas.hidden = false;
      var labels = data.times.map(function (x) { return x.slice(11, 16); });
      var s = Date.parse(o.start), e = Date.parse(o.end);
      var inWin = data.times.map(function (x) { var tt = Date.parse(x); return tt >= s && tt < e; });
      var max = 0;
      data.series.forEach(function (sr) { sr.kw.forEach(function (v) { max = Math.max(max, v); }); });
      var datasets = data.series.map(function (sr) {
        return {type: 'line', label: sr.name + ' (' + t(sr.importance) + ')', data: sr.kw, borderColor: OM.IMPORTANCE_COLORS[sr.importance] || '#333', pointRadius: 0, borderWidth: 2};
      });
      datasets.push({type: 'bar', label: t('window'), data: inWin.map(function (w) { return w ? max * 1.05 : null; }), backgroundColor: 'rgba(208,0,0,0.15)', barPercentage: 1, categoryPercentage: 1});
      state.chart = new window.Chart(canvas, {data: {labels: labels, datasets: datasets}, options: {animation: false, responsive: true, plugins: {legend: {labels: {boxWidth: 10}}}, scales: {y: {title: {display: true, text: t('load_kw')}}, x: {ticks: {maxTicksLimit: 12}}}}});
    }).catch(function () { canvas.hidden = true; });
  }

  loadJobs();
  // after a reload: the latest finished plan, and the progress of a run still going
  loadPlans().then(function (plans) {
    if (planSeq !== 0 || state.planId || state.started) { return; }
    var going = plans.filter(function (p) { return (p.status === 'queued' || p.status === 'running') && p.run_id; })[0];
    var done = plans.filter(function (p) { return p.status === 'done'; })[0];
    if (done) { openPlan(done.id).catch(function (err) { P.message('job-messages', P.errorText(err), true); }); }
    if (going) { followRun(going.id, going.run_id); }
  });
})();
