/* Map helpers shared by the pages (planner, dispatcher, crew, customer service).
 *
 * Safety rule: every string that comes from data (names, addresses, ids) is put
 * into the page with textContent / createTextNode, never with innerHTML or a
 * template literal, so a customer named <img src=x onerror=...>, ${...} or with
 * a backtick shows as text and runs nothing.
 *
 * Events dispatched on document:
 *   outagemap:featureclick  {mapKey, layerKey, feature, latlng}
 *   outagemap:loaded        {mapKey, layerKey, count}   (a layer fetched by URL is drawn)
 */
(function () {
  'use strict';

  var OM = window.OutageMap = window.OutageMap || {};
  OM.maps = OM.maps || {};
  OM.loaded = OM.loaded || {};

  var IMPORTANCE_COLORS = {special: '#7b2cbf', first: '#d00000', second: '#f48c06', temporary: '#0096c7', normal: '#6c757d'};
  var IMPORTANCE_BADGE = {special: 'S', first: '1', second: '2', temporary: 'T', normal: ''};
  var ROLE_COLORS = {work: '#d00000', dead: '#343a40', transferred: '#2b9348'};
  OM.IMPORTANCE_COLORS = IMPORTANCE_COLORS;

  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) { e.className = cls; }
    if (text !== undefined && text !== null) { e.textContent = String(text); }
    return e;
  }
  OM.el = el;

  function entryOf(map) {
    for (var k in OM.maps) { if (OM.maps[k].map === map) { return OM.maps[k]; } }
    return null;
  }

  OM.label = function (mapKey, key) {
    var m = OM.maps[mapKey];
    var labels = (m && m.settings.labels) || {};
    return Object.prototype.hasOwnProperty.call(labels, key) ? labels[key] : key;
  };

  OM.setup = function (map, key, settings) {
    OM.maps[key] = {key: key, map: map, layers: {}, settings: settings || {}};
    if (map.attributionControl && settings && settings.attribution) {
      map.attributionControl.addAttribution(settings.attribution);
    }
    if (!settings || !settings.basemap) { map.getContainer().classList.add('om-plain'); }
  };

  OM.register = function (map, layerKey, layer) {
    var entry = entryOf(map);
    if (!entry) { return; }
    entry.layers[layerKey] = layer;
    layer._omMapKey = entry.key;
    layer._omLayerKey = layerKey;
  };

  OM.layer = function (mapKey, layerKey) {
    var m = OM.maps[mapKey];
    return m ? m.layers[layerKey] : undefined;
  };

  /* Popup / tooltip content as DOM nodes (text only). */
  var FIELDS = {
    equipment: ['id', 'kind', 'feeder', 'role'],
    switches: ['id', 'kind', 'normally_open', 'remote', 'fault_indicator', 'feeder'],
    lines: ['id', 'kind', 'feeder', 'role'],
    substations: ['id'],
    customers: ['id', 'importance', 'category', 'demand_kw', 'feeder'],
    important: ['id', 'importance', 'category', 'demand_kw', 'feeder'],
    overlay: ['id', 'kind', 'importance', 'role', 'feeder'],
    points: ['id', 'kind', 'status', 'eta', 'kw'],
    routes: ['crew', 'distance_m', 'time_s']
  };
  OM.info = function (mapKey, kind, props) {
    var box = el('div', 'om-info');
    box.appendChild(el('strong', 'om-title', props.name || props.id || ''));
    var dl = el('dl');
    (FIELDS[kind] || ['id']).forEach(function (f) {
      var v = props[f];
      if (v === undefined || v === null || v === '') { return; }
      if (typeof v === 'boolean') { v = OM.label(mapKey, v ? 'yes' : 'no'); }
      else if (f === 'kind' || f === 'importance' || f === 'role' || f === 'status') { v = OM.label(mapKey, String(v)); }
      dl.appendChild(el('dt', null, OM.label(mapKey, f)));
      dl.appendChild(el('dd', null, v));
    });
    box.appendChild(dl);
    return box;
  };

  function fire(name, detail) {
    document.dispatchEvent(new CustomEvent('outagemap:' + name, {detail: detail}));
  }
  OM.fire = fire;

  function lineStyle(kind) {
    return function (f) {
      var p = f.properties || {};
      if (kind === 'overlay' || p.role) {
        var role = p.role || 'dead';
        var c = role === 'transferred' && p.color ? p.color : (ROLE_COLORS[role] || '#343a40');
        return {color: c, weight: role === 'work' ? 8 : 6, opacity: 0.75, dashArray: role === 'dead' ? '6 6' : null};
      }
      if (kind === 'routes') { return {color: p.color || '#1d3557', weight: 5, opacity: 0.85}; }
      return {color: p.color || '#777', weight: 3, opacity: 0.9};
    };
  }

  /* A small square/round marker with a text label (an element, so text stays text). */
  function badge(cls, text, size) {
    return L.divIcon({className: 'om-icon ' + cls, html: el('span', null, text), iconSize: size || [16, 16]});
  }
  OM.badge = badge;

  function pointToLayer(kind) {
    return function (f, latlng) {
      var p = f.properties || {};
      if (kind === 'substations') { return L.marker(latlng, {icon: badge('om-substation', '\u26a1', [20, 20]), keyboard: false}); }
      if (kind === 'switches') {
        if (p.normally_open) { return L.marker(latlng, {icon: badge('om-tie', 'T', [16, 16]), keyboard: false}); }
        return L.circleMarker(latlng, {radius: 4, color: p.remote ? '#1d3557' : '#000', weight: p.remote ? 2 : 1, fillColor: '#fff', fillOpacity: 1});
      }
      if (kind === 'important') {
        var imp = p.importance || 'normal';
        return L.marker(latlng, {icon: badge('om-important om-imp-' + imp, IMPORTANCE_BADGE[imp] || '!', [18, 18]), keyboard: false, zIndexOffset: 500});
      }
      if (kind === 'points') {
        return L.marker(latlng, {icon: badge('om-point om-point-' + (p.kind || 'x'), p.label || (p.kind || '').charAt(0).toUpperCase(), [22, 22]), keyboard: false, zIndexOffset: 800});
      }
      if (kind === 'overlay' && p.layer === 'customer') {
        return L.circleMarker(latlng, {radius: 3, color: IMPORTANCE_COLORS[p.importance] || '#000', weight: 1, fillOpacity: 0.9});
      }
      var c = p.role ? (p.role === 'transferred' && p.color ? p.color : ROLE_COLORS[p.role]) : (p.color || '#555');
      if (p.kind === 'rmu') { return L.circleMarker(latlng, {radius: 5, color: c, weight: 3, fillColor: '#fff', fillOpacity: 1}); }
      if (p.kind === 'distribution_room') { return L.circleMarker(latlng, {radius: 6, color: '#222', weight: 1, fillColor: c, fillOpacity: 1}); }
      return L.circleMarker(latlng, {radius: 3, color: c, weight: 1, fillColor: c, fillOpacity: 0.8});
    };
  }

  function bindFeature(kind, layerRef) {
    return function (f, layer) {
      layer.bindPopup(function () { return OM.info(layerRef.layer._omMapKey, kind, f.properties || {}); });
      if (kind === 'equipment' || kind === 'switches' || kind === 'substations' || kind === 'important') {
        layer.bindTooltip(function () { return el('span', null, (f.properties || {}).name || (f.properties || {}).id); }, {sticky: false});
      }
      layer.on('click', function (e) {
        fire('featureclick', {mapKey: layerRef.layer._omMapKey, layerKey: layerRef.layer._omLayerKey, kind: kind, feature: f, latlng: e.latlng});
      });
    };
  }

  OM.dataLayer = function (kind, data, options) {
    options = options || {};
    if (kind === 'customers') {
      var group = L.markerClusterGroup({
        chunkedLoading: true, chunkInterval: 150, chunkDelay: 10,
        disableClusteringAtZoom: options.disableClusteringAtZoom || 19,
        showCoverageOnHover: false, spiderfyOnMaxZoom: false, removeOutsideVisibleBounds: true
      });
      group.on('click', function (e) {
        var f = e.layer.feature;
        if (!f) { return; }
        L.popup().setLatLng(e.layer.getLatLng()).setContent(OM.info(group._omMapKey, 'customers', f.properties || {})).openOn(group._map);
        fire('featureclick', {mapKey: group._omMapKey, layerKey: group._omLayerKey, kind: 'customers', feature: f, latlng: e.layer.getLatLng()});
      });
      group._omKind = kind;
      if (data) { OM.addCustomers(group, data); }
      return group;
    }
    var ref = {};
    var gj = L.geoJSON(null, {style: lineStyle(kind), pointToLayer: pointToLayer(kind), onEachFeature: bindFeature(kind, ref)});
    ref.layer = gj;
    gj._omKind = kind;
    if (data) { gj.addData(data); }
    return gj;
  };

  OM.addCustomers = function (group, data, done) {
    var feats = data.features || [];
    var markers = new Array(feats.length);
    for (var i = 0; i < feats.length; i++) {
      var c = feats[i].geometry.coordinates;
      var m = L.circleMarker([c[1], c[0]], {radius: 4, color: '#495057', weight: 1, fillColor: '#adb5bd', fillOpacity: 0.9});
      m.feature = feats[i];
      markers[i] = m;
    }
    group.options.chunkProgress = function (processed, total) {
      if (processed >= total && done) { var d = done; done = null; d(total); }
    };
    group.addLayers(markers);
    if (!feats.length && done) { done(0); }
  };

  OM.setData = function (mapKey, layerKey, data) {
    var layer = OM.layer(mapKey, layerKey);
    if (!layer) { return null; }
    layer.clearLayers();
    if (data) {
      if (layer._omKind === 'customers') { OM.addCustomers(layer, data); } else { layer.addData(data); }
    }
    return layer;
  };

  OM.load = function (layer, url, layerKey) {
    return fetch(url, {credentials: 'same-origin', headers: {Accept: 'application/geo+json, application/json'}})
      .then(function (r) { if (!r.ok) { throw new Error(url + ': HTTP ' + r.status); } return r.json(); })
      .then(function (data) {
        return new Promise(function (resolve) {
          var finish = function (count) {
            OM.loaded[layer._omMapKey + ':' + layerKey] = count;
            fire('loaded', {mapKey: layer._omMapKey, layerKey: layerKey, count: count, data: data});
            resolve(count);
          };
          if (layer._omKind === 'customers') { OM.addCustomers(layer, data, finish); }
          else { layer.addData(data); finish((data.features || []).length); }
        });
      });
  };

  /* Search features of the given layers by id or name (case-insensitive substring). */
  OM.search = function (mapKey, query, limit) {
    var q = String(query || '').trim().toLowerCase();
    var out = [];
    if (!q) { return out; }
    var m = OM.maps[mapKey];
    if (!m) { return out; }
    limit = limit || 20;
    Object.keys(m.layers).forEach(function (lk) {
      var layer = m.layers[lk];
      if (!layer.eachLayer || out.length >= limit) { return; }
      var visit = function (l) {
        if (out.length >= limit || !l.feature) { return; }
        var p = l.feature.properties || {};
        var hay = ((p.id || '') + ' ' + (p.name || '')).toLowerCase();
        if (hay.indexOf(q) >= 0) { out.push({layerKey: lk, layer: l, props: p}); }
      };
      if (layer.getLayers) { layer.getLayers().forEach(visit); } else { layer.eachLayer(visit); }
    });
    return out;
  };

  OM.focus = function (mapKey, hit) {
    var m = OM.maps[mapKey];
    var l = hit.layer;
    var ll = l.getLatLng ? l.getLatLng() : l.getBounds().getCenter();
    var parent = m.layers[hit.layerKey];
    var open = function () {
      var kind = parent._omKind;
      L.popup().setLatLng(ll).setContent(OM.info(mapKey, kind, hit.props)).openOn(m.map);
    };
    if (parent && parent.zoomToShowLayer) { parent.zoomToShowLayer(l, open); }
    else { m.map.setView(ll, Math.max(m.map.getZoom(), 17)); open(); }
  };
})();
