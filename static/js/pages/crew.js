/* Crew phone page: own stops in order with ETA, route on the map, geo: navigation links,
 * arrived / done buttons that update the dispatcher's view through the API. */
(function () {
  'use strict';
  var P = window.Pages, OM = window.OutageMap, t = P.t;
  var MAP = 'crew';
  var crewId = P.config.crew_id;

  function render(route) {
    var stops = route.stops || [];
    var list = P.clear(P.$('stops'));
    stops.forEach(function (s) {
      var li = P.el('li', 'stop');
      li.appendChild(P.el('strong', null, s.name || s.task_id));
      li.appendChild(P.el('div', null, t('eta') + ': ' + P.fmtTime(s.arrival) + (s.status ? ' · ' + t(s.status) : '')));
      if (s.lat !== undefined && s.lon !== undefined) {
        var a = P.el('a', 'nav-link', t('navigate'));
        a.href = P.geoUri(s.lat, s.lon, s.name || s.task_id);
        li.appendChild(a);
      }
      ['arrived', 'done'].forEach(function (status) {
        var b = P.el('button', 'stop-' + status, t(status));
        b.type = 'button';
        b.disabled = s.status === 'done' || (status === 'arrived' && s.status === 'arrived');
        b.addEventListener('click', function () {
          P.api('POST', P.API.stopStatus(route.id, s.task_id), {status: status}).then(function () { load(); })
            .catch(function (err) { P.message('crew-messages', P.errorText(err), true); });
        });
        li.appendChild(b);
      });
      list.appendChild(li);
    });
    var feats = stops.filter(function (s) { return s.lon !== undefined; }).map(function (s, i) {
      return {type: 'Feature', geometry: {type: 'Point', coordinates: [s.lon, s.lat]}, properties: {id: s.task_id, name: s.name, kind: 'stop', label: String(i + 1), eta: P.fmtTime(s.arrival), status: s.status}};
    });
    OM.setData(MAP, 'points', {type: 'FeatureCollection', features: feats});
    OM.setData(MAP, 'routes', route.geometry ? {type: 'FeatureCollection', features: [{type: 'Feature', geometry: route.geometry, properties: {crew: crewId}}]} : null);
    var bounds = L.latLngBounds([]);
    ['points', 'routes'].forEach(function (k) { var l = OM.layer(MAP, k); if (l && l.getLayers().length) { bounds.extend(l.getBounds()); } });
    if (bounds.isValid()) { OM.maps[MAP].map.fitBounds(bounds, {maxZoom: 17, padding: [20, 20], animate: false}); }
  }

  function load() {
    if (!crewId) { P.message('crew-messages', t('no_results')); return; }
    var url = P.config.route ? '/api/routes/' + encodeURIComponent(P.config.route) : P.API.crewRoute(crewId);
    P.api('GET', url).then(render).catch(function (err) { P.message('crew-messages', P.errorText(err), true); });
  }
  load();
  setInterval(load, 60000);
})();
