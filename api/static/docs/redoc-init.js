// Starts ReDoc on /redoc from the page's data attributes (no inline script, no web fonts).
window.addEventListener("load", function () {
  var element = document.getElementById("redoc");
  Redoc.init(element.dataset.openapiUrl, {}, element);
});
