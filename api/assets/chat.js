// The web chat, with no third-party code. The server issues the session token; it lives only
// in this tab's sessionStorage: closing the tab forgets it. When the server refuses it
// (expired after a long silence), the page starts a new chat.
(function () {
  "use strict";
  var log = document.getElementById("log");
  var form = document.getElementById("send");
  var box = document.getElementById("message");
  var langButton = document.getElementById("lang");
  var lang = "fr";
  var token = sessionStorage.getItem("relais-chat");
  var socket = null;
  var typingNote = document.getElementById("typing");
  var typingTimer = null;
  var lastTyping = 0;

  // "A listener is typing…" for a few seconds after each signal.
  function showTyping() {
    typingNote.hidden = false;
    clearTimeout(typingTimer);
    typingTimer = setTimeout(function () { typingNote.hidden = true; }, 6000);
  }

  function uuid() {
    if (crypto.randomUUID) return crypto.randomUUID();
    var b = crypto.getRandomValues(new Uint8Array(16));
    b[6] = (b[6] & 15) | 64; b[8] = (b[8] & 63) | 128;
    var h = Array.prototype.map.call(b, function (x) { return (x + 256).toString(16).slice(1); }).join("");
    return h.slice(0, 8) + "-" + h.slice(8, 12) + "-" + h.slice(12, 16) + "-" + h.slice(16, 20) + "-" + h.slice(20);
  }

  function show(from, text, choices) {
    var item = document.createElement("li");
    item.className = from;
    item.textContent = text;
    if (choices && choices.length) {
      var row = document.createElement("div");
      row.className = "choices";
      choices.forEach(function (c) {
        var b = document.createElement("button");
        b.type = "button";
        b.textContent = c.label;
        b.addEventListener("click", function () { send({ choice: c.key }, c.label); });
        row.appendChild(b);
      });
      item.appendChild(row);
    }
    log.appendChild(item);
    item.scrollIntoView({ block: "end" });
  }

  // The server no longer knows this session: forget it; the next message starts a new chat.
  function forget() {
    if (!token) return;
    token = null;
    sessionStorage.removeItem("relais-chat");
    if (socket) { var old = socket; socket = null; old.onclose = null; old.close(); }
    show("line", lang === "fr"
      ? "Cette conversation a expiré. Votre prochain message commence une nouvelle conversation."
      : "This conversation has expired. Your next message starts a new one.");
  }

  function ensureSession() {
    if (token) return Promise.resolve(token);
    return fetch("/chat/api/sessions", { method: "POST" })
      .then(function (r) { return r.json(); })
      .then(function (body) { token = body.token; sessionStorage.setItem("relais-chat", token); connect(); return token; });
  }

  function post(message, retry) {
    return ensureSession().then(function (t) {
      return fetch("/chat/api/messages", {
        method: "POST",
        headers: { "Content-Type": "application/json", "X-Chat-Session": t },
        body: JSON.stringify(message)
      }).then(function (r) {
        if (r.status === 401 && retry) { forget(); return post(message, false); }
        return r;
      });
    });
  }

  function send(message, shown) {
    message.id = uuid();
    show("you", shown);
    return post(message, true);
  }

  function connect() {
    if (!token || socket) return;
    var scheme = location.protocol === "https:" ? "wss://" : "ws://";
    socket = new WebSocket(scheme + location.host + "/chat/ws");
    socket.onopen = function () { socket.send(JSON.stringify({ session: token })); };
    socket.onmessage = function (e) {
      var event = JSON.parse(e.data);
      if (event.type === "message") { typingNote.hidden = true; show("line", event.text, event.choices); }
      if (event.type === "typing") showTyping();
      if (event.type === "resync") history();
      if (event.type === "expired") forget();
    };
    socket.onclose = function () { socket = null; setTimeout(connect, 3000); };
  }

  function history() {
    if (!token) return;
    fetch("/chat/api/messages", { headers: { "X-Chat-Session": token } })
      .then(function (r) {
        if (r.status === 401) { forget(); return null; }
        return r.ok ? r.json() : { items: [] };
      })
      .then(function (body) {
        if (!body) return;
        log.textContent = "";
        body.items.forEach(function (m) { show(m.from, m.text); });
      });
  }

  // Tell the listener the person is typing, at most every three seconds.
  box.addEventListener("input", function () {
    var now = Date.now();
    if (!socket || socket.readyState !== 1 || now - lastTyping < 3000) return;
    lastTyping = now;
    socket.send(JSON.stringify({ type: "typing" }));
  });

  form.addEventListener("submit", function (e) {
    e.preventDefault();
    var text = box.value.trim();
    if (!text) return;
    box.value = "";
    send({ text: text }, text);
  });

  langButton.addEventListener("click", function () {
    lang = lang === "fr" ? "en" : "fr";
    document.documentElement.lang = lang;
    langButton.textContent = lang === "fr" ? "English" : "Français";
    langButton.setAttribute("aria-pressed", String(lang === "en"));
    document.querySelectorAll("[data-fr]").forEach(function (el) { el.textContent = el.getAttribute("data-" + lang); });
    if (token) send({ text: lang === "fr" ? "FR" : "EN" }, lang === "fr" ? "Français" : "English");
  });

  history();
  connect();
})();
