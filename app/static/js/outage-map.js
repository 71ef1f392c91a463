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
  OM.loadedAt = OM.loadedAt || {};

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

  /* What the map's symbols mean (bottom left), in the page's language; its title folds it
     (folded from the start on a narrow map: a crew's phone). */
  function legend(key) {
    var control = L.control({position: 'bottomleft'});
    control.onAdd = function (map) {
      var box = el('div', 'om-legend leaflet-control');
      var title = el('button', 'om-legend-title', OM.label(key, 'legend'));
      title.type = 'button';
      title.addEventListener('click', function () { box.classList.toggle('om-legend-folded'); });
      box.appendChild(title);
      if (map.getSize().x < 600) { box.classList.add('om-legend-folded'); }
      function row(symbol, text) {
        var r = el('div', 'om-legend-row');
        r.appendChild(symbol);
        r.appendChild(el('span', null, text));
        box.appendChild(r);
      }
      function line(color, dashed) {
        var s = el('span', 'om-legend-line' + (dashed ? ' om-legend-dashed' : ''));
        s.style.borderTopColor = color;
        return s;
      }
      row(line('#457b9d'), OM.label(key, 'legend_feeder'));
      row(line(ROLE_COLORS.work), OM.label(key, 'legend_work'));
      row(line(ROLE_COLORS.dead, true), OM.label(key, 'legend_dead'));
      row(line(ROLE_COLORS.transferred), OM.label(key, 'legend_transferred'));
      row(el('span', 'om-legend-badge om-legend-tie', 'T'), OM.label(key, 'legend_tie'));
      ['special', 'first', 'second', 'temporary'].forEach(function (g) {
        var b = el('span', 'om-legend-badge', IMPORTANCE_BADGE[g]);
        b.style.background = IMPORTANCE_COLORS[g];
        row(b, OM.label(key, g));
      });
      L.DomEvent.disableClickPropagation(box);
      return box;
    };
    return control;
  }

  OM.setup = function (map, key, settings) {
    OM.maps[key] = {key: key, map: map, layers: {}, settings: settings || {}};
    legend(key).addTo(map);
    if (map.attributionControl && settings && settings.attribution) {
      map.attributionControl.addAttribution(settings.attribution);
    }
    if (!settings || !settings.basemap) { map.getContainer().classList.add('om-plain'); }
    ((settings && settings.prefetch) || []).forEach(function (url) { OM.fetchJSON(url); });
    // Keep equipment clickable above customers: on one canvas the last drawn wins, and
    // the clusterer redraws customer markers after every zoom.
    var raise = function () { OM.raise(key); };
    map.on('zoomend', function () { setTimeout(raise, 0); });
    map.on('layeradd', function (e) { if (e.layer && e.layer._omKind === 'customers') { setTimeout(raise, 0); } });
  };

  OM.RAISE_ORDER = ['overlay', 'equipment', 'switches'];
  OM.raise = function (mapKey) {
    var m = OM.maps[mapKey];
    if (!m) { return; }
    OM.RAISE_ORDER.forEach(function (k) {
      var l = m.layers[k];
      if (l && l._map && l.bringToFront) { l.bringToFront(); }
    });
  };

  /* One fetch per URL (prefetched in parallel as soon as the map exists). */
  OM._fetches = OM._fetches || {};
  OM.fetchJSON = function (url) {
    if (!OM._fetches[url]) {
      // same mode/credentials as the page's <link rel="preload" as="fetch" crossorigin>
      OM._fetches[url] = fetch(url, {credentials: 'same-origin'})
        .then(function (r) { if (!r.ok) { throw new Error(url + ': HTTP ' + r.status); } return r.json(); });
    }
    return OM._fetches[url];
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
      if (kind === 'routes') { return {color: p.color || '#00b4d8', weight: 6, opacity: 0.9}; }
      if (kind === 'roads') { return {color: '#bdb6a6', weight: 2, opacity: 0.9, interactive: false}; }
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

  /* Hover tooltips only on the small layers; big layers get one delegated click handler. */
  function bindTooltip(f, layer) {
    layer.bindTooltip(function () { return el('span', null, (f.properties || {}).name || (f.properties || {}).id); });
  }

  /* The member line (a cable section) nearest to a click, in screen pixels. */
  function nearestMember(map, members, latlng) {
    var pt = map.latLngToLayerPoint(latlng);
    var best = null, bestD = Infinity;
    members.forEach(function (f) {
      var g = f.geometry;
      var parts = g.type === 'LineString' ? [g.coordinates] : g.coordinates;
      parts.forEach(function (c) {
        for (var i = 1; i < c.length; i++) {
          var a = map.latLngToLayerPoint([c[i - 1][1], c[i - 1][0]]);
          var b = map.latLngToLayerPoint([c[i][1], c[i][0]]);
          var d = L.LineUtil.pointToSegmentDistance(pt, a, b);
          if (d < bestD) { bestD = d; best = f; }
        }
      });
    });
    return best;
  }

  function onGroupClick(group, kind) {
    group.on('click', function (e) {
      var l = e.propagatedFrom || e.layer;
      var f = l && l.feature;
      if (f && f.properties && f.properties._members) { f = nearestMember(group._map, f.properties._members, e.latlng); }
      if (!f) { return; }
      var ll = l.getLatLng ? l.getLatLng() : e.latlng;
      L.popup().setLatLng(ll).setContent(OM.info(group._omMapKey, kind, f.properties || {})).openOn(group._map);
      fire('featureclick', {mapKey: group._omMapKey, layerKey: group._omLayerKey, kind: kind, feature: f, latlng: ll});
    });
  }

  OM.timings = OM.timings || [];
  function mark(what, t0) { OM.timings.push([what, Math.round(performance.now() - t0), Math.round(performance.now())]); }
  OM.mark = mark;

  /* Zoom from which the detail features of a layer are drawn (scale-dependent rendering:
   * a city has ~10k switches and rooms; they are created the first time they are needed). */
  var DETAIL_ZOOM = {switches: 16, equipment: 15};
  function isDetail(kind, p) {
    if (kind === 'switches') { return !p.normally_open && !p.remote; }
    if (kind === 'equipment') { return p.kind !== 'rmu'; }
    return false;
  }

  OM.dataLayer = function (kind, data, options) {
    var t0 = performance.now();
    try { return makeLayer(kind, data, options); } finally { mark('dataLayer:' + kind, t0); }
  };
  function makeLayer(kind, data, options) {
    options = options || {};
    if (kind === 'customers') {
      var group = L.markerClusterGroup({
        chunkedLoading: true, chunkInterval: 200, chunkDelay: 5,
        // clusters are built for every zoom from the map's minZoom to this one - 1
        disableClusteringAtZoom: options.disableClusteringAtZoom || 17,
        showCoverageOnHover: false, spiderfyOnMaxZoom: false, removeOutsideVisibleBounds: true
      });
      onGroupClick(group, 'customers');
      group._omKind = kind;
      group._omFeatures = [];
      if (data) { OM.addCustomers(group, data); }
      return group;
    }
    var small = kind === 'substations' || kind === 'important' || kind === 'points';
    if (kind === 'roads') {
      var roads = L.geoJSON(null, {style: lineStyle(kind), interactive: false});
      roads._omKind = kind;
      if (data) { roads.addData(data); }
      return roads;
    }
    var geo = function () {
      return L.geoJSON(null, {style: lineStyle(kind), pointToLayer: pointToLayer(kind), onEachFeature: small ? bindTooltip : null});
    };
    var outer = geo();
    var protoAdd = L.GeoJSON.prototype.addData;
    // L.GeoJSON.addData calls this.addData(feature) for each feature of a collection:
    // the overrides below handle collections and hand single features to Leaflet.
    var single = function (x) { return !Array.isArray(x) && !x.features; };
    outer._omKind = kind;
    outer._omFeatures = [];
    onGroupClick(outer, kind);
    if (DETAIL_ZOOM[kind]) {
      var detail = [];
      var detailLayer = null;
      var sync = function () {
        var map = outer._map;
        if (!map) { return; }
        var want = map.getZoom() >= DETAIL_ZOOM[kind];
        if (want && !detailLayer && detail.length) {
          var t0 = performance.now();
          detailLayer = geo();
          detailLayer.addData({type: 'FeatureCollection', features: detail});
          mark('detail:' + kind, t0);
        }
        if (detailLayer) {
          if (want && !outer.hasLayer(detailLayer)) { outer.addLayer(detailLayer); if (outer._omMapKey) { OM.raise(outer._omMapKey); } }
          if (!want && outer.hasLayer(detailLayer)) { outer.removeLayer(detailLayer); }
        }
      };
      outer.addData = function (fc) {
        if (single(fc)) { return protoAdd.call(outer, fc); }
        var feats = fc.features || fc;
        var now = [];
        feats.forEach(function (f) { (isDetail(kind, f.properties || {}) ? detail : now).push(f); outer._omFeatures.push(f); });
        protoAdd.call(outer, {type: 'FeatureCollection', features: now});
        sync();
        return outer;
      };
      var mapRef = null;
      outer.on('add', function () { mapRef = outer._map; mapRef.on('zoomend', sync); sync(); });
      outer.on('remove', function () { if (mapRef) { mapRef.off('zoomend', sync); } });
    } else if (kind === 'lines') {
      // Draw one MultiLineString per feeder (a city has ~10k cable sections); a click
      // finds the nearest original section of that feeder.
      outer.addData = function (fc) {
        if (single(fc)) { return protoAdd.call(outer, fc); }
        var groups = {};
        var order = [];
        (fc.features || []).forEach(function (f) {
          var p = f.properties || {};
          var k = (p.feeder || '') + '|' + (p.color || '');
          if (!groups[k]) { groups[k] = {type: 'Feature', geometry: {type: 'MultiLineString', coordinates: []}, properties: {feeder: p.feeder, color: p.color, _members: []}}; order.push(k); }
          var g = f.geometry;
          if (g.type === 'LineString') { groups[k].geometry.coordinates.push(g.coordinates); }
          else if (g.type === 'MultiLineString') { g.coordinates.forEach(function (c) { groups[k].geometry.coordinates.push(c); }); }
          groups[k].properties._members.push(f);
          outer._omFeatures.push(f);
        });
        return protoAdd.call(outer, {type: 'FeatureCollection', features: order.map(function (k) { return groups[k]; })});
      };
    } else {
      outer.addData = function (fc) {
        if (single(fc)) { outer._omFeatures.push(fc); return protoAdd.call(outer, fc); }
        return protoAdd.call(outer, fc);
      };
      var plainClear = outer.clearLayers.bind(outer);
      outer.clearLayers = function () { outer._omFeatures = []; return plainClear(); };
    }
    if (data) { outer.addData(data); }
    return outer;
  }

  /* Customers as GeoJSON or as columns ({count, id: [], name: [], lon: [], lat: [], ...}).
   * With columns, a marker's feature is built only when it is needed (click, search). */
  OM.addCustomers = function (group, data, done) {
    var t0 = performance.now();
    var cols = data.features ? null : data;
    var n = cols ? (cols.count || 0) : data.features.length;
    var markers = new Array(n);
    var style = {radius: 4, color: '#495057', weight: 1, fillColor: '#adb5bd', fillOpacity: 0.9};
    for (var i = 0; i < n; i++) {
      var m;
      if (cols) {
        m = L.circleMarker([cols.lat[i], cols.lon[i]], style);
        m._omIdx = i;
        m._omCols = cols;
        Object.defineProperty(m, 'feature', {get: columnFeature, configurable: true});
      } else {
        var f = data.features[i];
        m = L.circleMarker([f.geometry.coordinates[1], f.geometry.coordinates[0]], style);
        m.feature = f;
      }
      markers[i] = m;
    }
    group._omMarkers = (group._omMarkers || []).concat(markers);
    if (cols) { group._omColumns = (group._omColumns || []).concat([cols]); }
    else { group._omFeatures = group._omFeatures.concat(data.features); }
    mark('customers:markers', t0);
    var t1 = performance.now();
    group.options.chunkProgress = function (processed, total) {
      if (processed >= total) { mark('customers:cluster', t1); if (group._omMapKey) { OM.raise(group._omMapKey); } }
      if (processed >= total && done) { var d = done; done = null; d(total); }
    };
    group.addLayers(markers);
    if (!n && done) { done(0); }
  };

  function columnFeature() {
    var cols = this._omCols, i = this._omIdx, props = {};
    Object.keys(cols).forEach(function (k) { if (k !== 'count' && k !== 'lon' && k !== 'lat') { props[k] = cols[k][i]; } });
    return {type: 'Feature', geometry: {type: 'Point', coordinates: [cols.lon[i], cols.lat[i]]}, properties: props};
  }

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
    return OM.fetchJSON(url)
      .then(function (data) {
        var t0 = performance.now();
        return new Promise(function (resolve) {
          var finish = function (count) {
            OM.loaded[layer._omMapKey + ':' + layerKey] = count;
            OM.loadedAt[layer._omMapKey + ':' + layerKey] = performance.now();
            fire('loaded', {mapKey: layer._omMapKey, layerKey: layerKey, count: count, data: data});
            resolve(count);
          };
          if (layer._omKind === 'customers') { OM.addCustomers(layer, data, finish); }
          else { layer.addData(data); mark('load:' + layerKey, t0); finish((data.features || []).length); }
        });
      });
  };

  /* Search features of a map's layers by id or name (case-insensitive substring); a feature
     drawn in two layers (an important customer is also in the clustered layer) is listed once. */
  OM.search = function (mapKey, query, limit) {
    var q = String(query || '').trim().toLowerCase();
    var out = [];
    var seen = {};
    var m = OM.maps[mapKey];
    if (!q || !m) { return out; }
    limit = limit || 20;
    function add(entry) {
      var id = entry.props && entry.props.id;
      if (id !== undefined && id !== null) {
        if (seen[id]) { return; }
        seen[id] = true;
      }
      out.push(entry);
    }
    Object.keys(m.layers).forEach(function (lk) {
      var layer = m.layers[lk];
      var feats = layer._omFeatures || [];
      for (var i = 0; i < feats.length && out.length < limit; i++) {
        var p = feats[i].properties || {};
        var hay = ((p.id || '') + ' ' + (p.name || '')).toLowerCase();
        if (hay.indexOf(q) >= 0) { add({layerKey: lk, feature: feats[i], props: p, index: i}); }
      }
      var offset = feats.length;
      (layer._omColumns || []).forEach(function (cols) {
        for (var j = 0; j < cols.count && out.length < limit; j++) {
          var h = ((cols.id[j] || '') + ' ' + (cols.name[j] || '')).toLowerCase();
          if (h.indexOf(q) >= 0) {
            var mk = layer._omMarkers[offset + j];
            var ft = mk.feature;
            add({layerKey: lk, feature: ft, props: ft.properties, index: offset + j});
          }
        }
        offset += cols.count;
      });
    });
    return out;
  };

  /* [lat, lon] of a customer by id, from the clustered customers layer (null if unknown). */
  OM.customerLatLng = function (mapKey, id) {
    var layer = OM.layer(mapKey, 'customers');
    if (!layer || !layer._omColumns) { return null; }
    if (!layer._omIndex) {
      layer._omIndex = {};
      layer._omColumns.forEach(function (cols) { for (var i = 0; i < cols.count; i++) { layer._omIndex[cols.id[i]] = [cols.lat[i], cols.lon[i]]; } });
    }
    return layer._omIndex[id] || null;
  };

  function featureLatLng(f) {
    var g = f.geometry;
    if (g.type === 'Point') { return L.latLng(g.coordinates[1], g.coordinates[0]); }
    var c = g.type === 'LineString' ? g.coordinates : g.coordinates[0];
    var mid = c[Math.floor(c.length / 2)];
    return L.latLng(mid[1], mid[0]);
  }
  OM.featureLatLng = featureLatLng;

  OM.focus = function (mapKey, hit) {
    var m = OM.maps[mapKey];
    var parent = m.layers[hit.layerKey];
    var ll = featureLatLng(hit.feature);
    var token = (OM._focusToken = (OM._focusToken || 0) + 1);
    var closeAll = function () { m.map.eachLayer(function (l) { if (l instanceof L.Popup) { m.map.removeLayer(l); } }); };
    closeAll();
    var open = function () {
      if (token !== OM._focusToken) { return; }  // a later search result won
      closeAll();
      L.popup().setLatLng(ll).setContent(OM.info(mapKey, parent._omKind, hit.props)).openOn(m.map);
    };
    var marker = parent._omMarkers && parent._omMarkers[hit.index];
    if (marker && parent.zoomToShowLayer) { parent.zoomToShowLayer(marker, open); }
    else { m.map.setView(ll, Math.max(m.map.getZoom(), 17)); open(); }
  };
})();
