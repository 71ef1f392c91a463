/* Dispatcher page: send a route to a crew's phone (issue 14). For each route of the dispatch
 * the dispatcher page shows (window.DispatcherState.dispatch, or a 'pages:dispatch' event with
 * the dispatch as detail), "Make phone link" asks the API for a short-lived link
 * (POST /api/routes/<id>/links, with the crew's phone to queue an SMS) and shows its QR code
 * (SVG drawn by the server, shown as an image: nothing in it runs) and the link; "Withdraw
 * link" revokes it. Text from data is set with textContent. */
document.addEventListener('DOMContentLoaded', function () {
  'use strict';
  var P = window.Pages;
  var box = document.getElementById('route-share');
  var labelsEl = document.getElementById('route-share-labels');
  if (!P || !box) { return; }
  var L = labelsEl ? JSON.parse(labelsEl.textContent) : {};
  function t(k) { return Object.prototype.hasOwnProperty.call(L, k) ? L[k] : k; }
  var shown = '';

  function msg(text, isError) { P.message('route-share-messages', text, isError); }

  function showLink(li, link) {
    var out = li.querySelector('.route-share-result') || P.el('div', 'route-share-result');
    P.clear(out);
    var img = P.el('img', 'route-qr');
    img.alt = t('qr');
    img.width = 180;
    img.height = 180;
    img.src = URL.createObjectURL(new Blob([link.qr_svg], {type: 'image/svg+xml'}));
    out.appendChild(img);
    var a = P.el('a', 'route-link', link.url);
    a.href = link.url;
    a.target = '_blank';
    a.rel = 'noopener';
    out.appendChild(P.el('div', null)).appendChild(a);
    out.appendChild(P.el('div', 'pg-hint', t('valid_until') + ' ' + P.fmtTime(link.expires_at)));
    out.appendChild(P.el('div', 'route-sms', link.sms ? t('sms_queued') + ' ' + (li.querySelector('input.route-phone').value || '') : t('no_sms')));
    var revoke = P.el('button', 'revoke-link', t('revoke'));
    revoke.type = 'button';
    revoke.addEventListener('click', function () {
      revoke.disabled = true;
      P.api('POST', '/api/route-links/' + encodeURIComponent(link.id) + '/revoke').then(function () {
        P.clear(out);
        out.appendChild(P.el('div', 'pg-hint route-revoked', t('revoked')));
      }).catch(function (err) { revoke.disabled = false; msg(t('error') + ': ' + (err.message || ''), true); });
    });
    out.appendChild(revoke);
    li.appendChild(out);
  }

  function render(d) {
    var routes = ((d && d.routes) || []).filter(function (r) { return (r.stops || []).length; });
    var key = d ? d.id + ':' + routes.map(function (r) { return r.id; }).join(',') : '';
    if (key === shown) { return; }
    shown = key;
    var list = P.clear(document.getElementById('route-share-list'));
    box.hidden = !routes.length;
    routes.forEach(function (r) {
      var li = P.el('li', 'route-share-item');
      li.dataset.route = String(r.id);
      li.dataset.crew = r.crew_id;
      li.appendChild(P.el('strong', null, t('crew') + ' ' + r.crew_id + ' · ' + (r.stops || []).length + ' ' + t('stops')));
      var phone = P.el('input', 'route-phone');
      phone.type = 'tel';
      phone.placeholder = t('phone');
      phone.setAttribute('aria-label', t('phone'));
      phone.maxLength = 40;
      li.appendChild(phone);
      var send = P.el('button', 'send-link', t('send_link'));
      send.type = 'button';
      send.addEventListener('click', function () {
        send.disabled = true;
        msg('');
        var body = phone.value.trim() ? {phone: phone.value.trim()} : {};
        P.api('POST', '/api/routes/' + encodeURIComponent(r.id) + '/links', body).then(function (link) {
          send.disabled = false;
          showLink(li, link);
        }).catch(function (err) { send.disabled = false; msg(t('error') + ': ' + (err.message || ''), true); });
      });
      li.appendChild(send);
      list.appendChild(li);
    });
  }

  document.addEventListener('pages:dispatch', function (ev) { render(ev.detail); });
  document.addEventListener('dispatcher:routes', function (ev) { render(ev.detail && ev.detail.dispatch); });
  setInterval(function () { var s = window.DispatcherState; if (s && s.dispatch !== undefined) { render(s.dispatch); } }, 1000);
});
