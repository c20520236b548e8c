// Starts Swagger UI on /docs from the page's data attributes (no inline script: the CSP allows
// only the app's own files).
window.addEventListener("load", function () {
  var element = document.getElementById("swagger-ui");
  window.ui = SwaggerUIBundle({
    url: element.dataset.openapiUrl,
    dom_id: "#swagger-ui",
    deepLinking: true,
    layout: "BaseLayout",
    presets: [SwaggerUIBundle.presets.apis, SwaggerUIBundle.SwaggerUIStandalonePreset],
    oauth2RedirectUrl: window.location.origin + element.dataset.oauth2RedirectUrl,
    showExtensions: true,
    showCommonExtensions: true,
    validatorUrl: null
  });
});
