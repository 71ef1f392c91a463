/* Planner page: search, click equipment -> job (with zone preview), CSV upload, the open jobs
 * a page at a time (filtered and sorted by the server), run a plan on every job of the filter
 * with progress, outages on a Gantt timeline (a row per feeder or per crew, zoom) and on the map,
 * each outage's reasoning (switching sheet, why this window, merges, transfers and generators
 * with their loading, customers by importance), load chart, metrics with what they mean, exports.
 * After a reload the page shows the latest plan (a chooser lists the recent ones) and
 * follows a planning run that is still going with its progress bar.
 * Other scripts add to an outage's detail on the event "planner:outage" (detail: {outage, actions}). */
(function () {
  'use strict';
  var P = window.Pages, OM = window.OutageMap, t = P.t;
  var MAP = 'planner';
  var state = {jobs: [], plan: null, planId: null, outage: null, chart: null};
  window.PlannerState = state;
  // the page's own strings (planner.html) next to the shared ones
  var own = JSON.parse(P.$('planner-labels').textContent || '{}');
  var settings = {noticeLeadDays: Number(own.notice_lead_days) || 7, now: own.planning_now || null};
  delete own.notice_lead_days;
  delete own.planning_now;
  Object.assign(P.config.labels, own);
  /* A label with {name} placeholders filled in. */
  function fmt(text, vars) {
    return String(text).replace(/\{(\w+)\}/g, function (m, k) { return Object.prototype.hasOwnProperty.call(vars, k) ? String(vars[k]) : m; });
  }

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
    // the service's planning time (pinned for demos), and the notice lead plus a day
    var e = settings.now ? new Date(Date.parse(settings.now)) : new Date();
    e.setDate(e.getDate() + Math.ceil(settings.noticeLeadDays) + 1); e.setHours(8, 0, 0, 0);
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
    }).catch(function (err) {
      // a refused job: the reason by its code in the page's language, the server's sentence after it
      var known = err && err.code && t('err_' + err.code) !== 'err_' + err.code;
      P.message('job-messages', known ? t('err_' + err.code) + ' — ' + P.errorText(err) : P.errorText(err), true);
    });
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

  /* -- the job list: a page at a time from the server, filtered and sorted there ------- */
  var JOB_PAGE = 50;
  state.jobQuery = {q: '', sort: 'newest', offset: 0};
  function jobsUrl(limit, offset) {
    var q = state.jobQuery;
    return P.API.jobs + '?status=open&limit=' + limit + '&offset=' + offset + '&sort=' + encodeURIComponent(q.sort) +
      (q.q ? '&q=' + encodeURIComponent(q.q) : '');
  }
  /* Every open job of the current filter, page by page (the API pages at 1000 at most). */
  function fetchFilteredJobs(offset, acc) {
    return P.api('GET', jobsUrl(1000, offset)).then(function (data) {
      var items = acc.concat(P.items(data));
      return items.length < (data.total || 0) && P.items(data).length ? fetchFilteredJobs(offset + 1000, items) : items;
    });
  }
  var jobsSeq = 0;
  function loadJobs() {
    var my = ++jobsSeq;
    var q = state.jobQuery;
    return P.api('GET', jobsUrl(JOB_PAGE, q.offset)).then(function (data) {
      if (my !== jobsSeq) { return; }
      var total = data.total || 0;
      if (q.offset && q.offset >= total) { q.offset = Math.max(0, Math.floor((total - 1) / JOB_PAGE) * JOB_PAGE); return loadJobs(); }
      state.jobs = P.items(data);
      state.jobsTotal = total;
      P.$('jobs-count').textContent = total + ' ' + t('open_jobs');
      P.$('jobs-page').textContent = total ? fmt(t('jobs_range'), {from: q.offset + 1, to: q.offset + state.jobs.length, total: total}) : t('no_jobs_match');
      P.$('jobs-prev').disabled = q.offset <= 0;
      P.$('jobs-next').disabled = q.offset + state.jobs.length >= total;
      P.$('run-plan-scope').textContent = fmt(t(q.q ? 'run_scope_filter' : 'run_scope_all'), {n: total});
      P.$('run-plan').disabled = !total;
      var list = P.clear(P.$('jobs'));
      state.jobs.forEach(function (j) {
        var eq = Array.isArray(j.equipment) ? j.equipment.join(';') : j.equipment;
        var li = P.el('li', null, (j.id || '') + ' · ' + eq + ' · ' + (j.duration_min || '') + ' min' +
          (j.crew ? ' · ' + j.crew : '') + ' · ' + P.fmtTime(j.earliest) + ' – ' + P.fmtTime(j.latest) + (j.description ? ' · ' + j.description : ''));
        li.dataset.jobId = j.id;
        li.addEventListener('click', function () { selectEquipment(eq); });
        list.appendChild(li);
      });
    }).catch(function (err) { P.message('job-messages', P.errorText(err), true); });
  }
  var filterTimer = null;
  P.$('jobs-q').addEventListener('input', function () {
    clearTimeout(filterTimer);
    filterTimer = setTimeout(function () { state.jobQuery.q = P.$('jobs-q').value.trim(); state.jobQuery.offset = 0; loadJobs(); }, 250);
  });
  P.$('jobs-filter').addEventListener('submit', function (ev) { ev.preventDefault(); });
  P.$('jobs-sort').addEventListener('change', function () { state.jobQuery.sort = this.value; state.jobQuery.offset = 0; loadJobs(); });
  P.$('jobs-prev').addEventListener('click', function () { state.jobQuery.offset = Math.max(0, state.jobQuery.offset - JOB_PAGE); loadJobs(); });
  P.$('jobs-next').addEventListener('click', function () { state.jobQuery.offset += JOB_PAGE; loadJobs(); });

  /* -- run a plan ---------------------------------------------------------------- */
  var planSeq = 0;  // bumped whenever the shown plan changes: answers for an earlier choice are dropped
  /* Run plan: without a filter the server plans every open job (no list sent: nothing depends on
     what a page shows); with one, every open job of the filter, read from the server page by page. */
  P.$('run-plan').addEventListener('click', function () {
    state.started = true;
    startProgress();
    var chosen = state.jobQuery.q ? fetchFilteredJobs(0, []).then(function (jobs) {
      if (!jobs.length) { throw {message: t('no_jobs_match')}; }
      return {job_ids: jobs.map(function (j) { return j.id; })};
    }) : Promise.resolve({});
    chosen.then(function (body) { return P.api('POST', P.API.plans, body); }).then(function (started) {
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

  var METRICS = ['outages', 'ci', 'cmi', 'ens_kwh', 'peak_hits', 'generator_hours'];
  function showPlan() {
    var plan = state.plan;
    P.$('plan-section').hidden = false;
    if (!state.wideChosen && window.innerWidth >= 1280) { state.wideChosen = true; setWide(true); }
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
    state.crews = {};
    state.dayPx = null;  // each plan first shown whole
    drawTimeline();
    loadPlanCrews(state.planId);
    var m = plan.metrics || (plan.result && plan.result.metrics) || {};
    P.table(P.$('metrics'), METRICS.map(function (k) {
      return {metric: t(k), plan: (m.plan || {})[k], baseline: (m.baseline || {})[k],
              placed: (m.baseline_planned_jobs || {})[k], help: t('help_' + k)};
    }), [{key: 'metric'}, {key: 'plan'}, {key: 'baseline'}, {key: 'placed', label: t('baseline_placed')}, {key: 'help', label: t('metric_help')}]);
    var ex = P.clear(P.$('exports'));
    if (state.planId) {
      ['csv', 'xlsx', 'geojson'].forEach(function (fmtName) {
        var a = P.el('a', 'export-plan-' + fmtName, t('customers') + ' ' + fmtName.toUpperCase());
        a.href = P.API.planExport(state.planId, fmtName);
        a.setAttribute('download', '');
        ex.appendChild(a);
      });
      var wb = P.el('a', 'export-plan-workbook', t('plan_workbook'));
      wb.href = '/api/plans/' + encodeURIComponent(state.planId) + '/workbook';
      wb.setAttribute('download', '');
      ex.appendChild(wb);
    }
    if (outs.length) { showOutage(outs[0]); }
  }

  /* The crews of the plan's jobs (for the per-crew rows), every page of GET /api/jobs?plan=. */
  function loadPlanCrews(planId) {
    if (!planId) { return; }
    (function page(offset) {
      P.api('GET', P.API.jobs + '?plan=' + encodeURIComponent(planId) + '&limit=1000&offset=' + offset).then(function (data) {
        if (state.planId !== planId) { return; }
        P.items(data).forEach(function (j) { state.crews[j.id] = j.crew || ''; });
        if (offset + P.items(data).length < (data.total || 0) && P.items(data).length) { page(offset + 1000); }
        else if (state.tlRows === 'crew') { drawTimeline(); }
      }).catch(function (err) { P.message('job-messages', P.errorText(err), true); });
    })(0);
  }

  /* -- the Gantt timeline: a row per feeder (the ones an outage de-energises, and in a lighter
     bar those receiving its transfers) or per crew, days (and hours when zoomed in) in the grid's
     calendar; zoom changes the pixels per day. Labels stay at the left while it scrolls. */
  var DAY = 864e5, HOUR = 36e5, ROW = 20, LABEL = 96;
  var ZOOMS = [8, 12, 16, 20, 24, 32, 40, 56, 80, 120, 160, 240, 320, 480, 960];
  state.tlRows = 'feeder';
  state.dayPx = null;
  function dayStart(iso) {  // local midnight of an ISO time with its offset (the grid's zone)
    var m = /^(\d{4}-\d{2}-\d{2})T.*?([+-]\d{2}:\d{2}|Z)$/.exec(iso);
    return m ? Date.parse(m[1] + 'T00:00:00' + m[2]) : Date.parse(iso);
  }
  function feedersOf(o) {
    var own = ((o.zone && o.zone.feeders) || []).map(String);
    var recv = (o.transfers || []).map(function (x) { return String(x.to_feeder); }).filter(function (f) { return own.indexOf(f) < 0; });
    return {own: own, recv: recv.filter(function (f, i) { return recv.indexOf(f) === i; })};
  }
  function crewsOf(o) {
    var crews = (o.jobs || []).map(function (j) { return state.crews[j]; }).filter(Boolean);
    crews = crews.filter(function (c, i) { return crews.indexOf(c) === i; });
    return crews.length ? crews : [t('tl_no_crew')];
  }
  /* Rows: [{key, bars: [{o, recv}]}], sorted by name (the "no crew" row last). */
  function timelineRows(outs) {
    var rows = {};
    function add(key, o, recv) { (rows[key] = rows[key] || []).push({o: o, recv: recv}); }
    outs.forEach(function (o) {
      if (state.tlRows === 'crew') { crewsOf(o).forEach(function (c) { add(c, o, false); }); return; }
      var f = feedersOf(o);
      if (!f.own.length && !f.recv.length) { add('—', o, false); }
      f.own.forEach(function (k) { add(k, o, false); });
      f.recv.forEach(function (k) { add(k, o, true); });
    });
    var none = t('tl_no_crew');
    return Object.keys(rows).sort(function (a, b) {
      if (a === none || b === none) { return a === none ? 1 : -1; }
      return a.localeCompare(b, undefined, {numeric: true});
    }).map(function (k) { return {key: k, bars: rows[k]}; });
  }
  function drawTimeline() {
    var tl = P.clear(P.$('timeline'));
    var outs = state.outages || [];
    if (!outs.length) { tl.style.height = '24px'; return; }
    var d0 = Math.min.apply(null, outs.map(function (o) { return dayStart(o.start); }));
    var t1 = Math.max.apply(null, outs.map(function (o) { return Date.parse(o.end); }));
    var days = Math.max(1, Math.ceil((t1 - d0) / DAY));
    if (!state.dayPx) {  // first drawing: the largest zoom that shows the whole span
      var room = Math.max(200, (tl.clientWidth || 360) - LABEL - 4);
      state.dayPx = ZOOMS.filter(function (z) { return z * days <= room; }).pop() || ZOOMS[1];
    }
    var px = state.dayPx, width = days * px;
    state.tlSpan = {d0: d0, days: days};
    P.$('tl-zoom-label').textContent = fmt(t('tl_zoom'), {px: px});
    P.$('tl-zoom-in').disabled = px >= ZOOMS[ZOOMS.length - 1];
    P.$('tl-zoom-out').disabled = px <= ZOOMS[0];
    var inner = P.el('div', 'tl-inner');
    inner.style.width = (LABEL + width) + 'px';
    // the axis: a tick per day, hours when a day is wide enough
    var axis = P.el('div', 'tl-row tl-axis');
    axis.appendChild(P.el('div', 'tl-row-label', state.tlRows === 'crew' ? t('crew') : t('feeder')));
    var track = P.el('div', 'tl-track');
    track.style.width = width + 'px';
    var step = px >= 960 ? 1 : px >= 480 ? 3 : px >= 240 ? 6 : px >= 160 ? 12 : 24;
    var every = Math.max(1, Math.ceil(44 / px));  // a day's name where it has room (every n-th day)
    for (var k = 0; k < days; k++) {
      var tick = P.el('div', 'tl-day', k % every ? '' : P.fmtDay(d0 + k * DAY + DAY / 2));
      tick.style.left = (k * px) + 'px';
      tick.style.width = (step < 24 ? Math.min(px, 60) : px * every) + 'px';
      track.appendChild(tick);
      for (var h = step; step < 24 && h < 24; h += step) {
        var ht = P.el('div', 'tl-hour', ('0' + h).slice(-2));
        ht.style.left = (k * px + h * px / 24) + 'px';
        track.appendChild(ht);
      }
    }
    axis.appendChild(track);
    inner.appendChild(axis);
    timelineRows(outs).forEach(function (row) {
      var r = P.el('div', 'tl-row');
      r.dataset.row = row.key;
      var label = P.el('div', 'tl-row-label', row.key);
      label.title = row.key;
      r.appendChild(label);
      var tr = P.el('div', 'tl-track');
      tr.style.width = width + 'px';
      for (var k = 1; k < days; k++) {
        var line = P.el('div', 'tl-grid');
        line.style.left = (k * px) + 'px';
        tr.appendChild(line);
      }
      row.bars.forEach(function (b) {
        var o = b.o;
        var x = (Date.parse(o.start) - d0) / DAY * px;
        var w = Math.max(3, (Date.parse(o.end) - Date.parse(o.start)) / DAY * px);
        var bar = P.el('div', 'bar' + (b.recv ? ' recv' : '') + (o.valid === false ? ' invalid' : ''), w >= 34 ? o.label : '');
        bar.style.left = x + 'px';
        bar.style.width = w + 'px';
        bar.title = o.label + ': ' + P.fmtTime(o.start) + ' – ' + P.fmtTime(o.end) + ' · ' + (o.jobs || []).join(', ') +
          (b.recv ? ' · ' + t('transferred') : '');
        bar.dataset.outageId = o.id;
        bar.classList.toggle('active', !!(state.outage && state.outage.id === o.id));
        bar.addEventListener('click', function () { showOutage(o); });
        tr.appendChild(bar);
      });
      r.appendChild(tr);
      inner.appendChild(r);
    });
    tl.style.height = '';
    tl.appendChild(inner);
  }
  function zoom(dir) {
    var i = ZOOMS.indexOf(state.dayPx);
    var next = ZOOMS[Math.min(ZOOMS.length - 1, Math.max(0, (i < 0 ? 3 : i) + dir))];
    if (next === state.dayPx) { return; }
    // keep the time at the middle of the view where it was
    var tl = P.$('timeline');
    var mid = (tl.scrollLeft + (tl.clientWidth - LABEL) / 2) / state.dayPx;
    state.dayPx = next;
    drawTimeline();
    tl.scrollLeft = Math.max(0, mid * next - (tl.clientWidth - LABEL) / 2);
  }
  P.$('tl-zoom-in').addEventListener('click', function () { zoom(1); });
  P.$('tl-zoom-out').addEventListener('click', function () { zoom(-1); });
  Array.prototype.forEach.call(document.querySelectorAll('input[name=tl-rows]'), function (r) {
    r.addEventListener('change', function () { if (this.checked) { state.tlRows = this.value; drawTimeline(); } });
  });
  /* The wide panel: the outage's tables beside a narrower map (on by itself on a wide screen
     the first time a plan is shown; the button toggles it). */
  function setWide(wide) {
    var box = document.querySelector('.pg');
    if (!box || box.classList.contains('pl-wide') === wide) { return; }
    box.classList.toggle('pl-wide', wide);
    P.$('wide-toggle').setAttribute('aria-pressed', String(wide));
    P.$('wide-toggle').textContent = t(wide ? 'wide_on' : 'wide_off');
    var m = OM.maps[MAP];
    if (m) { setTimeout(function () { m.map.invalidateSize(); }, 50); }
    if (state.outages) { drawTimeline(); }
  }
  P.$('wide-toggle').addEventListener('click', function () { state.wideChosen = true; setWide(!document.querySelector('.pg').classList.contains('pl-wide')); });

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

  /* A folding section of the outage detail. */
  function section(id, title, open) {
    var d = P.el('details', 'pl-sec');
    d.id = id;
    d.open = open !== false;
    d.appendChild(P.el('summary', null, title));
    return d;
  }
  function pct(v) { return v === null || v === undefined ? '' : Number(v).toFixed(1) + ' %'; }
  function loadingCell(v) {
    var span = P.el('span', 'pl-load' + (v >= 90 ? ' pl-hot' : ''), pct(v));
    return span;
  }
  function loadingOf(kw, limit) { return kw !== undefined && limit ? 100 * kw / limit : null; }

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
    d.dataset.outageId = o.id;
    d.appendChild(P.el('h3', null, t('outage') + ' ' + o.label));
    d.appendChild(P.el('div', null, t('start') + ': ' + P.fmtTime(o.start) + ' · ' + t('end') + ': ' + P.fmtTime(o.end) +
      ' · ' + t('duration') + ': ' + (o.duration_min || '') + ' ' + t('minutes')));
    d.appendChild(P.el('div', null, t('jobs_label') + ': ' + (o.jobs || []).join(', ') + ' · ' + t('feeders_label') + ': ' + feedersOf(o).own.join(', ')));
    d.appendChild(P.el('div', null, (o.customers || []).length + ' ' + t('zone_customers') + ' · ' + (o.transfers || []).length + ' ' + t('transferred') + ' · ' + (o.generators || []).length + ' ' + t('generator')));
    var ex = P.el('div', 'pg-exports');
    if (o.db_id !== undefined) {
      ['csv', 'xlsx', 'geojson'].forEach(function (fmtName) {
        var a = P.el('a', 'export-outage-' + fmtName, t('outage') + ' ' + fmtName.toUpperCase());
        a.href = P.API.outageExport(o.db_id, fmtName);
        a.setAttribute('download', '');
        ex.appendChild(a);
      });
      var sheetUrl = '/api/outages/' + encodeURIComponent(o.db_id) + '/sheet?lang=' + encodeURIComponent(P.config.locale || 'en');
      var pr = P.el('a', 'export-sheet-html', t('sheet_print'));
      pr.href = sheetUrl;
      pr.target = '_blank';
      pr.rel = 'noopener';
      ex.appendChild(pr);
      var xl = P.el('a', 'export-sheet-xlsx', t('sheet_xlsx'));
      xl.href = sheetUrl + '&format=xlsx';
      xl.setAttribute('download', '');
      ex.appendChild(xl);
    }
    d.appendChild(ex);
    var actions = o.db_id !== undefined ? statusActions(o) : null;
    if (actions) { d.appendChild(actions); }
    d.appendChild(sheetSection(o));
    d.appendChild(windowSection(o));
    d.appendChild(mergeSection(o));
    d.appendChild(transferSection(o));
    d.appendChild(generatorSection(o));
    d.appendChild(customerSection(o));
    d.appendChild(impactSection(o));
    document.dispatchEvent(new CustomEvent('planner:outage', {detail: {outage: o, actions: actions, detail: d}}));
    loadChart(o);
  }

  /* The switching sheet as the crew and dispatcher sign it (the server's, in the page's language). */
  function sheetSection(o) {
    var sec = section('outage-sheet-section', t('sec_sheet'));
    if (o.valid === false) { sec.appendChild(P.el('p', 'pg-msg error', t('sheet_invalid'))); }
    var table = P.el('table', 'pg-table pl-sheet');
    table.id = 'outage-sheet';
    sec.appendChild(table);
    if (o.db_id === undefined) { return sec; }
    var my = o;
    P.api('GET', '/api/outages/' + encodeURIComponent(o.db_id) + '/sheet?format=json&lang=' + encodeURIComponent(P.config.locale || 'en')).then(function (sheet) {
      if (state.outage !== my) { return; }
      var keys = ['seq', 'at', 'phase', 'device', 'location', 'operation', 'who', 'why'];
      P.table(table, sheet.rows, keys.map(function (k, i) { return {key: k, label: sheet.columns[i]}; }));
      Array.prototype.forEach.call(table.querySelectorAll('tbody tr'), function (tr, i) {
        var row = sheet.rows[i];
        tr.dataset.seq = row.seq;
        tr.className = 'pl-step-' + (o.switching_steps[i] || {}).action;
      });
    }).catch(function (err) { sec.appendChild(P.el('p', 'pg-msg error', P.errorText(err))); });
    return sec;
  }

  /* Why this window: the chosen start, what the rules rejected, the next-best starts and what took them. */
  function windowSection(o) {
    var w = o.window || {};
    var sec = section('outage-window', t('sec_window'));
    var chosen = w.chosen || {};
    sec.appendChild(P.el('p', 'pl-window-chosen', t('window_chosen') + ': ' + P.fmtTime(chosen.start || o.start) + ' · ' +
      t('window_cost') + ' ' + (chosen.cost !== undefined ? chosen.cost : '') + ' · ' + t('window_cm') + ' ' + (chosen.customer_minutes !== undefined ? chosen.customer_minutes : '')));
    sec.appendChild(P.el('p', null, t('window_allowed') + ': ' + P.fmtTime(w.earliest_start) + ' – ' + P.fmtTime(w.latest_start) + ' · ' +
      fmt(t('window_feasible'), {n: w.feasible_starts || 0})));
    var rejected = w.rejected_starts || {};
    var rk = Object.keys(rejected).filter(function (k) { return rejected[k]; });
    if (rk.length) {
      sec.appendChild(P.el('p', null, t('window_rejected') + ': ' + rk.map(function (k) {
        return rejected[k] + ' ' + (t('rej_' + k) !== 'rej_' + k ? t('rej_' + k) : k.replace(/_/g, ' '));
      }).join(' · ')));
    }
    var next = w.next_best || [];
    var cheaper = next.filter(function (a) { return chosen.cost !== undefined && a.cost < chosen.cost; }).length;
    sec.appendChild(P.el('p', 'pl-window-verdict', /cheapest/.test(w.explanation || '') || !cheaper ? t('window_cheapest') :
      fmt(t('window_cheaper_blocked'), {n: (/(\d+) cheaper/.exec(w.explanation || '') || [0, cheaper])[1]})));
    if (next.length) {
      var table = P.el('table', 'pg-table');
      P.table(table, next, [
        {key: 'start', label: t('window_next_best'), format: function (v) { return P.fmtTime(v); }},
        {key: 'cost', label: t('window_cost')}, {key: 'customer_minutes', label: t('window_cm')},
        {key: 'blocked_by', label: t('window_blocked_by'), format: function (v) { return v && v.length ? v.join(', ') : t('window_free'); }}]);
      sec.appendChild(table);
    }
    // the planner's own sentence (English); the lines above say the same in the page's language
    if (w.explanation && (P.config.locale || 'en') === 'en') { sec.appendChild(P.el('p', 'pg-detail pl-explanation', w.explanation)); }
    return sec;
  }

  var MERGE_REASONS = [
    [/^the job windows share no slot/, 'merge_no_slot'], [/^the union of the zones cannot be isolated/, 'merge_no_isolation'],
    [/^no common start fits/, 'merge_no_start'], [/^merging would de-energise more/, 'merge_costlier'],
    [/^with the power flow of its transfers checked/, 'merge_flow'], [/^merging with outage of .* saves more/, 'merge_other']];
  function mergeReason(c) {
    if (c.decision === 'merged') {
      return fmt(t('merge_saves'), {n: Math.round((c.apart_customer_minutes || 0) - (c.merged_customer_minutes || 0))});
    }
    var hit = MERGE_REASONS.filter(function (r) { return r[0].test(c.reason || ''); })[0];
    return hit ? t(hit[1]) : (c.reason || '');
  }
  function mergeSection(o) {
    var sec = section('outage-merge', t('sec_merge'), !!(o.merge || []).length);
    if (!(o.merge || []).length) { sec.appendChild(P.el('p', 'pg-hint', t('merge_none'))); return sec; }
    var table = P.el('table', 'pg-table');
    P.table(table, o.merge, [
      {key: 'jobs', label: t('jobs_label'), format: function (v) { return (v || []).join(' + '); }},
      {key: 'apart_customer_minutes', label: t('merge_apart')}, {key: 'merged_customer_minutes', label: t('merge_merged')},
      {key: 'decision', label: t('merge_decision'), format: function (v) { return t('decision_' + v); }},
      {key: 'reason', label: t('merge_reason'), format: function (v, row) { return mergeReason(row); }}]);
    sec.appendChild(table);
    return sec;
  }

  function transferSection(o) {
    var sec = section('outage-transfers', t('sec_transfers'), !!(o.transfers || []).length);
    if (!(o.transfers || []).length) { sec.appendChild(P.el('p', 'pg-hint', t('transfers_none'))); }
    else {
      var table = P.el('table', 'pg-table');
      P.table(table, o.transfers, [
        {key: 'tie', label: t('tie')},
        {key: 'to_feeder', label: t('from_to'), format: function (v, r) { return r.from_feeder + ' → ' + v; }},
        {key: 'mode', label: t('mode'), format: function (v) { return t('mode_' + v); }},
        {key: 'customers', label: t('customers'), format: function (v) { return (v || []).length; }},
        {key: 'receiving_peak_kw', label: t('receiving'), format: function (v, r) { return v + ' / ' + r.receiving_limit_kw; }},
        {key: 'receiving_limit_kw', label: t('loading'), format: function (v, r) { return pct(loadingOf(r.receiving_peak_kw, v)); }}]);
      Array.prototype.forEach.call(table.querySelectorAll('tbody tr'), function (tr, i) {
        var r = o.transfers[i];
        var cell = tr.lastChild;
        P.clear(cell).appendChild(loadingCell(loadingOf(r.receiving_peak_kw, r.receiving_limit_kw)));
      });
      sec.appendChild(table);
    }
    var rejected = (o.zone && o.zone.transfer_rejected) || [];
    if (rejected.length) {
      sec.appendChild(P.el('p', 'pl-sub', t('transfer_rejected')));
      var rt = P.el('table', 'pg-table');
      P.table(rt, rejected, [{key: 'tie', label: t('tie')}, {key: 'to_feeder', label: t('feeder')},
        {key: 'customers', label: t('customers')}, {key: 'reason', label: t('merge_reason')}]);
      sec.appendChild(rt);
    }
    return sec;
  }

  function generatorSection(o) {
    var gens = o.generators || [], unmet = o.unmet_generator_needs || [];
    var sec = section('outage-generators', t('sec_generators'), !!(gens.length || unmet.length));
    if (!gens.length) { sec.appendChild(P.el('p', 'pg-hint', t('generators_none'))); }
    else {
      var table = P.el('table', 'pg-table');
      P.table(table, gens, [
        {key: 'name', label: t('truck'), format: function (v, r) { return (v || r.generator) + ' (' + r.generator + ')'; }},
        {key: 'customer', label: t('customer')}, {key: 'importance', label: t('importance'), format: function (v) { return t(v); }},
        {key: 'peak_kw', label: t('peak_kw')}, {key: 'kw', label: t('truck_kw')},
        {key: 'hours', label: t('loading'), format: function (v, r) { return pct(loadingOf(r.peak_kw, r.kw)); }},
        {key: 'hours', label: t('hours')}]);
      Array.prototype.forEach.call(table.querySelectorAll('tbody tr'), function (tr, i) {
        var g = gens[i];
        P.clear(tr.children[5]).appendChild(loadingCell(loadingOf(g.peak_kw, g.kw)));
      });
      sec.appendChild(table);
    }
    if (unmet.length) {
      sec.appendChild(P.el('p', 'pl-sub', t('unmet')));
      var ut = P.el('table', 'pg-table');
      P.table(ut, unmet, [{key: 'customer', label: t('customer')}, {key: 'importance', label: t('importance'), format: function (v) { return t(v); }},
        {key: 'peak_kw', label: t('peak_kw')}, {key: 'reason', label: t('merge_reason')}]);
      sec.appendChild(ut);
    }
    return sec;
  }

  /* The outage's customers, most important first (the plan's rows joined with the grid). */
  var GRADES = ['special', 'first', 'second', 'temporary', 'normal'];
  function customerSection(o) {
    var sec = section('outage-customers', t('sec_customers'));
    var listed = ((o.notices && o.notices.customers) || []).slice();
    var rank = function (c) { var i = GRADES.indexOf(c.importance); return i < 0 ? GRADES.length : i; };
    listed.sort(function (a, b) { return rank(a) - rank(b) || String(a.name || a.id).localeCompare(String(b.name || b.id)); });
    var graded = listed.filter(function (c) { return c.importance !== 'normal'; });
    var byGrade = (o.impact && o.impact.interruptions_by_importance) || {};
    sec.appendChild(P.el('p', null, GRADES.filter(function (g) { return byGrade[g]; }).map(function (g) { return t(g) + ': ' + byGrade[g]; }).join(' · ')));
    var shown = graded.slice(0, 50);
    if (shown.length) {
      var table = P.el('table', 'pg-table');
      table.id = 'outage-important';
      P.table(table, shown, [{key: 'name', label: t('name'), format: function (v, r) { return (v || r.id) + ' (' + r.id + ')'; }},
        {key: 'importance', label: t('importance'), format: function (v) { return t(v); }},
        {key: 'supply', label: t('supply'), format: function (v) { return t('supply_' + v); }}]);
      sec.appendChild(table);
    }
    if (graded.length > shown.length) { sec.appendChild(P.el('p', 'pg-hint', fmt(t('more_customers'), {n: graded.length - shown.length}))); }
    var normal = listed.length - graded.length;
    if (normal) { sec.appendChild(P.el('p', 'pg-hint', fmt(t('normal_customers'), {n: normal}))); }
    return sec;
  }

  function impactSection(o) {
    var sec = section('outage-impact', t('sec_impact'), false);
    var im = o.impact || {};
    var table = P.el('table', 'pg-table');
    P.table(table, METRICS.filter(function (k) { return k !== 'outages'; }).map(function (k) {
      return {metric: t(k), plan: im[k], help: t('help_' + k)};
    }), [{key: 'metric'}, {key: 'plan', label: t('outage')}, {key: 'help', label: t('metric_help')}]);
    sec.appendChild(table);
    return sec;
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
