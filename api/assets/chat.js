// The web chat, with no third-party code. The server issues the session token; it lives only
// in this tab's sessionStorage: closing the tab forgets it. When the server refuses it
// (expired after a long silence), the page starts a new chat.
//
// Nothing the person writes is lost without them seeing it: each message keeps its id, waits
// in the page until the server has taken it (the server drops a repeat of an id it already
// has), and shows "not sent, retry" while it cannot go. The first message waits until the
// socket listens ("ready"), so the bot's reply cannot pass before it; after any reconnect the
// page catches up from the history, each message once (by its id).
(function () {
  "use strict";
  // Where "quick exit" goes: a neutral site, replacing this page in the history.
  var NEUTRAL = "https://www.google.fr/";
  var log = document.getElementById("log");
  var form = document.getElementById("send");
  var box = document.getElementById("message");
  var langButton = document.getElementById("lang");
  var exitButton = document.getElementById("exit");
  var lang = "fr";
  var token = sessionStorage.getItem("relais-chat");
  var socket = null;
  var ready = null; // a promise, resolved when the socket says "ready"
  var markReady = null;
  var typingNote = document.getElementById("typing");
  var typingTimer = null;
  var lastTyping = 0;
  var shownIds = new Set(); // the line's messages on screen, by id
  var queue = []; // the person's messages not yet taken by the server, in order
  var flushing = false;

  var TEXT = {
    fr: { sending: "Envoi…", failed: "Non envoyé.", retry: "Réessayer", expired: "Cette conversation a expiré. Votre prochain message commence une nouvelle conversation." },
    en: { sending: "Sending…", failed: "Not sent.", retry: "Retry", expired: "This conversation has expired. Your next message starts a new one." }
  };

  function t(key) { return TEXT[lang][key]; }

  // Quick exit: forget the chat, blank the page, and leave for a neutral site without leaving
  // this page in the history (the back button does not return here).
  function quickExit() {
    sessionStorage.removeItem("relais-chat");
    token = null;
    if (socket) { socket.onclose = null; socket.close(); }
    document.body.textContent = "";
    location.replace(NEUTRAL);
  }
  exitButton.addEventListener("click", quickExit);
  var lastEscape = 0;
  document.addEventListener("keydown", function (e) {
    if (e.key !== "Escape") return;
    var now = Date.now();
    if (now - lastEscape < 1000) quickExit();
    lastEscape = now;
  });

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

  // Buttons of earlier messages no longer apply.
  function disableChoices() {
    log.querySelectorAll(".choices button").forEach(function (b) { b.disabled = true; });
  }

  function show(from, text, choices, id) {
    if (id) {
      if (shownIds.has(id)) return null;
      shownIds.add(id);
    }
    if (from === "line") disableChoices();
    var item = document.createElement("li");
    item.className = from;
    var words = document.createElement("span");
    words.textContent = text;
    item.appendChild(words);
    if (choices && choices.length) {
      var row = document.createElement("div");
      row.className = "choices";
      choices.forEach(function (c) {
        var b = document.createElement("button");
        b.type = "button";
        b.textContent = c.label;
        b.addEventListener("click", function () {
          disableChoices();
          send({ choice: c.key }, c.label);
        });
        row.appendChild(b);
      });
      item.appendChild(row);
    }
    log.appendChild(item);
    item.scrollIntoView({ block: "end" });
    return item;
  }

  // The server no longer knows this session: forget it; the next message starts a new chat.
  function forget() {
    if (!token) return;
    token = null;
    sessionStorage.removeItem("relais-chat");
    if (socket) { var old = socket; socket = null; old.onclose = null; old.close(); }
    ready = null;
    show("line", t("expired"));
  }

  function ensureSession() {
    if (token) return Promise.resolve(token);
    return fetch("/chat/api/sessions", { method: "POST" })
      .then(function (r) {
        if (!r.ok) throw new Error("session " + r.status);
        return r.json();
      })
      .then(function (body) { token = body.token; sessionStorage.setItem("relais-chat", token); connect(); return token; });
  }

  // Waits (at most five seconds) until the socket listens; the message goes anyway after that:
  // the page catches up from the history when the socket comes.
  function whenListening() {
    if (!ready) connect();
    var wait = new Promise(function (resolve) { setTimeout(resolve, 5000); });
    return Promise.race([ready || wait, wait]);
  }

  function status(entry, state) {
    entry.item.classList.toggle("pending", state !== "sent");
    var note = entry.item.querySelector(".status");
    if (state === "sent") { if (note) note.remove(); return; }
    if (!note) {
      note = document.createElement("div");
      note.className = "status";
      entry.item.appendChild(note);
    }
    note.textContent = "";
    if (state === "sending") { note.textContent = t("sending"); return; }
    note.textContent = t("failed") + " ";
    if (state === "refused") return;
    var again = document.createElement("button");
    again.type = "button";
    again.textContent = t("retry");
    again.addEventListener("click", flush);
    note.appendChild(again);
  }

  function post(message, retry) {
    return ensureSession().then(function (session) {
      return whenListening().then(function () {
        return fetch("/chat/api/messages", {
          method: "POST",
          headers: { "Content-Type": "application/json", "X-Chat-Session": session },
          body: JSON.stringify(message)
        });
      }).then(function (r) {
        if (r.status === 401 && retry) { forget(); return post(message, false); }
        return r;
      });
    });
  }

  // Sends the waiting messages, oldest first; stops at the first that cannot go (it shows
  // "not sent"), so that the order holds. Tried again when the network returns, every ten
  // seconds while something waits, and on "retry".
  function flush() {
    if (flushing || !queue.length) return;
    flushing = true;
    var entry = queue[0];
    status(entry, "sending");
    post(entry.message, true)
      .then(function (r) {
        if (r.status >= 500 || r.status === 429) throw new Error("status " + r.status);
        // Taken (202), or refused for good (another 4xx: it would never go): not again.
        queue.shift();
        status(entry, r.ok ? "sent" : "refused");
        flushing = false;
        flush();
      })
      .catch(function () {
        status(entry, "failed");
        flushing = false;
      });
  }
  window.addEventListener("online", flush);
  setInterval(flush, 10000);

  function send(message, shown) {
    message.id = uuid();
    var entry = { message: message, item: shown === null ? null : show("you", shown) };
    if (!entry.item) {
      // Not shown (a language switch): sent once, best effort.
      post(message, true).catch(function () {});
      return;
    }
    queue.push(entry);
    flush();
  }

  function connect() {
    if (!token || socket) return;
    if (!ready) ready = new Promise(function (resolve) { markReady = resolve; });
    var scheme = location.protocol === "https:" ? "wss://" : "ws://";
    socket = new WebSocket(scheme + location.host + "/chat/ws");
    socket.onopen = function () { socket.send(JSON.stringify({ session: token })); };
    socket.onmessage = function (e) {
      var event = JSON.parse(e.data);
      if (event.type === "ready") { markReady(); catchUp(); }
      if (event.type === "message") { typingNote.hidden = true; show("line", event.text, event.choices, event.id); }
      if (event.type === "typing") showTyping();
      if (event.type === "resync") catchUp();
      if (event.type === "expired") forget();
    };
    socket.onclose = function () {
      socket = null;
      ready = null;
      setTimeout(connect, 3000);
    };
  }

  function fetchHistory() {
    if (!token) return Promise.resolve(null);
    return fetch("/chat/api/messages", { headers: { "X-Chat-Session": token } })
      .then(function (r) {
        if (r.status === 401) { forget(); return null; }
        return r.ok ? r.json() : null;
      })
      .catch(function () { return null; });
  }

  // On opening the page: the conversation so far.
  function history() {
    return fetchHistory().then(function (body) {
      if (!body) return;
      log.textContent = "";
      shownIds.clear();
      body.items.forEach(function (m) { show(m.from, m.text, m.choices, m.from === "line" ? m.id : null); });
    });
  }

  // After a reconnect: the line's messages that came while the socket was away, once each.
  function catchUp() {
    fetchHistory().then(function (body) {
      if (!body) return;
      // The history gives the last message's buttons: a reply that reached the history before
      // its frame reached the socket keeps them.
      body.items.forEach(function (m) { if (m.from === "line") show("line", m.text, m.choices, m.id); });
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

  // The page's language, and the bot's: the switch is no message of the person's.
  langButton.addEventListener("click", function () {
    lang = lang === "fr" ? "en" : "fr";
    document.documentElement.lang = lang;
    langButton.textContent = lang === "fr" ? "English" : "Français";
    langButton.setAttribute("aria-pressed", String(lang === "en"));
    document.querySelectorAll("[data-fr]").forEach(function (el) { el.textContent = el.getAttribute("data-" + lang); });
    if (token) send({ text: lang === "fr" ? "FR" : "EN" }, null);
  });

  history().then(connect);
})();
