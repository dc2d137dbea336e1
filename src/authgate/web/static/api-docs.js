// Starts Swagger UI (/docs) or ReDoc (/redoc) on the page's #api-docs element,
// from this server's files: the pages' CSP allows no inline script.
"use strict";
const root = document.getElementById("api-docs");
const url = root.dataset.openapiUrl;
if (root.dataset.ui === "swagger") {
  SwaggerUIBundle({
    url,
    domNode: root,
    presets: [SwaggerUIBundle.presets.apis, SwaggerUIBundle.SwaggerUIStandalonePreset],
    layout: "BaseLayout",
    deepLinking: true,
    // The default sends the schema's URL to validator.swagger.io for a badge.
    validatorUrl: null,
  });
} else {
  Redoc.init(url, {}, root);
}
