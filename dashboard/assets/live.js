/* Safe City live push: one websocket per page, messages handed to Dash through set_props.
 *
 * A page's clientside callback calls dash_clientside.safecity.live_start(cfg) with
 *   {channel, url, port, store, state, tick, anchor}
 * (see dashboard/layout.py). Messages arriving within 25 ms are batched into one write of
 *   cfg.store = {seq, messages: [...]}
 * which triggers the page's callbacks. The socket reconnects with backoff; while it is
 * down the page's interval (cfg.tick) refreshes every 3 s, while it is up every 30 s.
 * Served from dashboard/assets (no CDN). */
(function () {
  "use strict";
  var ws = null, cfg = null, backoff = 500, queue = [], timer = null, seq = 0, retry = null;
  var received = []; // [{type, stream_ms, sent_ms, recv_ms}] for tests and latency checks (bounded)

  function setProps(id, props) {
    // Only while the page that asked for the socket is shown (its anchor element exists).
    if (!cfg || !document.getElementById(cfg.anchor)) { return; }
    try { window.dash_clientside.set_props(id, props); } catch (e) { /* the page is changing */ }
  }

  function wsUrl(c) {
    var base = c.url;
    if (!base) {
      var proto = window.location.protocol === "https:" ? "wss" : "ws";
      base = proto + "://" + window.location.hostname + ":" + c.port + "/ws";
    }
    return base + (base.indexOf("?") >= 0 ? "&" : "?") + "channel=" + encodeURIComponent(c.channel);
  }

  function state(text, cls, tickMs) {
    if (!cfg) { return; }
    setProps(cfg.state, {children: text, className: "badge live-state " + cls});
    setProps(cfg.tick, {interval: tickMs});
    document.body.setAttribute("data-live", text);
  }

  function flush() {
    timer = null;
    if (!queue.length || !cfg) { return; }
    seq += 1;
    var msgs = queue;
    queue = [];
    setProps(cfg.store, {data: {seq: seq, messages: msgs}});
  }

  function cue(msgs) {
    // Wardens: a visual (and, once enabled, audible) cue for each new alert.
    if (!cfg || cfg.channel !== "warden") { return; }
    var alerts = msgs.filter(function (m) { return m.type === "alert"; });
    if (!alerts.length) { return; }
    document.body.classList.remove("alert-flash");
    void document.body.offsetWidth; // restart the CSS animation
    document.body.classList.add("alert-flash");
    if (navigator.vibrate) { try { navigator.vibrate([200, 100, 200]); } catch (e) { /* unsupported */ } }
    window.safecityLive.beep();
  }

  function onMessage(ev) {
    var m;
    try { m = JSON.parse(ev.data); } catch (e) { return; }
    var now = Date.now();
    var list = m.type === "batch" ? m.messages : [m];
    list.forEach(function (x) {
      received.push({type: x.type, stream_ms: x.stream_ms || m.stream_ms || 0, sent_ms: x.sent_ms || m.sent_ms || 0, recv_ms: now});
    });
    if (received.length > 500) { received.splice(0, received.length - 500); }
    Array.prototype.push.apply(queue, list);
    cue(list);
    if (!timer) { timer = setTimeout(flush, 25); }
  }

  function connect() {
    retry = null;
    if (!cfg) { return; }
    var sock;
    try { sock = new WebSocket(wsUrl(cfg)); } catch (e) { schedule(); return; }
    ws = sock;
    sock.onopen = function () { backoff = 500; state("live", "text-bg-success", 30000); };
    sock.onmessage = onMessage;
    sock.onclose = function (ev) {
      if (ws !== sock) { return; }
      ws = null;
      if (ev.code === 4401) { window.location.assign("/login"); return; }
      state("reconnecting", "text-bg-warning", 3000);
      schedule();
    };
    sock.onerror = function () { /* onclose follows */ };
  }

  function schedule() {
    if (retry || !cfg) { return; }
    retry = setTimeout(connect, backoff);
    backoff = Math.min(backoff * 2, 10000);
  }

  function stop() {
    if (retry) { clearTimeout(retry); retry = null; }
    if (ws) { var s = ws; ws = null; s.onclose = null; s.close(); }
  }

  var audio = null;
  window.safecityLive = {
    received: received,
    start: function (c) {
      if (cfg && ws && cfg.channel === c.channel && cfg.store === c.store) { return; }
      stop();
      cfg = c;
      backoff = 500;
      state("connecting", "text-bg-secondary", 3000);
      connect();
    },
    stop: stop,
    enableSound: function () {
      try {
        audio = audio || new (window.AudioContext || window.webkitAudioContext)();
        if (audio.state === "suspended") { audio.resume(); }
        window.localStorage.setItem("safecity-sound", "on");
        this.beep();
      } catch (e) { /* no audio */ }
      return true;
    },
    beep: function () {
      if (!audio || window.localStorage.getItem("safecity-sound") !== "on") { return; }
      try {
        var o = audio.createOscillator(), g = audio.createGain(), t = audio.currentTime;
        o.type = "square"; o.frequency.value = 880;
        g.gain.setValueAtTime(0.15, t); g.gain.exponentialRampToValueAtTime(0.001, t + 0.6);
        o.connect(g); g.connect(audio.destination); o.start(t); o.stop(t + 0.6);
      } catch (e) { /* no audio */ }
    }
  };

  window.dash_clientside = Object.assign({}, window.dash_clientside, {
    safecity: {
      live_start: function (c) {
        if (c) { window.safecityLive.start(c); }
        return window.dash_clientside.no_update;
      },
      enable_sound: function (n) {
        if (n) { window.safecityLive.enableSound(); return "Sound on"; }
        return window.dash_clientside.no_update;
      }
    }
  });
})();
