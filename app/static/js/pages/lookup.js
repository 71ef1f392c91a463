/* The public outage lookup: account number, street or a map click -> planned outages and
 * faults for that supply point. Every string from the server is set with textContent. */
(function () {
  'use strict';
  var cfg = JSON.parse(document.getElementById('page-config').textContent);
  var L10N = cfg.labels || {};
  function t(key) { return Object.prototype.hasOwnProperty.call(L10N, key) ? L10N[key] : key; }
  function $(id) { return document.getElementById(id); }
  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) { e.className = cls; }
    if (text !== undefined && text !== null) { e.textContent = String(text); }
    return e;
  }
  function clear(node) { while (node.firstChild) { node.removeChild(node.firstChild); } return node; }
  /* "2026-12-09T08:00:00+01:00" -> "2026-12-09 08:00" (already in the grid's time zone). */
  function when(iso) { return iso ? String(iso).slice(0, 16).replace('T', ' ') : ''; }
  function hhmm(iso) { return iso ? String(iso).slice(11, 16) : ''; }

  var msg = $('lookup-message');
  function say(text, isError) { msg.textContent = text || ''; msg.className = 'lk-msg' + (isError ? ' error' : ''); }

  function get(url, params) {
    var q = Object.keys(params).map(function (k) { return encodeURIComponent(k) + '=' + encodeURIComponent(params[k]); }).join('&');
    return fetch(url + '?' + q, {headers: {Accept: 'application/json'}, credentials: 'same-origin'}).then(function (r) {
      return r.json().catch(function () { return {}; }).then(function (body) {
        if (!r.ok) { var e = new Error('lookup'); e.code = (body && body.code) || 'error'; throw e; }
        return body;
      });
    });
  }
  function failed(err) {
    var key = 'err_' + (err && err.code ? err.code : 'error');
    say(Object.prototype.hasOwnProperty.call(L10N, key) ? t(key) : t('err_error'), true);
    clear($('lookup-result'));
  }

  function row(dl, label, value) { dl.appendChild(el('dt', null, label)); dl.appendChild(el('dd', null, value)); }
  function areaText(area) {
    var text = (area.streets || []).join(', ');
    if (area.more_streets) { text += ' (+' + area.more_streets + ' ' + t('more_streets') + ')'; }
    return text;
  }

  function show(answer) {
    say('');
    var box = clear($('lookup-result'));
    var head = el('p', 'lk-hint');
    head.appendChild(el('strong', null, t('result_for') + ': ' + answer.area));
    if (answer.supply_points > 1) { head.appendChild(document.createTextNode(' (' + answer.supply_points + ' ' + t('supply_points') + ')')); }
    box.appendChild(head);
    box.appendChild(el('h2', null, t('faults')));
    if (!answer.faults.length) { box.appendChild(el('p', 'none-faults', t('none_faults'))); }
    answer.faults.forEach(function (f) {
      var card = el('div', 'lk-card fault' + (f.status === 'restored' ? ' restored' : ''));
      var dl = el('dl');
      row(dl, t('status'), t(f.status));
      row(dl, t('since'), when(f.since));
      if (f.status === 'out') { row(dl, t('estimated'), f.estimated_restoration ? when(f.estimated_restoration) : t('no_estimate')); }
      if (f.restored_at) { row(dl, t('restored_at'), when(f.restored_at)); }
      row(dl, t('area'), areaText(f.area));
      card.appendChild(dl);
      box.appendChild(card);
    });
    box.appendChild(el('h2', null, t('planned')));
    if (!answer.planned.length) { box.appendChild(el('p', 'none-planned', t('none_planned'))); }
    answer.planned.forEach(function (o) {
      var card = el('div', 'lk-card planned');
      var dl = el('dl');
      row(dl, t('date'), o.date);
      var sameDay = String(o.start).slice(0, 10) === String(o.end).slice(0, 10);
      row(dl, t('window'), hhmm(o.start) + '–' + (sameDay ? hhmm(o.end) : when(o.end)) + (o.ongoing ? ' (' + t('ongoing') + ')' : ''));
      row(dl, t('reason'), t(o.reason));
      row(dl, t('supply'), t(o.supply));
      row(dl, t('area'), areaText(o.area));
      card.appendChild(dl);
      box.appendChild(card);
    });
    box.appendChild(el('p', 'lk-hint', t('checked_at') + ' ' + when(answer.checked_at)));
  }

  $('by-account').addEventListener('submit', function (ev) {
    ev.preventDefault();
    clear($('street-choices'));
    say(t('searching'));
    get(cfg.data.account, {account: $('account').value}).then(show).catch(failed);
  });

  function lookStreet(name) {
    say(t('searching'));
    get(cfg.data.street, {street: name}).then(show).catch(failed);
  }
  $('by-street').addEventListener('submit', function (ev) {
    ev.preventDefault();
    var list = clear($('street-choices'));
    say(t('searching'));
    get(cfg.data.streets, {q: $('street-q').value}).then(function (body) {
      if (body.streets.length === 1) { lookStreet(body.streets[0]); return; }
      say(t('choose_street'));
      clear($('lookup-result'));
      body.streets.forEach(function (name) {
        var li = el('li');
        var b = el('button', 'street-choice', name);
        b.type = 'button';
        b.addEventListener('click', function () { clear(list); lookStreet(name); });
        li.appendChild(b);
        list.appendChild(li);
      });
    }).catch(failed);
  });

  /* The map: a plain background with the roads (no tile server needed), or the basemap. */
  if (window.L) {
    var map = L.map('lookup-map', {preferCanvas: true}).setView(cfg.center, 15);
    map.attributionControl.addAttribution(cfg.attribution);
    if (cfg.tile_url) { L.tileLayer(cfg.tile_url, {maxZoom: 19}).addTo(map); }
    if (cfg.data.roads) {
      fetch(cfg.data.roads, {headers: {Accept: 'application/geo+json'}, credentials: 'same-origin'}).then(function (r) { return r.ok ? r.json() : null; })
        .then(function (fc) { if (fc) { L.geoJSON(fc, {style: {color: '#8a94a6', weight: 2}, interactive: false}).addTo(map); } })
        .catch(function () { /* the map still answers clicks */ });
    }
    var marker = null;
    map.on('click', function (ev) {
      if (marker) { map.removeLayer(marker); }
      marker = L.circleMarker(ev.latlng, {radius: 8, color: '#1d3557'}).addTo(map);
      clear($('street-choices'));
      say(t('searching'));
      get(cfg.data.point, {lon: ev.latlng.lng.toFixed(6), lat: ev.latlng.lat.toFixed(6)}).then(show).catch(failed);
    });
    window.LookupMap = map;
  }
})();
