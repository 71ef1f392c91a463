/* Customer service page: an outage's or a fault's customers in a full-width table — the
 * caller search (name, address, phone digits, account; done by the API, see
 * app.services.customers.search_customers), the importance filter, restored / still out
 * with the (estimated) restoration time for a fault, the window for a planned outage —,
 * exports that hold exactly what the table lists (same filter, same columns), and the
 * notification outbox. Notices have their own script (notices.js, #service-notices). */
(function () {
  'use strict';
  var P = window.Pages, OM = window.OutageMap, t = P.t;
  var MAP = 'service';
  var PAGE_ROWS = 100;
  var state = {rows: [], kind: null, id: null, total: 0, page: 0, seq: 0};
  window.ServiceState = state;

  var BASE = ['id', 'account', 'name', 'phone', 'address', 'importance', 'feeder'];
  var BY_KIND = {fault: ['supply_status', 'restoration'], outage: ['supply', 'window_start', 'window_end']};
  var FORMAT = {
    importance: function (v) { return t(v || 'normal'); },
    supply_status: function (v) { return t('supply_' + v); },
    supply: function (v) { return t('supply_' + v); },
    restoration: P.fmtTime, window_start: P.fmtTime, window_end: P.fmtTime
  };
  /* The columns on screen, and (by the same list) in the exports. */
  function columnKeys() { return BASE.concat(BY_KIND[state.kind] || []); }

  function grades() {
    var out = [];
    Array.prototype.forEach.call(document.querySelectorAll('#importance-filter input'), function (c) { if (c.checked) { out.push(c.value); } });
    return out;
  }

  /* The filter as query parameters: the list and every export link use this one function. */
  function filterParams(extra) {
    var q = new URLSearchParams();
    var query = P.$('customer-search').value.trim();
    if (query) { q.set('q', query); }
    var g = grades();
    if (g.length < 5) { q.set('importance', g.join(',')); }
    q.set('columns', columnKeys().join(','));
    Object.keys(extra || {}).forEach(function (k) { q.set(k, extra[k]); });
    return q;
  }

  function base() {
    return state.kind === 'fault' ? '/api/faults/' + encodeURIComponent(state.id) : '/api/outages/' + encodeURIComponent(state.id);
  }

  function renderExports() {
    var ex = P.clear(P.$('service-exports'));
    if (!state.kind) { return; }
    ['csv', 'xlsx', 'geojson'].forEach(function (fmt) {
      var a = P.el('a', 'export-' + fmt, fmt.toUpperCase());
      a.href = base() + '/customers/export?' + filterParams({format: fmt}).toString();
      a.setAttribute('download', '');
      ex.appendChild(a);
    });
  }

  function renderPage() {
    var first = state.page * PAGE_ROWS;
    var rows = state.rows.slice(first, first + PAGE_ROWS);
    var cols = columnKeys().map(function (k) { return {key: k, format: FORMAT[k]}; });
    P.table(P.$('affected'), rows, cols);
    var trs = P.$('affected').querySelectorAll('tbody tr');
    rows.forEach(function (r, i) {
      if (r.supply_status) { trs[i].classList.add('supply-' + r.supply_status); }
      Array.prototype.forEach.call(trs[i].children, function (td, j) { td.className = cols[j].key + (cols[j].key === 'name' || cols[j].key === 'address' ? ' wrap' : ''); });
    });
    var n = state.rows.length;
    P.$('page-info').textContent = n ? (first + 1) + '–' + Math.min(n, first + PAGE_ROWS) + ' ' + t('rows_of') + ' ' + n : '';
    P.$('page-prev').disabled = state.page === 0;
    P.$('page-next').disabled = first + PAGE_ROWS >= n;
  }

  function renderMap() {
    OM.setData(MAP, 'overlay', {type: 'FeatureCollection', features: state.rows.filter(function (r) { return r.lon !== undefined && r.lon !== null; }).map(function (r) {
      var role = r.supply_status === 'restored' ? 'transferred' : 'dead';
      return {type: 'Feature', geometry: {type: 'Point', coordinates: [r.lon, r.lat]}, properties: {id: r.id, name: r.name, importance: r.importance, layer: 'customer', role: role}};
    })});
  }

  function load() {
    if (!state.kind) { state.rows = []; renderPage(); renderExports(); P.$('service-count').textContent = ''; P.$('service-summary').textContent = ''; return; }
    var seq = ++state.seq;
    // lon/lat for the map travel with the list; the exports keep exactly the table's columns
    var q = filterParams();
    q.set('columns', columnKeys().concat(['lon', 'lat']).join(','));
    P.api('GET', base() + '/customers?' + q.toString()).then(function (data) {
      if (seq !== state.seq) { return; }  // an older answer after a newer question
      state.rows = P.items(data);
      state.total = data.total;
      state.page = 0;
      P.$('service-count').textContent = state.rows.length + ' ' + t('customers');
      if (state.kind === 'fault') {
        P.$('service-summary').textContent = data.restored + ' ' + t('restored') + ' · ' + data.still_out + ' ' + t('still_out');
      }
      renderPage();
      renderExports();
      renderMap();
    }).catch(function (err) { if (seq === state.seq) { P.$('service-count').textContent = P.errorText(err); } });
  }

  var timer = null;
  function later() { clearTimeout(timer); timer = setTimeout(load, 250); }

  P.$('event').addEventListener('change', function () {
    var v = this.value;
    var i = v.indexOf(':');
    state.kind = v ? v.slice(0, i) : null;
    state.id = v ? v.slice(i + 1) : null;
    var opt = this.options[this.selectedIndex];
    P.$('service-summary').textContent = state.kind === 'outage' && opt ? opt.textContent : '';
    load();
  });
  P.$('importance-filter').addEventListener('change', load);
  P.$('customer-search').addEventListener('input', later);
  P.$('page-prev').addEventListener('click', function () { state.page = Math.max(0, state.page - 1); renderPage(); });
  P.$('page-next').addEventListener('click', function () { state.page += 1; renderPage(); });

  function loadEvents() {
    var sel = P.$('event');
    Promise.all([
      P.api('GET', P.API.plans).then(P.items).catch(function () { return []; }),
      P.api('GET', P.API.faults).then(P.items).catch(function () { return []; })
    ]).then(function (res) {
      res[1].forEach(function (f) {
        var op = P.el('option', null, t('fault') + ' ' + f.id + ' · ' + P.fmtTime(f.created_at) + ' · ' + t('status_' + f.status));
        op.value = 'fault:' + f.id;
        sel.appendChild(op);
      });
      res[0].forEach(function (plan) {
        (plan.outages || []).forEach(function (o) {
          var op = P.el('option', null, t('outage') + ' ' + o.id + ' (' + t('plan') + ' ' + plan.id + ') · ' + P.fmtTime(o.start) + '–' + P.fmtTime(o.end) + ' · ' + o.customers + ' ' + t('customers'));
          op.value = 'outage:' + o.id;
          sel.appendChild(op);
        });
      });
      sel.dispatchEvent(new Event('loaded'));
    });
  }

  function loadOutbox() {
    P.api('GET', P.API.notifications).then(function (data) {
      var zh = P.config.locale === 'zh';
      P.table(P.$('outbox'), P.items(data), [
        {key: 'customer_id', label: t('customer')}, {key: 'kind', format: function (v) { return t(v); }}, {key: 'due_at', label: t('due'), format: P.fmtTime},
        {key: 'status', format: function (v) { return t(v || 'pending'); }},
        {key: zh ? 'text_zh' : 'text_en', label: t('message')}
      ]);
    }).catch(function () { /* outbox optional */ });
  }

  loadEvents();
  loadOutbox();
})();
