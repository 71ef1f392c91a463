/* Crew phone page (issue 14): the route's stops in order, each with its equipment (id, name,
 * kind), address, access notes and access point, the switching at the stop, the customers
 * affected, navigation links that open the phone's own map app (geo:, Apple Maps, the
 * configured templates), Arrived -> Working -> Done strictly in order with a note and
 * photos; the route and the phone's own position on the map, the position sent to the
 * server every CREW_POSITION_INTERVAL_S.
 *
 * Offline for a few minutes: reports (progress, notes, positions) go into a queue kept in
 * localStorage and are sent in order, each with its own Idempotency-Key (a report that got
 * through but whose answer was lost is not applied twice) and the phone's time ("at"), so
 * the server keeps when it really happened. The service worker (/crew/sw.js) keeps the
 * page, its assets and the route sheet for a reload without signal.
 * Every text from data is set with textContent. */
(function () {
  'use strict';
  var P = window.Pages, OM = window.OutageMap;
  var cfg = P.config;
  var C = cfg.crew_labels || {};
  var MAP = 'crew';
  var crewId = cfg.crew_id;
  var routeId = cfg.route ? String(cfg.route) : null;
  var QKEY = 'outage-crew-queue:' + (crewId || '');
  var SKEY = 'outage-crew-sheet:' + (crewId || '') + ':' + (routeId || 'latest');
  var STEPS = ['arrived', 'working', 'done'];
  var fitted = false;
  var sheet = null;
  var sending = false;
  var lastFix = null;
  var me = null;  // the phone's own position on the map
  var linkGone = false;

  /* A crew-page label with {name} placeholders filled in. */
  function t(key, vars) {
    var s = Object.prototype.hasOwnProperty.call(C, key) ? C[key] : P.t(key);
    Object.keys(vars || {}).forEach(function (k) { s = s.split('{' + k + '}').join(String(vars[k])); });
    return s;
  }
  function kindLabel(kind) { return P.t(kind); }

  /* -- the queue of reports (kept on the phone until the server has them) ----------------- */
  function readQueue() {
    try { return JSON.parse(window.localStorage.getItem(QKEY) || '[]'); } catch (e) { return []; }
  }
  function writeQueue(q) {
    try { window.localStorage.setItem(QKEY, JSON.stringify(q)); } catch (e) { /* full: keep in memory only */ }
    showQueue(q);
  }
  function showQueue(q) {
    var box = P.$('crew-sync');
    if (!box) { return; }
    var n = q.filter(function (x) { return x.kind !== 'pos'; }).length;
    box.textContent = !navigator.onLine ? t('offline') + (n ? ' ' + t('queued', {n: n}) : '') : (n ? t('queued', {n: n}) : '');
    box.dataset.queued = String(q.length);
    box.classList.toggle('offline', !navigator.onLine);
  }
  function enqueue(item) {
    var q = readQueue();
    item.key = P.idempotencyKey();
    if (item.kind === 'pos') {  // only the latest few positions are worth sending late
      var pos = q.filter(function (x) { return x.kind === 'pos'; });
      if (pos.length >= 20) { q.splice(q.indexOf(pos[0]), 1); }
    }
    q.push(item);
    writeQueue(q);
    flush();
  }
  function isNetworkError(err) { return !err || !err.status; }

  /* Send the queued reports in order; stop at the first network failure and try again later. */
  function flush() {
    if (sending || linkGone) { return; }
    var q = readQueue();
    if (!q.length) { showQueue(q); return; }
    sending = true;
    var item = q[0];
    P.api('POST', item.url, item.body, {idempotencyKey: item.key}).then(function (answer) {
      dropFirst(item);
      if (item.kind === 'stop' && answer && answer.stops) { mergeRoute(answer); }
      if (item.kind === 'pos') { P.message('crew-position', t('position_sent') + ' ' + P.fmtTime(answer.at)); }
      if (item.kind === 'stop' && item.body.note !== undefined && item.body.status === undefined) { P.message('crew-messages', t('note_saved')); }
      sending = false;
      flush();
    }).catch(function (err) {
      sending = false;
      if (isNetworkError(err)) { showQueue(readQueue()); return; }  // no signal: keep it
      if (err.status === 401) { linkGone = true; P.message('crew-messages', t('link_expired'), true); return; }
      dropFirst(item);  // refused (out of order, stale, bad position...): say why, show the server's state
      if (item.kind === 'pos') { P.message('crew-position', t('position_refused') + ': ' + (err.message || ''), true); }
      else { P.message('crew-messages', P.errorText(err), true); load(); }
      flush();
    });
  }
  function dropFirst(item) {
    var q = readQueue();
    if (q.length && q[0].key === item.key) { q.shift(); writeQueue(q); }
  }

  /* -- progress ----------------------------------------------------------------------------- */
  function nextStep(status) {
    var i = status === 'planned' || !status ? 0 : STEPS.indexOf(status) + 1;
    return i < STEPS.length ? STEPS[i] : null;
  }
  /* A stop's status as the phone knows it: the server's, then the queued reports in order. */
  function localStatus(s) {
    var status = s.status || 'planned';
    readQueue().forEach(function (x) {
      if (x.kind === 'stop' && x.task === s.task_id && x.body.status && x.body.status === nextStep(status)) { status = x.body.status; }
    });
    return status;
  }
  function report(s, status) {
    var body = {status: status, at: new Date().toISOString()};
    var note = P.$('note-' + s.task_id);
    if (note && note.value !== (s.note || '')) { body.note = note.value; }
    enqueue({kind: 'stop', task: s.task_id, url: P.API.stopStatus(sheet.route.id, s.task_id), body: body});
    renderStops();
  }
  function saveNote(s, text) {
    var status = localStatus(s);
    if (status === 'planned') { P.message('crew-messages', t('next_step') + ': ' + t('arrived'), true); return; }
    enqueue({kind: 'stop', task: s.task_id, url: P.API.stopStatus(sheet.route.id, s.task_id),
             body: {status: status, note: text}});
  }
  function mergeRoute(route) {
    if (!sheet) { return; }
    var byTask = {};
    (route.stops || []).forEach(function (s) { byTask[s.task_id] = s; });
    sheet.route.stops.forEach(function (s, i) {
      var u = byTask[s.task_id];
      if (u) { sheet.route.stops[i] = Object.assign({}, s, u, {details: s.details, photos: s.photos}); }
    });
    keepSheet();
    renderStops();
  }

  /* A switching step's reason in the page's language (the core's ``why`` texts), else its English text. */
  function whyText(x) {
    var texts = (x.why && x.why.texts) || {};
    return (P.config.locale === 'zh' ? texts['zh-Hans'] : texts.en) || x.reason || '';
  }

  /* -- navigation links ------------------------------------------------------------------- */
  function fixed(v) { return Number(v).toFixed(6); }
  /* a link template from the server ({lat}, {lon}, {label}): the phone's own map app opens it */
  function fill(url, lat, lon, label) {
    return url.split('{lat}').join(fixed(lat)).split('{lon}').join(fixed(lon)).split('{label}').join(encodeURIComponent(label || ''));
  }
  function navLinks(lat, lon, label) {
    var links = [{cls: 'nav-link nav-geo', text: t('navigate') + ' · ' + t('nav_geo'), href: P.geoUri(lat, lon, label)}];
    if (sheet.apple_maps_url) { links.push({cls: 'nav-link nav-apple', text: t('nav_apple'), href: fill(sheet.apple_maps_url, lat, lon, label)}); }
    (sheet.nav_templates || []).forEach(function (tpl) {
      links.push({cls: 'nav-link nav-extra', text: tpl.name, href: fill(tpl.url, lat, lon, label)});
    });
    return links;
  }

  /* -- rendering ------------------------------------------------------------------------------ */
  function progressText(s, status) {
    var parts = [t('status_' + status)];
    if (s.arrived_at) { parts.push(P.t('arrived_at') + ' ' + P.fmtTime(s.arrived_at)); }
    if (s.working_at) { parts.push(t('working_at') + ' ' + P.fmtTime(s.working_at)); }
    if (s.done_at) { parts.push(P.t('done_at') + ' ' + P.fmtTime(s.done_at)); }
    return parts.join(' · ');
  }
  function line(parent, cls, label, text) {
    if (text === null || text === undefined || text === '') { return null; }
    var d = P.el('div', cls);
    if (label) { d.appendChild(P.el('span', 'lbl', label + ': ')); }
    d.appendChild(document.createTextNode(String(text)));
    parent.appendChild(d);
    return d;
  }
  function accessHint(ap) {
    var vars = {street: ap.street || '', m: Math.round(ap.to_equipment_m), dir: t('dir_' + ap.direction)};
    return ap.street ? t('access_hint', vars) : t('access_hint_nostreet', vars);
  }
  function renderDetails(li, s) {
    var det = s.details || {};
    var eq = det.equipment;
    if (eq) {
      line(li, 'stop-equipment', t('equipment'), eq.id + ' · ' + eq.name + ' · ' + kindLabel(eq.kind));
      line(li, 'stop-address', t('address'), eq.address);
      line(li, 'stop-access-notes', t('access_notes'), eq.access_notes);
      if (eq.access_point) { line(li, 'stop-access-point', t('access_point'), accessHint(eq.access_point)); }
    }
    if (det.repair) {
      var kind = kindLabel(det.repair.equipment_kind || '');
      line(li, 'stop-repair', null, t('repair_of', {what: det.repair.equipment ? det.repair.equipment + ' (' + kind + ')' : kind,
                                                    min: Math.round(det.repair.duration_min || 0)}));
    }
    var sw = det.switching || [];
    if (sw.length) {
      li.appendChild(P.el('div', 'lbl', t('switching')));
      var ol = P.el('ol', 'stop-switching');
      sw.forEach(function (x) {
        ol.appendChild(P.el('li', null, t('action_' + x.action) + ' ' + x.switch + (x.switch_kind ? ' (' + kindLabel(x.switch_kind) + ')' : '') +
          ' · ' + (x.remote ? t('remote') : t('manual')) + (whyText(x) ? ' — ' + whyText(x) : '')));
      });
      li.appendChild(ol);
    } else if (!det.repair) {
      li.appendChild(P.el('div', 'pg-hint', t('no_switching')));
    }
    var cu = det.customers;
    if (cu && cu.count) {
      var box = P.el('div', 'stop-customers');
      box.appendChild(P.el('div', 'lbl', t('customers_affected', {n: cu.count})));
      var ul = P.el('ul');
      (cu.sample || []).forEach(function (c) { ul.appendChild(P.el('li', null, c.name + ' (' + P.t(c.importance) + ')')); });
      if (cu.count > (cu.sample || []).length) { ul.appendChild(P.el('li', 'pg-hint', t('and_more', {n: cu.count - (cu.sample || []).length}))); }
      box.appendChild(ul);
      li.appendChild(box);
    }
  }
  function renderPhotos(li, s) {
    var wrap = P.el('div', 'stop-photos');
    (s.photos || []).forEach(function (p) {
      var img = P.el('img');
      img.src = p.url;
      img.alt = t('photos') + ' ' + p.id;
      img.width = 64;
      wrap.appendChild(img);
    });
    var label = P.el('label', 'photo-label', t('photo'));
    var input = P.el('input', 'photo-input');
    input.type = 'file';
    input.accept = 'image/jpeg,image/png,image/webp';
    input.setAttribute('capture', 'environment');
    input.addEventListener('change', function () {
      if (!input.files || !input.files.length) { return; }
      var fd = new FormData();
      fd.append('photo', input.files[0]);
      fd.append('at', new Date().toISOString());
      P.message('crew-messages', P.t('loading'));
      P.api('POST', '/api/routes/' + encodeURIComponent(sheet.route.id) + '/stops/' + encodeURIComponent(s.task_id) + '/photos', fd).then(function (p) {
        s.photos = (s.photos || []).concat([p]);
        keepSheet();
        P.message('crew-messages', t('photo_saved'));
        renderStops();
      }).catch(function (err) { P.message('crew-messages', isNetworkError(err) ? t('offline') : P.errorText(err), true); });
    });
    label.appendChild(input);
    wrap.appendChild(label);
    li.appendChild(wrap);
  }
  function renderStops() {
    if (!sheet) { return; }
    var stops = sheet.route.stops || [];
    var list = P.clear(P.$('stops'));
    list.dataset.route = String(sheet.route.id);
    P.$('crew-name').textContent = P.t('crew') + ' ' + sheet.crew.id + (sheet.crew.name && sheet.crew.name !== sheet.crew.id ? ' · ' + sheet.crew.name : '');
    if (sheet.link_expires_at) { P.message('crew-link-until', t('link_until') + ' ' + P.fmtTime(sheet.link_expires_at)); }
    if (!stops.length) { list.appendChild(P.el('li', 'pg-hint', t('no_route'))); }
    stops.forEach(function (s, i) {
      var status = localStatus(s);
      var li = P.el('li', 'stop stop-' + status);
      li.dataset.task = s.task_id;
      li.dataset.status = status;
      li.dataset.serverStatus = s.status || 'planned';
      li.appendChild(P.el('div', 'pg-hint', t('stop_of', {i: i + 1, n: stops.length}) + ' · ' + P.t('eta') + ' ' + P.fmtTime(s.arrival)));
      var eq = s.details && s.details.equipment;
      li.appendChild(P.el('strong', 'stop-title', eq ? eq.name : (s.name || s.task_id)));
      renderDetails(li, s);
      var nav = P.el('div', 'stop-nav');
      var ap = eq && eq.access_point;
      var lat = ap ? ap.lat : s.lat, lon = ap ? ap.lon : s.lon;
      if (lat !== undefined && lon !== undefined) {
        navLinks(lat, lon, eq ? eq.name : (s.name || s.task_id)).forEach(function (l) {
          var a = P.el('a', l.cls, l.text);
          a.href = l.href;
          a.rel = 'noopener';
          nav.appendChild(a);
        });
      }
      li.appendChild(nav);
      li.appendChild(P.el('div', 'stop-progress', progressText(s, status)));
      var buttons = P.el('div', 'stop-buttons');
      var next = nextStep(status);
      STEPS.forEach(function (step) {
        var b = P.el('button', 'stop-' + step, t(step));
        b.type = 'button';
        b.disabled = step !== next;  // strictly in order: only the next step
        if (step === next) { b.classList.add('next'); }
        b.addEventListener('click', function () { if (nextStep(localStatus(s)) === step) { report(s, step); } });
        buttons.appendChild(b);
      });
      li.appendChild(buttons);
      var noteLabel = P.el('label', 'stop-note', t('note'));
      var note = P.el('textarea');
      note.id = 'note-' + s.task_id;
      note.rows = 2;
      note.maxLength = 2000;
      note.value = s.note || '';
      noteLabel.appendChild(note);
      li.appendChild(noteLabel);
      var save = P.el('button', 'save-note', t('save_note'));
      save.type = 'button';
      save.addEventListener('click', function () { saveNote(s, note.value); });
      li.appendChild(save);
      renderPhotos(li, s);
      list.appendChild(li);
    });
    drawMap();
  }
  function drawMap() {
    var stops = sheet.route.stops || [];
    var feats = stops.filter(function (s) { return s.lon !== undefined; }).map(function (s, i) {
      return {type: 'Feature', geometry: {type: 'Point', coordinates: [s.lon, s.lat]},
              properties: {id: s.task_id, name: s.name, kind: 'stop', label: String(i + 1), eta: P.fmtTime(s.arrival), status: localStatus(s)}};
    });
    OM.setData(MAP, 'points', {type: 'FeatureCollection', features: feats});
    OM.setData(MAP, 'routes', sheet.route.geometry ? {type: 'FeatureCollection', features: [{type: 'Feature', geometry: sheet.route.geometry, properties: {crew: crewId}}]} : null);
    if (fitted) { return; }  // refreshes keep the crew's own pan and zoom
    var bounds = L.latLngBounds([]);
    ['points', 'routes'].forEach(function (k) { var l = OM.layer(MAP, k); if (l && l.getLayers().length) { bounds.extend(l.getBounds()); } });
    if (bounds.isValid()) { OM.maps[MAP].map.fitBounds(bounds, {maxZoom: 17, padding: [20, 20], animate: false}); fitted = true; }
  }

  /* -- loading (network first; the last sheet is kept for a reload without signal) -------- */
  /* Keep the latest sheet on the phone (and refresh the service worker's copy while online), so a
   * reload without signal shows the progress already reported. */
  function keepSheet() {
    try { window.localStorage.setItem(SKEY, JSON.stringify(sheet)); } catch (e) { /* ignore */ }
    var sw = navigator.serviceWorker && navigator.serviceWorker.controller;
    if (sw && navigator.onLine && sheet && sheet.route) { sw.postMessage({type: 'cache', urls: [sheetUrl(sheet.route.id)]}); }
  }
  function sheetUrl(id) { return '/api/routes/' + encodeURIComponent(id) + '/sheet'; }
  function load() {
    if (!crewId) { P.message('crew-messages', t('no_route')); return Promise.resolve(); }
    var first = routeId ? Promise.resolve(routeId) : P.api('GET', P.API.crewRoute(crewId)).then(function (r) { return String(r.id); });
    return first.then(function (id) { routeId = id; return P.api('GET', sheetUrl(id)); }).then(function (data) {
      sheet = data;
      keepSheet();
      renderStops();
      startPositions();
    }).catch(function (err) {
      if (err && err.status === 401) { linkGone = true; P.message('crew-messages', t('link_expired'), true); return; }
      var kept = null;
      try { kept = JSON.parse(window.localStorage.getItem(SKEY) || 'null'); } catch (e) { kept = null; }
      if (kept && isNetworkError(err)) { sheet = kept; renderStops(); P.message('crew-messages', t('offline')); startPositions(); return; }
      P.message('crew-messages', P.errorText(err), true);
    });
  }

  /* -- the phone's own position: on the map, and to the server every interval ------------- */
  var positionsStarted = false;
  function showMe(lat, lon) {
    var m = OM.maps[MAP] && OM.maps[MAP].map;
    if (!m) { return; }
    if (!me) { me = L.circleMarker([lat, lon], {radius: 8, color: '#fff', weight: 2, fillColor: '#1d70b8', fillOpacity: 1}).addTo(m); me.bindTooltip(t('my_position')); }
    else { me.setLatLng([lat, lon]); }
  }
  function sendPosition() {
    if (!lastFix || !crewId || linkGone) { return; }
    var body = {lon: Number(lastFix.coords.longitude.toFixed(6)), lat: Number(lastFix.coords.latitude.toFixed(6)),
                at: new Date(lastFix.timestamp || Date.now()).toISOString()};
    if (typeof lastFix.coords.accuracy === 'number' && isFinite(lastFix.coords.accuracy)) { body.accuracy_m = Math.min(lastFix.coords.accuracy, 1e6); }
    lastFix = null;  // each fix is sent once
    enqueue({kind: 'pos', url: '/api/crews/' + encodeURIComponent(crewId) + '/positions', body: body});
  }
  function startPositions() {
    if (positionsStarted || !navigator.geolocation) { return; }
    positionsStarted = true;
    navigator.geolocation.watchPosition(function (pos) {
      var first = !lastFix && !me;
      lastFix = pos;
      showMe(pos.coords.latitude, pos.coords.longitude);
      if (first) { sendPosition(); }
    }, function () { P.message('crew-position', t('position_off')); }, {enableHighAccuracy: true, maximumAge: 10000, timeout: 30000});
    setInterval(sendPosition, Math.max(5, Number(sheet && sheet.position_interval_s) || 30) * 1000);
  }

  /* -- offline: the service worker, and replaying the queue when the signal is back ------- */
  window.addEventListener('online', function () { showQueue(readQueue()); flush(); });
  window.addEventListener('offline', function () { showQueue(readQueue()); });
  setInterval(flush, 15000);
  if ('serviceWorker' in navigator && cfg.sw) {
    navigator.serviceWorker.register(cfg.sw, {scope: '/crew/'}).then(function () {
      return navigator.serviceWorker.ready;
    }).then(function (reg) {
      var urls = [window.location.pathname + window.location.search];
      Array.prototype.forEach.call(document.querySelectorAll('script[src], link[rel=stylesheet][href], link[rel=preload][href], link[rel=manifest][href]'), function (e) {
        urls.push(e.getAttribute('src') || e.getAttribute('href'));
      });
      if (routeId) { urls.push(sheetUrl(routeId)); }
      if (reg.active) { reg.active.postMessage({type: 'cache', urls: urls}); }
      window.CrewPage.swReady = true;
    }).catch(function () { /* the page works without it, online */ });
  }
  window.CrewPage = {queue: readQueue, flush: flush, swReady: false};

  showQueue(readQueue());
  load().then(flush);
  setInterval(function () { if (document.visibilityState !== 'hidden' && navigator.onLine && !readQueue().length) { load(); } }, 60000);
})();
