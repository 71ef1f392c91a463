/* The switching sheet's print button (the CSP allows no inline script). */
(function () {
  'use strict';
  var b = document.getElementById('sheet-print');
  if (b) { b.addEventListener('click', function () { window.print(); }); }
})();
