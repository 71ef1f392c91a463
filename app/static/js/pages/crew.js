/* Crew phone page: own stops in order with ETA, route on the map, geo: navigation links,
 * arrived / done buttons that record the stop's progress through the API
 * (POST /api/routes/<id>/stops/<task_id>), which the dispatcher's page shows.
 * The status always comes from the server, so it survives a reload. */
(function () {
  'use strict';
  var P = window.Pages, OM = window.OutageMap, t = P.t;
  var MAP = 'crew';
  var crewId = P.config.crew_id;
  var fitted = false;
  var busy = false;

  /* "Arrived 10:12 · Done 10:40" (grid time), or "Planned". */
  function progressText(s) {
    var parts = [t(s.status || 'planned')];
    if (s.arrived_at) { parts.push(t('arrived_at') + ' ' + P.fmtTime(s.arrived_at)); }
    if (s.done_at) { parts.push(t('done_at') + ' ' + P.fmtTime(s.done_at)); }
    return parts.join(' · ');
  }

  function report(route, s, status, buttons) {
    if (busy) { return; }
    busy = true;
    buttons.forEach(function (b) { b.disabled = true; });
    P.message('crew-messages', t('loading'));
    P.api('POST', P.API.stopStatus(route.id, s.task_id), {status: status}).then(function (updated) {
      busy = false;
      P.message('crew-messages', '');
      render(updated);
    }).catch(function (err) {
      busy = false;
      P.message('crew-messages', P.errorText(err), true);
      load();  // show the server's state again
    });
  }

  function render(route) {
    var stops = route.stops || [];
    var list = P.clear(P.$('stops'));
    list.dataset.route = String(route.id);
    stops.forEach(function (s) {
      var status = s.status || 'planned';
      var li = P.el('li', 'stop stop-' + status);
      li.dataset.task = s.task_id;
      li.dataset.status = status;
      li.appendChild(P.el('strong', null, s.name || s.task_id));
      li.appendChild(P.el('div', null, t('eta') + ': ' + P.fmtTime(s.arrival)));
      li.appendChild(P.el('div', 'stop-progress', progressText(s)));
      if (s.lat !== undefined && s.lon !== undefined) {
        var a = P.el('a', 'nav-link', t('navigate'));
        a.href = P.geoUri(s.lat, s.lon, s.name || s.task_id);
        li.appendChild(a);
      }
      var buttons = [];
      ['arrived', 'done'].forEach(function (next) {
        var b = P.el('button', 'stop-' + next, t(next));
        b.type = 'button';
        // done is final; arrived only once
        b.disabled = status === 'done' || (next === 'arrived' && status === 'arrived');
        b.addEventListener('click', function () { report(route, s, next, buttons); });
        buttons.push(b);
        li.appendChild(b);
      });
      list.appendChild(li);
    });
    var feats = stops.filter(function (s) { return s.lon !== undefined; }).map(function (s, i) {
      return {type: 'Feature', geometry: {type: 'Point', coordinates: [s.lon, s.lat]}, properties: {id: s.task_id, name: s.name, kind: 'stop', label: String(i + 1), eta: P.fmtTime(s.arrival), status: s.status}};
    });
    OM.setData(MAP, 'points', {type: 'FeatureCollection', features: feats});
    OM.setData(MAP, 'routes', route.geometry ? {type: 'FeatureCollection', features: [{type: 'Feature', geometry: route.geometry, properties: {crew: crewId}}]} : null);
    if (fitted) { return; }  // refreshes keep the crew's own pan and zoom
    var bounds = L.latLngBounds([]);
    ['points', 'routes'].forEach(function (k) { var l = OM.layer(MAP, k); if (l && l.getLayers().length) { bounds.extend(l.getBounds()); } });
    if (bounds.isValid()) { OM.maps[MAP].map.fitBounds(bounds, {maxZoom: 17, padding: [20, 20], animate: false}); fitted = true; }
  }

  function load() {
    if (!crewId) { P.message('crew-messages', t('no_results')); return; }
    var url = P.config.route ? '/api/routes/' + encodeURIComponent(P.config.route) : P.API.crewRoute(crewId);
    P.api('GET', url).then(function (route) { if (!busy) { render(route); } })
      .catch(function (err) { P.message('crew-messages', P.errorText(err), true); });
  }
  load();
  setInterval(function () { if (document.visibilityState !== 'hidden') { load(); } }, 60000);
})();
