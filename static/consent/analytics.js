/* Workpex first-party analytics: counts page views per page per day, nothing about the person.
 * This file is only put into a page once the visitor accepted analytics (decided on the server).
 * A cookie that expires at midnight marks "already counted as a visit today"; it holds no id. */
(function () {
  "use strict";
  var script = document.currentScript;
  var endpoint = script && script.getAttribute("data-endpoint");
  if (!endpoint) { return; }
  var visited = document.cookie.split("; ").indexOf("wpx_analytics_visit=1") !== -1;
  if (!visited) {
    var midnight = new Date();
    midnight.setHours(24, 0, 0, 0);
    document.cookie = "wpx_analytics_visit=1; expires=" + midnight.toUTCString() + "; path=/; SameSite=Lax";
  }
  var body = JSON.stringify({ path: window.location.pathname, first: !visited });
  if (navigator.sendBeacon) {
    navigator.sendBeacon(endpoint, new Blob([body], { type: "application/json" }));
  } else {
    fetch(endpoint, { method: "POST", body: body, headers: { "Content-Type": "application/json" }, keepalive: true, credentials: "same-origin" });
  }
})();
