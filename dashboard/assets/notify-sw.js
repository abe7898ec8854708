/* Safe City Web Push service worker: shows an incident alert pushed by the notifier
 * (services/notify/webpush.py) as a notification, even when no Safe City page is open, and
 * opens the warden page when it is tapped. Registered by notify.js from the warden page;
 * served locally from dashboard/assets (Dash is told not to load it into pages). */
"use strict";

self.addEventListener("install", function () { self.skipWaiting(); });
self.addEventListener("activate", function (event) { event.waitUntil(self.clients.claim()); });

self.addEventListener("push", function (event) {
  var msg = {};
  try {
    msg = event.data ? event.data.json() : {};
  } catch (e) {
    msg = {title: "Safe City alert", body: event.data ? event.data.text() : ""};
  }
  var options = {
    body: msg.body || msg.summary || "",
    tag: msg.tag || undefined,
    renotify: Boolean(msg.tag),
    requireInteraction: (msg.severity || 0) >= 2,
    vibrate: [200, 100, 200],
    data: {url: msg.url || "/warden", alert_id: msg.alert_id || ""}
  };
  event.waitUntil(self.registration.showNotification(msg.title || "Safe City alert", options));
});

self.addEventListener("notificationclick", function (event) {
  event.notification.close();
  var url = (event.notification.data && event.notification.data.url) || "/warden";
  event.waitUntil(
    self.clients.matchAll({type: "window", includeUncontrolled: true}).then(function (list) {
      for (var i = 0; i < list.length; i++) {
        if (list[i].url.indexOf(url) >= 0 && "focus" in list[i]) { return list[i].focus(); }
      }
      return self.clients.openWindow(url);
    })
  );
});
