/* Shared page helpers: configuration, translations, the JSON API, safe DOM building.
 * Strings from data are always set with textContent (see outage-map.js). */
(function () {
  'use strict';
  var cfgEl = document.getElementById('page-config');
  var config = cfgEl ? JSON.parse(cfgEl.textContent) : {labels: {}, data: {}};
  var P = window.Pages = {config: config};

  /* The service's API (app/api, issue 7), in one place. */
  var enc = encodeURIComponent;
  P.API = {
    jobs: '/api/jobs',
    jobsImport: '/api/jobs/import',
    plans: '/api/plans',
    plan: function (id) { return '/api/plans/' + enc(id); },
    run: function (id) { return '/api/runs/' + enc(id); },
    planExport: function (id, fmt) { return '/api/plans/' + enc(id) + '/customers/export?format=' + enc(fmt); },
    outageExport: function (id, fmt) { return '/api/outages/' + enc(id) + '/customers/export?format=' + enc(fmt); },
    outageCustomers: function (id) { return '/api/outages/' + enc(id) + '/customers'; },
    outageMap: function (id) { return '/api/outages/' + enc(id) + '/map'; },
    faults: '/api/faults',
    recentFaults: function (limit) { return '/api/faults?limit=' + enc(limit); },
    fault: function (id) { return '/api/faults/' + enc(id); },
    faultCustomers: function (id) { return '/api/faults/' + enc(id) + '/customers'; },
    faultExport: function (id, fmt) { return '/api/faults/' + enc(id) + '/customers/export?format=' + enc(fmt); },
    dispatches: '/api/dispatches',
    dispatch: function (id) { return '/api/dispatches/' + enc(id); },
    faultDispatches: function (faultId, limit) { return '/api/dispatches?fault_id=' + enc(faultId) + '&limit=' + enc(limit); },
    recentPlans: function (limit) { return '/api/plans?limit=' + enc(limit); },
    routeGpx: function (id) { return '/api/routes/' + enc(id) + '/gpx'; },
    crews: '/api/crews',
    crewRoute: function (crewId) { return '/api/crews/' + enc(crewId) + '/route'; },
    crewPage: function (crewId, routeId) { return '/crew/' + enc(crewId) + (routeId ? '?route=' + enc(routeId) : ''); },
    stopStatus: function (routeId, taskId) { return '/api/routes/' + enc(routeId) + '/stops/' + enc(taskId); },
    notifications: '/api/notifications'
  };
  if (config.api) { Object.keys(config.api).forEach(function (k) { if (typeof P.API[k] === 'string') { P.API[k] = config.api[k]; } }); }

  P.t = function (key) {
    var l = config.labels || {};
    return Object.prototype.hasOwnProperty.call(l, key) ? l[key] : key;
  };
  P.el = function (tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) { e.className = cls; }
    if (text !== undefined && text !== null) { e.textContent = String(text); }
    return e;
  };
  P.$ = function (id) { return document.getElementById(id); };
  P.clear = function (node) { while (node.firstChild) { node.removeChild(node.firstChild); } return node; };

  function csrf() {
    var m = document.querySelector('meta[name="csrf-token"]');
    return m ? m.getAttribute('content') : null;
  }
  P.idempotencyKey = function () {
    var a = new Uint8Array(16);
    window.crypto.getRandomValues(a);
    return Array.prototype.map.call(a, function (b) { return ('0' + b.toString(16)).slice(-2); }).join('');
  };

  /* fetch JSON; rejects with {status, code, message} on HTTP errors (a network failure rejects
   * with the browser's TypeError, which has no status). opts.idempotencyKey: the key of a POST
   * that may be sent again (a queued report replayed); default a new one per call. */
  P.api = function (method, url, body, opts) {
    var headers = {Accept: 'application/json'};
    var init = {method: method, credentials: 'same-origin', headers: headers};
    if (method !== 'GET') {
      var t = csrf();
      if (t) { headers['X-CSRFToken'] = t; }
      if (method === 'POST') { headers['Idempotency-Key'] = (opts && opts.idempotencyKey) || P.idempotencyKey(); }
    }
    if (body instanceof FormData) { init.body = body; }
    else if (body !== undefined) { headers['Content-Type'] = 'application/json'; init.body = JSON.stringify(body); }
    return fetch(url, init).then(function (r) {
      var ct = r.headers.get('Content-Type') || '';
      var parse = ct.indexOf('json') >= 0 ? r.json() : r.text().then(function () { return {message: 'HTTP ' + r.status}; });
      return parse.then(function (data) {
        if (!r.ok) { throw {status: r.status, code: data && data.code, message: (data && data.message) || ('HTTP ' + r.status), details: data && data.details}; }
        return data;
      });
    });
  };
  P.items = function (data) { return Array.isArray(data) ? data : (data && (data.items || data.results || data.data)) || []; };

  /* Poll a background run (/api/runs/<id>) until done; onProgress(0..1, status). */
  P.waitRun = function (runId, onProgress) {
    return P.api('GET', P.API.run(runId)).then(function (run) {
      if (onProgress) { onProgress(run.progress || 0, run.status); }
      if (run.status === 'failed') { throw {message: (run.error && run.error.message) || run.message || P.t('failed')}; }
      if (run.status === 'done') { return run; }
      return new Promise(function (res) { setTimeout(res, 400); }).then(function () { return P.waitRun(runId, onProgress); });
    });
  };

  P.message = function (id, text, isError) {
    var box = P.$(id);
    if (!box) { return; }
    box.textContent = text || '';
    box.classList.toggle('error', !!isError);
  };
  P.errorText = function (err) {
    if (!err) { return P.t('error'); }
    return P.t('error') + ': ' + (err.message || String(err));
  };

  /* A table from rows (objects) and columns [{key, label, format?}], text only. */
  P.table = function (table, rows, columns) {
    P.clear(table);
    var head = P.el('thead');
    var tr = P.el('tr');
    columns.forEach(function (c) { tr.appendChild(P.el('th', null, c.label || P.t(c.key))); });
    head.appendChild(tr);
    table.appendChild(head);
    var body = P.el('tbody');
    rows.forEach(function (row) {
      var r = P.el('tr');
      columns.forEach(function (c) {
        var v = c.format ? c.format(row[c.key], row) : row[c.key];
        r.appendChild(P.el('td', null, v === undefined || v === null ? '' : v));
      });
      body.appendChild(r);
    });
    table.appendChild(body);
  };

  P.fmtTime = function (iso) {
    if (!iso) { return ''; }
    var d = new Date(iso);
    if (isNaN(d.getTime())) { return String(iso); }
    // times are shown in the grid's time zone (the crews' and customers' clock), not the browser's
    var opts = {month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit'};
    if (config.timezone) { opts.timeZone = config.timezone; }
    try { return d.toLocaleString(config.locale === 'zh' ? 'zh-CN' : 'en-GB', opts); }
    catch (e) { delete opts.timeZone; return d.toLocaleString('en-GB', opts); }
  };

  /* A day of the grid's calendar, e.g. "20 Dec" (a time inside that day). */
  P.fmtDay = function (ms) {
    var opts = {month: 'short', day: 'numeric'};
    if (config.timezone) { opts.timeZone = config.timezone; }
    var d = new Date(ms);
    try { return d.toLocaleDateString(config.locale === 'zh' ? 'zh-CN' : 'en-GB', opts); }
    catch (e) { delete opts.timeZone; return d.toLocaleDateString('en-GB', opts); }
  };

  P.geoUri = function (lat, lon, label) {
    return 'geo:' + Number(lat).toFixed(6) + ',' + Number(lon).toFixed(6) + '?q=' + Number(lat).toFixed(6) + ',' + Number(lon).toFixed(6) + (label ? '(' + encodeURIComponent(label) + ')' : '');
  };

  /* Overlay for a switching state from /pages/data/state.geojson. */
  P.showState = function (mapKey, open, close, work) {
    var q = new URLSearchParams({open: (open || []).join(','), close: (close || []).join(','), work: (work || []).join(',')});
    return P.api('GET', config.data.state + '?' + q.toString()).then(function (fc) {
      OutageMap.setData(mapKey, 'overlay', fc);
      return fc;
    });
  };
  P.fitOverlay = function (mapKey) {
    var layer = OutageMap.layer(mapKey, 'overlay');
    var m = OutageMap.maps[mapKey];
    if (layer && m && layer.getLayers().length) { m.map.fitBounds(layer.getBounds(), {maxZoom: 17, padding: [20, 20]}); }
  };
})();
