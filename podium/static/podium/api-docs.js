/* Starts Swagger UI on the API docs page (podium/templates/api_docs.html).
 *
 * A static file because the Content Security Policy allows no inline script. "Try it out"
 * works with a bearer token (the Authorize button; kept only in memory) or, for a signed-in
 * user, with the session: unsafe requests then carry the CSRF token from its cookie. */
(function () {
  "use strict";

  var root = document.getElementById("api-docs");
  if (!root || typeof window.SwaggerUIBundle !== "function") {
    return;
  }

  function cookie(name) {
    var pairs = document.cookie ? document.cookie.split(";") : [];
    for (var i = 0; i < pairs.length; i += 1) {
      var pair = pairs[i].trim();
      if (pair.indexOf(name + "=") === 0) {
        return decodeURIComponent(pair.slice(name.length + 1));
      }
    }
    return null;
  }

  window.SwaggerUIBundle({
    url: root.dataset.schemaUrl,
    domNode: root,
    deepLinking: true,
    presets: [window.SwaggerUIBundle.presets.apis],
    layout: "BaseLayout",
    persistAuthorization: false,
    validatorUrl: null,
    requestInterceptor: function (request) {
      var method = (request.method || "GET").toUpperCase();
      var token = cookie(root.dataset.csrfCookie);
      if (token && ["GET", "HEAD", "OPTIONS"].indexOf(method) === -1) {
        request.headers["X-CSRFToken"] = token;
      }
      return request;
    }
  });
})();
