/* Customer service: the notices outbox (planned-outage and fault messages apart), filtered,
 * counted and paged on the server (/api/notifications), exported as the filters select
 * (/api/notifications/export), "send due now" (/api/notifications/send-due), and the notice
 * compliance of published outages (/api/notifications/compliance). Text only (textContent). */
(function () {
  'use strict';
  var P = window.Pages, t = P.t;
  var PAGE = 25;
  // listSeq/lateSeq: only the latest request's answer is shown (an older one may arrive after it)
  var state = {offset: 0, total: 0, lateOffset: 0, lateTotal: 0, items: [], compliance: null, listSeq: 0, lateSeq: 0};
  window.NoticesState = state;

  function label(prefix, v) { return v === null || v === undefined || v === '' ? '' : t(prefix + v); }
  function fill(text, values) {
    return String(text).replace(/\{(\w+)\}/g, function (m, k) { return values[k] !== undefined ? values[k] : m; });
  }

  /* The filters on screen as query parameters (the list, its totals and the export use the same). */
  function filters() {
    var q = new URLSearchParams();
    [['group', 'nt-group'], ['kind', 'nt-kind'], ['status', 'nt-status'], ['channel', 'nt-channel']].forEach(function (f) {
      var v = P.$(f[1]).value;
      if (v) { q.set(f[0], v); }
    });
    var outage = P.$('nt-outage').value.trim();
    if (/^\d+$/.test(outage) && Number(outage) > 0) { q.set('outage_id', outage); }
    return q;
  }

  function exports() {
    ['csv', 'xlsx'].forEach(function (fmt) {
      var q = filters();
      q.set('format', fmt);
      P.$('nt-export-' + fmt).href = P.API.notifications + '/export?' + q.toString();
    });
  }

  function pager(prefix, offset, total) {
    var last = Math.min(offset + PAGE, total);
    P.$(prefix + '-page').textContent = total ? fill(t('nt_page'), {first: offset + 1, last: last, total: total}) : '';
    P.$(prefix + '-prev').disabled = offset <= 0;
    P.$(prefix + '-next').disabled = last >= total;
  }

  function totalsText(data) {
    var tt = data.totals || {};
    var parts = [t('nt_total') + ': ' + (data.total || 0)];
    Object.keys(tt.by_group || {}).forEach(function (g) { parts.push(t('ng_' + g) + ' ' + tt.by_group[g]); });
    Object.keys(tt.by_status || {}).forEach(function (s) { parts.push(t('ns_' + s) + ' ' + tt.by_status[s]); });
    return parts.join(' · ');
  }

  function loadList() {
    exports();
    var q = filters();
    q.set('limit', PAGE);
    q.set('offset', state.offset);
    var seq = ++state.listSeq;
    return P.api('GET', P.API.notifications + '?' + q.toString()).then(function (data) {
      if (seq !== state.listSeq) { return; }
      var zh = P.config.locale === 'zh';
      state.items = P.items(data);
      state.total = data.total || 0;
      P.$('nt-totals').textContent = state.total ? totalsText(data) : t('nt_none');
      P.table(P.$('notices'), state.items, [
        {key: 'customer_id', label: t('nt_customer')},
        {key: 'kind', label: t('nt_kind'), format: function (v) { return label('nk_', v); }},
        {key: 'outage_id', label: t('nt_event'), format: function (v, r) {
          return r.fault_id ? t('ng_fault') + ' ' + r.fault_id : t('ng_planned') + ' ' + (v === null || v === undefined ? '' : v);
        }},
        {key: 'due_at', label: t('nt_due'), format: P.fmtTime},
        {key: 'status', label: t('nt_status'), format: function (v) { return label('ns_', v || 'pending'); }},
        {key: 'sent_at', label: t('nt_sent_at'), format: P.fmtTime},
        {key: zh ? 'text_zh' : 'text_en', label: t('nt_message')}
      ]);
      pager('nt', state.offset, state.total);
    }).catch(function (err) { P.$('nt-totals').textContent = P.errorText(err); });
  }

  function loadCompliance() {
    var q = new URLSearchParams({limit: PAGE, offset: state.lateOffset});
    var outage = filters().get('outage_id');
    if (outage) { q.set('outage_id', outage); }
    var seq = ++state.lateSeq;
    return P.api('GET', P.API.notifications + '/compliance?' + q.toString()).then(function (c) {
      if (seq !== state.lateSeq) { return; }
      state.compliance = c;
      var tot = c.totals || {};
      var outages = c.outages || [];
      P.$('nc-totals').textContent = !outages.length ? t('nc_none') :
        [t('nc_customers') + ' ' + (tot.customers || 0), t('nc_on_time') + ' ' + (tot.on_time || 0),
         t('nc_late') + ' ' + (tot.late || 0), t('nc_pending') + ' ' + (tot.pending || 0)].join(' · ') +
        (tot.customers && tot.on_time === tot.customers ? ' — ' + t('nc_all_on_time') : '');
      P.table(P.$('compliance-outages'), outages, [
        {key: 'outage_id', label: t('nc_outage')}, {key: 'start', label: t('nc_start'), format: P.fmtTime},
        {key: 'notice_deadline', label: t('nc_deadline'), format: P.fmtTime},
        {key: 'published_at', label: t('nc_published'), format: P.fmtTime},
        {key: 'customers', label: t('nc_customers')}, {key: 'on_time', label: t('nc_on_time')},
        {key: 'late', label: t('nc_late')}, {key: 'pending', label: t('nc_pending')}
      ]);
      state.lateTotal = c.total || 0;
      P.table(P.$('compliance-late'), P.items(c), [
        {key: 'outage_id', label: t('nc_outage')}, {key: 'customer_id', label: t('nt_customer')},
        {key: 'verdict', label: t('nc_verdict'), format: function (v) { return label('vd_', v); }},
        {key: 'reason', label: t('nc_reason'), format: function (v) { return label('rs_', v); }},
        {key: 'notice_deadline', label: t('nc_deadline'), format: P.fmtTime},
        {key: 'status', label: t('nt_status'), format: function (v) { return label('ns_', v); }},
        {key: 'sent_at', label: t('nt_sent_at'), format: P.fmtTime},
        {key: 'last_error', label: t('nc_error')}
      ]);
      pager('nc', state.lateOffset, state.lateTotal);
    }).catch(function (err) { P.$('nc-totals').textContent = P.errorText(err); });
  }

  function reload() {
    state.offset = 0;
    state.lateOffset = 0;
    return Promise.all([loadList(), loadCompliance()]);
  }

  P.$('nt-filters').addEventListener('change', reload);
  P.$('nt-filters').addEventListener('submit', function (e) { e.preventDefault(); reload(); });
  P.$('nt-prev').addEventListener('click', function () { state.offset = Math.max(0, state.offset - PAGE); loadList(); });
  P.$('nt-next').addEventListener('click', function () { state.offset += PAGE; loadList(); });
  P.$('nc-prev').addEventListener('click', function () { state.lateOffset = Math.max(0, state.lateOffset - PAGE); loadCompliance(); });
  P.$('nc-next').addEventListener('click', function () { state.lateOffset += PAGE; loadCompliance(); });
  P.$('nt-send-due').addEventListener('click', function () {
    var b = this;
    b.disabled = true;
    P.api('POST', P.API.notifications + '/send-due').then(function (r) {
      P.message('nt-send-result', fill(t('nt_sent_result'), {sent: r.sent, failed: r.failed}), r.failed > 0);
      return Promise.all([loadList(), loadCompliance()]);
    }).catch(function (err) { P.message('nt-send-result', P.errorText(err), true); })
      .then(function () { b.disabled = false; });
  });

  reload();
})();
