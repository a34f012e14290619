/* tinyedge deploy report: hovering a layer's bar highlights its table row and the other way round. Runs inline
   (allowed by the page's Content-Security-Policy through this file's hash); marks the page as rendered last. */
(function () {
  'use strict';
  var root = document.documentElement;
  var linked = document.querySelectorAll('[data-layer]');
  function mark(index, on) {
    document.querySelectorAll('.chart-row[data-layer="' + index + '"], tr[data-layer="' + index + '"]').forEach(function (element) {
      element.classList.toggle('hot', on);
    });
  }
  linked.forEach(function (element) {
    var index = element.getAttribute('data-layer');
    element.addEventListener('mouseenter', function () { mark(index, true); });
    element.addEventListener('mouseleave', function () { mark(index, false); });
  });
  root.setAttribute('data-layer-bars', String(document.querySelectorAll('#layer-chart .layer-bar').length));
  root.setAttribute('data-report-ready', 'yes');
})();
