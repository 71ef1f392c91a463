/* Customer service page: affected customers of an outage or fault, importance filter,
 * exports, and the notification outbox with due times and status. */
(function () {
  'use strict';
  var P = window.Pages, OM = window.OutageMap, t = P.t;
  var MAP = 'service';
  var state = {rows: [], event: null};
  window.ServiceState = state;

  function grades() {
    var out = [];
    Array.prototype.forEach.call(document.querySelectorAll('#importance-filter input'), function (c) { if (c.checked) { out.push(c.value); } });
    return out;
  }

  /* A customer calling: a number typed (digits, spaces, + ( ) - .) is looked for in the phone
     numbers, digits only; otherwise every word must appear in the account (id), name or address. */
  function matches(r, query) {
    var q = query.trim().toLowerCase();
    if (!q) { return true; }
    if (/^[\d\s+().-]+$/.test(q)) {
      var d = q.replace(/\D/g, '');
      if (d.length >= 3 && String(r.phone || '').replace(/\D/g, '').indexOf(d) >= 0) { return true; }
    }
    var hay = [r.id, r.name, r.address].join(' ').toLowerCase();
    return q.split(/\s+/).every(function (w) { return hay.indexOf(w) >= 0; });
  }

  function render() {
    var g = grades();
    var query = P.$('customer-search').value;
    var rows = state.rows.filter(function (r) { return g.indexOf(r.importance || 'normal') >= 0 && matches(r, query); });
    P.$('service-count').textContent = rows.length + ' ' + t('customers');
    P.table(P.$('affected'), rows, [
      {key: 'id'}, {key: 'name'}, {key: 'importance', format: function (v) { return t(v || 'normal'); }},
      {key: 'phone'}, {key: 'address'}, {key: 'feeder'}
    ]);
    OM.setData(MAP, 'overlay', {type: 'FeatureCollection', features: rows.filter(function (r) { return r.lon !== undefined; }).map(function (r) {
      return {type: 'Feature', geometry: {type: 'Point', coordinates: [r.lon, r.lat]}, properties: {id: r.id, name: r.name, importance: r.importance, layer: 'customer', role: 'dead'}};
    })});
  }

  function loadEvent(value) {
    if (!value) { state.rows = []; render(); return; }
    var parts = value.split(':');
    var kind = parts[0], id = parts.slice(1).join(':');
    var url = kind === 'fault' ? P.API.faultCustomers(id) : P.API.outageCustomers(id);
    P.api('GET', url).then(function (data) {
      state.rows = P.items(data);
      render();
      var ex = P.clear(P.$('service-exports'));
      ['csv', 'xlsx', 'geojson'].forEach(function (fmt) {
        var a = P.el('a', 'export-' + fmt, fmt.toUpperCase());
        a.href = kind === 'fault' ? P.API.faultExport(id, fmt) : P.API.outageExport(id, fmt);
        a.setAttribute('download', '');
        ex.appendChild(a);
      });
    }).catch(function (err) { P.$('service-count').textContent = P.errorText(err); });
  }

  P.$('event').addEventListener('change', function () { loadEvent(this.value); });
  P.$('importance-filter').addEventListener('change', render);
  P.$('customer-search').addEventListener('input', render);

  function loadEvents() {
    var sel = P.$('event');
    Promise.all([
      P.api('GET', P.API.plans).then(P.items).catch(function () { return []; }),
      P.api('GET', P.API.faults).then(P.items).catch(function () { return []; })
    ]).then(function (res) {
      res[0].forEach(function (plan) {
        (plan.outages || []).forEach(function (o) {
          var op = P.el('option', null, t('outage') + ' ' + o.id + ' (' + t('plan') + ' ' + plan.id + ') · ' + P.fmtTime(o.start) + ' · ' + o.customers + ' ' + t('customers'));
          op.value = 'outage:' + o.id;
          sel.appendChild(op);
        });
      });
      res[1].forEach(function (f) { var op = P.el('option', null, t('fault') + ' ' + f.id + ' · ' + P.fmtTime(f.created_at)); op.value = 'fault:' + f.id; sel.appendChild(op); });
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
