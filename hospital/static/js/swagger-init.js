// Boots Swagger UI from local files with the spec URL given by the page.
(function () {
  "use strict";
  var container = document.getElementById("swagger-ui-container");
  window.ui = SwaggerUIBundle({ url: container.dataset.specUrl, dom_id: "#swagger-ui-container" });
})();
