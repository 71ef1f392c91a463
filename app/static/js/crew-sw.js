/* Service worker of the crew's phone page (scope /crew/, served at /crew/sw.js).
 *
 * Network first, the cache as the fallback: with signal the crew always sees the server's
 * state; without it (a few minutes in a basement or a tunnel) a reload still shows the page,
 * its scripts, styles, map data and the last route sheet. Only GETs of the crew page and what
 * it loads are cached; reports (POSTs) are never handled here: the page queues them itself
 * and replays them in order when the signal is back. */
'use strict';
var CACHE = 'outage-crew-v1';

self.addEventListener('install', function () { self.skipWaiting(); });
self.addEventListener('activate', function (event) {
  event.waitUntil(caches.keys().then(function (keys) {
    return Promise.all(keys.filter(function (k) { return k.indexOf('outage-crew-') === 0 && k !== CACHE; })
      .map(function (k) { return caches.delete(k); }));
  }).then(function () { return self.clients.claim(); }));
});

function cacheable(url) {
  if (url.origin !== self.location.origin) { return false; }
  var p = url.pathname;
  return p.indexOf('/crew/') === 0 || p.indexOf('/static/') === 0 || p.indexOf('/pages/map/') === 0 ||
    p.indexOf('/pages/data/grid/') === 0 || /^\/api\/routes\/\d+\/sheet$/.test(p) || /^\/api\/crews\/[^/]+\/route$/.test(p) ||
    /^\/api\/photos\/\d+$/.test(p);
}

/* The page tells the worker what it loaded before the worker controlled it. */
self.addEventListener('message', function (event) {
  var data = event.data || {};
  if (data.type !== 'cache' || !Array.isArray(data.urls)) { return; }
  event.waitUntil(caches.open(CACHE).then(function (cache) {
    return Promise.all(data.urls.map(function (u) {
      var url = new URL(u, self.location.origin);
      if (!cacheable(url)) { return null; }
      return fetch(url.href, {credentials: 'same-origin'}).then(function (resp) {
        return resp.ok ? cache.put(url.href, resp) : null;
      }).catch(function () { return null; });
    }));
  }));
});

self.addEventListener('fetch', function (event) {
  var req = event.request;
  if (req.method !== 'GET') { return; }
  var url = new URL(req.url);
  if (!cacheable(url)) { return; }
  event.respondWith(fetch(req).then(function (resp) {
    if (resp.ok && resp.type === 'basic') {
      var copy = resp.clone();
      caches.open(CACHE).then(function (cache) { cache.put(url.href, copy); });
    }
    return resp;
  }).catch(function () {
    return caches.match(url.href, {ignoreVary: true}).then(function (hit) { return hit || Response.error(); });
  }));
});
