/* Safe City "notify me on this device" (warden page): registers the Web Push service worker
 * (assets/notify-sw.js), subscribes with the notifier's VAPID key (GET /api/v1/me/push-key) and
 * stores the subscription for the logged-in user (POST /api/v1/me/push-subscriptions). Alerts
 * then reach the phone with the page closed. Served from dashboard/assets (no CDN). */
(function () {
  "use strict";
  var SW_URL = "/assets/notify-sw.js", SW_SCOPE = "/assets/";

  function say(text, ok) {
    var el = document.getElementById("wd-notify-state");
    if (el) {
      el.textContent = text;
      el.className = "small mb-2 " + (ok ? "text-success" : "text-danger");
    }
    document.body.setAttribute("data-push", ok ? "subscribed" : "failed");
  }

  function csrf() {
    var m = document.cookie.match(/(?:^|;\s*)sc_csrf=([^;]+)/);
    return m ? decodeURIComponent(m[1]) : "";
  }

  function keyBytes(b64url) {
    var b64 = b64url.replace(/-/g, "+").replace(/_/g, "/");
    b64 += "====".slice(0, (4 - b64.length % 4) % 4);
    var raw = window.atob(b64), out = new Uint8Array(raw.length);
    for (var i = 0; i < raw.length; i++) { out[i] = raw.charCodeAt(i); }
    return out;
  }

  function json(resp) {
    return resp.json().catch(function () { return {}; }).then(function (body) {
      if (!resp.ok) { throw new Error(body.error || ("HTTP " + resp.status)); }
      return body;
    });
  }

  function active(reg) {
    // pushManager.subscribe needs an active worker; wait for a fresh one to activate.
    return new Promise(function (resolve) {
      var w = reg.active || reg.waiting || reg.installing;
      if (reg.active || !w) { resolve(reg); return; }
      w.addEventListener("statechange", function () { if (w.state === "activated") { resolve(reg); } });
    });
  }

  function subscribe() {
    if (!("serviceWorker" in navigator) || !("PushManager" in window) || !("Notification" in window)) {
      return Promise.reject(new Error("this browser cannot receive push notifications"));
    }
    if (!window.isSecureContext) {
      return Promise.reject(new Error("push notifications need the dashboard over HTTPS"));
    }
    return Notification.requestPermission().then(function (perm) {
      if (perm !== "granted") { throw new Error("notifications are blocked for this site"); }
      return fetch("/api/v1/me/push-key", {credentials: "same-origin"}).then(json);
    }).then(function (body) {
      return navigator.serviceWorker.register(SW_URL, {scope: SW_SCOPE}).then(active).then(function (reg) {
        return reg.pushManager.getSubscription().then(function (old) {
          return old || reg.pushManager.subscribe({userVisibleOnly: true, applicationServerKey: keyBytes(body.public_key)});
        });
      });
    }).then(function (sub) {
      return fetch("/api/v1/me/push-subscriptions", {
        method: "POST",
        credentials: "same-origin",
        headers: {"Content-Type": "application/json", "X-CSRF-Token": csrf()},
        body: JSON.stringify(sub.toJSON())
      }).then(json);
    });
  }

  document.addEventListener("click", function (ev) {
    var btn = ev.target && ev.target.closest ? ev.target.closest("#wd-notify") : null;
    if (!btn) { return; }
    ev.preventDefault();
    say("Subscribing...", true);
    subscribe().then(function () {
      say("This device will get your alerts, even with the page closed.", true);
    }).catch(function (err) {
      say("Not subscribed: " + (err && err.message ? err.message : err), false);
    });
  });

  window.safecityNotify = {subscribe: subscribe};
})();
