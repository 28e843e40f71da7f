#!/usr/bin/env python3
"""The Python half of bench/soak.sh (standard library only). One role per invocation:

  fake      a fake Telegram Bot API that records what the bot sends and answers as the person
            would: consent to an orientation ("consent_yes"), then the last slot offered
            (the latest), by posting callback_query updates to the instances' webhook. It
            recognises the listeners' replies ("soak reply L-N"), the appointment reminders and
            the booking confirmations, and serves its counts at GET /_soak/counts (small) and
            GET /_soak/dump (everything, for the verdict).
  load      Telegram webhooks at a fixed rate, alternately to each instance; one chat in
            SOAK_LISTENER_EVERY asks for a listener, the others say "Bonjour".
  work      the staff through the API, like a working day: two listeners (one per instance,
            each with a /v1/live WebSocket) take waiting conversations, reply, orient some to
            the centre and close them (counting any they closed that is active again); the
            centre's manager publishes a slot every minute two hours and a few minutes ahead
            (so the two-hours-before reminder falls due during the run); a practitioner opens
            cases and files housing requests; the housing operator places them, or marks them
            unmet, then ends, extends or no-shows the placements. Every call's answer is
            counted by route.
  activity  one line of per-minute counts (for activity.tsv).
  report    the verdict from the files of a run.
"""
import argparse
import base64
import collections
import datetime
import http.client
import itertools
import json
import os
import queue
import random
import re
import socket
import struct
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
REPLY = re.compile(r"soak reply (\d+-\d+)")
LISTENER_TEXT = "Je voudrais parler à un écoutant"
CALLBACK_IDS = 900_000_000  # update ids of the person's button presses (the load's count from 1)
# What the bot sends, by the start of its French text (data/bot/script.toml), for the tally.
KINDS = [("soak reply", "listener reply"), ("Rappel", "reminder"), ("Bonjour, vous écrivez", "welcome"),
         ("D'abord", "danger question"), ("Vous êtes", "queue place"), ("Merci. Un·e écoutant·e", "queued"),
         ("Votre message est bien transmis", "waiting acknowledged"), ("Je n'ai pas compris", "help"),
         ("Je ne suis qu'un robot", "not understood"), ("Si quelqu'un est en danger", "safety numbers"),
         ("Si vous pensez", "safety numbers"), ("Si vous subissez", "safety numbers"),
         ("L'écoutant vous propose", "orientation consent"), ("Voici les prochains", "slots offered"),
         ("Ce créneau", "slots offered"), ("Rendez-vous confirmé", "booked"), ("Qui nous écrit", "who question"),
         ("Que souhaitez-vous", "menu"), ("Merci de nous avoir écrit cela", "story")]


def write_json(path, data):
    tmp = f"{path}.tmp"
    with open(tmp, "w") as f:
        json.dump(data, f)
    os.replace(tmp, path)


def post_webhook(conns, port, secret, update, tries=None):
    """Posts one update as Telegram does: after a connection failure or a timeout, once more on
    a fresh connection (the same update id: the server must store it once). The HTTP status, or
    0 with the error's name. `tries`, a Counter: counts the retries."""
    body = json.dumps(update)
    error = ""
    for attempt in range(2):
        entry = conns.pop(port, None)
        if entry and time.monotonic() - entry[1] > 2.0:  # the server may be closing it
            entry[0].close()
            entry = None
        c = entry[0] if entry else http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        try:
            c.request("POST", "/webhooks/telegram", body, {"content-type": "application/json",
                      "X-Telegram-Bot-Api-Secret-Token": secret})
            r = c.getresponse()
            r.read()
            conns[port] = (c, time.monotonic())
            return r.status, ""
        except (OSError, http.client.HTTPException) as e:
            c.close()
            error = type(e).__name__
            if tries is not None and attempt == 0:
                tries[f"retried after {error}"] += 1
    return 0, error


# ---- fake Telegram, and the person's side of an orientation ------------------------------------
def fake(args):
    ports = [int(p) for p in args.ports.split(",")]
    lock = threading.Lock()
    ids = itertools.count(1)
    state = {
        "sends": 0, "chat_actions": 0, "callbacks_answered": 0, "other_calls": 0,
        "replies": collections.Counter(),          # "L-N" -> times received
        "reply_at": {},                            # "L-N" -> when first received (epoch seconds)
        "day_before": collections.Counter(),       # chat -> reminders received
        "two_hours": collections.Counter(),
        "booked": collections.Counter(),           # chat -> confirmations received
        "consent_asked": 0, "consent_yes": 0, "consent_no": 0, "slots_offered": 0,
        "no_slots": 0, "slot_taken": 0, "pressed": 0, "press_failed": 0,
        "press_failures": collections.Counter(),   # status -> tries not acknowledged (0: no answer)
        "kinds": collections.Counter(),            # what the bot sent, by kind (KINDS)
    }
    presses = queue.Queue()
    acked = open(args.acked, "w", buffering=1)

    def presser():
        conns, n = {}, 0
        while True:
            chat, data = presses.get()
            time.sleep(random.uniform(0.2, 1.5))  # the person reads, then presses
            n += 1
            uid = CALLBACK_IDS + n
            update = {"update_id": uid, "callback_query": {
                "id": f"cb{uid}", "from": {"id": chat, "is_bot": False, "first_name": "S"},
                "chat_instance": "soak", "data": data,
                "message": {"message_id": 1, "date": int(time.time()),
                            "chat": {"id": chat, "type": "private", "first_name": "S"},
                            "from": {"id": 42, "is_bot": True, "first_name": "Relais"}, "text": "?"}}}
            # Retried as Telegram retries (the same update id: the server must store it once).
            for attempt in range(3):
                status, error = post_webhook(conns, ports[(n + attempt) % len(ports)], args.secret, update)
                if status == 200:
                    break
                with lock:
                    state["press_failures"][f"{status} {error}".strip()] += 1
                time.sleep(1)
            with lock:
                if status == 200:
                    state["pressed"] += 1
                    acked.write(f"{uid}\n")
                else:
                    state["press_failed"] += 1

    threading.Thread(target=presser, daemon=True).start()

    def record(body):
        chat = body.get("chat_id", 0)
        text = body.get("text") or ""
        keys = [row[0].get("callback_data") for row in
                ((body.get("reply_markup") or {}).get("inline_keyboard") or []) if row]
        kind = next((k for prefix, k in KINDS if text.startswith(prefix)), "other: " + text[:30])
        with lock:
            state["sends"] += 1
            state["kinds"][kind] += 1
            m = REPLY.search(text)
            if m:
                state["replies"][m.group(1)] += 1
                state["reply_at"].setdefault(m.group(1), time.time())
            if text.startswith(("Rappel : rendez-vous demain", "Reminder: appointment tomorrow")):
                state["day_before"][chat] += 1
            elif text.startswith(("Rappel : votre rendez-vous", "Reminder: your appointment")):
                state["two_hours"][chat] += 1
            if "Rendez-vous confirmé" in text or "Appointment confirmed" in text:
                state["booked"][chat] += 1
            if "pas de créneau libre" in text or "has no free time" in text:
                state["no_slots"] += 1
            if "vient d'être pris" in text or "has just taken" in text:
                state["slot_taken"] += 1
            if "consent_yes" in keys:
                state["consent_asked"] += 1
                # One appointment per chat, so that each reminder is expected exactly once.
                answer = "consent_no" if state["booked"][chat] else "consent_yes"
                state[answer] += 1
                presses.put((chat, answer))
            else:
                offered = [k for k in keys if k and k.startswith("slot:")]
                if offered:
                    # The last one offered: the latest start, so the longest before its booking
                    # closes (two hours before it starts).
                    state["slots_offered"] += 1
                    presses.put((chat, offered[-1]))

    def counts():
        with lock:
            return {
                "sends": state["sends"], "chat_actions": state["chat_actions"],
                "replies_received": sum(state["replies"].values()),
                "day_before": sum(state["day_before"].values()),
                "two_hours": sum(state["two_hours"].values()),
                "booked": sum(state["booked"].values()),
                "consent_asked": state["consent_asked"], "pressed": state["pressed"],
            }

    class H(BaseHTTPRequestHandler):
        # Keep-alive, as Telegram's API: the server's sender reuses its connections. Each answer
        # goes out in one segment, Nagle off: a header and a body written apart would wait for
        # the client's delayed ACK (40 ms an answer).
        protocol_version = "HTTP/1.1"

        def setup(self):
            super().setup()
            self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

        def answer(self, data):
            data = json.dumps(data).encode()
            head = (f"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n"
                    f"content-length: {len(data)}\r\n\r\n").encode()
            self.wfile.write(head + data)

        def do_GET(self):
            if self.path == "/_soak/counts":
                return self.answer(counts())
            if self.path == "/_soak/dump":
                with lock:
                    dump = {k: (dict(v) if isinstance(v, collections.Counter) else v) for k, v in state.items()}
                return self.answer(dump)
            return self.do_POST()

        def do_POST(self):
            raw = self.rfile.read(int(self.headers.get("content-length") or 0))
            try:
                body = json.loads(raw or b"{}")
            except ValueError:
                body = {}
            if self.path.endswith("/getMe"):
                result = {"id": 42, "is_bot": True, "first_name": "Relais", "username": "soak_bot"}
            elif self.path.endswith("/sendMessage"):
                record(body)
                result = {"message_id": next(ids), "date": int(time.time()),
                          "chat": {"id": body.get("chat_id", 0), "type": "private"}, "text": "ok"}
            else:
                with lock:
                    if self.path.endswith("/sendChatAction"):
                        state["chat_actions"] += 1
                    elif self.path.endswith("/answerCallbackQuery"):
                        state["callbacks_answered"] += 1
                    else:
                        state["other_calls"] += 1
                result = True
            self.answer({"ok": True, "result": result})

        def log_message(self, *a):
            pass

    ThreadingHTTPServer.daemon_threads = True
    ThreadingHTTPServer(("127.0.0.1", args.port), H).serve_forever()


# ---- webhook load --------------------------------------------------------------------------------
def load(args):
    ports = [int(p) for p in args.ports.split(",")]
    jobs = queue.Queue(maxsize=1000)
    acked = open(args.acked, "w")
    lock = threading.Lock()
    statuses = collections.Counter()

    def worker():
        conns = {}
        while True:
            job = jobs.get()
            if job is None:
                return
            update_id, port = job
            chat = 5_000_000 + update_id % args.chats
            text = LISTENER_TEXT if (update_id % args.chats) % args.listener_every == 0 else "Bonjour"
            tries = collections.Counter()
            status, error = post_webhook(conns, port, args.secret, {
                "update_id": update_id, "message": {"message_id": update_id, "date": int(time.time()),
                "chat": {"id": chat, "type": "private", "first_name": "S"},
                "from": {"id": chat, "is_bot": False, "first_name": "S"}, "text": text}}, tries)
            with lock:
                statuses[f"{status} {error}".strip()] += 1
                statuses.update(tries)
                if status == 200:
                    acked.write(f"{update_id}\n")

    threads = [threading.Thread(target=worker, daemon=True) for _ in range(16)]
    for t in threads:
        t.start()
    start = time.time()
    for n in itertools.count(1):
        due = start + n / args.rate
        if due - start > args.seconds:
            break
        time.sleep(max(0.0, due - time.time()))
        jobs.put((n, ports[n % len(ports)]))
    for _ in threads:
        jobs.put(None)
    for t in threads:
        t.join()
    acked.close()
    write_json(args.stats, dict(statuses))


# ---- the staff's side: HTTP client, sessions, live sockets ------------------------------------------
class Stats:
    """Every API answer, by route and status."""

    def __init__(self):
        self.lock = threading.RLock()
        self.by_route = collections.defaultdict(collections.Counter)
        self.races = collections.Counter()
        self.problems = collections.defaultdict(list)  # route -> a few unexpected answers' bodies

    def add(self, method, path, status, body):
        route = f"{method} {UUID.sub('{id}', path.split('?')[0])}"
        with self.lock:
            self.by_route[route][status] += 1
            if not 200 <= status < 300 and len(self.problems[route]) < 3:
                self.problems[route].append(f"{status} {str(body)[:300]}")
        return route

    def race(self, what):
        with self.lock:
            self.races[what] += 1


class Api:
    """One keep-alive connection to one instance (one per thread)."""

    def __init__(self, port, stats):
        self.port, self.stats, self.conn, self.used = port, stats, None, 0.0

    def call(self, method, path, body=None, token=None):
        headers = {}
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["content-type"] = "application/json"
        if token:
            headers["authorization"] = f"Bearer {token}"
        # An idle connection may be closing on the server's side: start afresh rather than
        # retry a POST that may have been applied.
        if self.conn is not None and time.monotonic() - self.used > 2.0:
            self.conn.close()
            self.conn = None
        try:
            if self.conn is None:
                self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
            self.conn.request(method, path, data, headers)
            r = self.conn.getresponse()
            raw = r.read()
            status = r.status
        except (OSError, http.client.HTTPException) as e:
            if self.conn is not None:
                self.conn.close()
            self.conn = None
            self.stats.add(method, path, 0, repr(e))
            return 0, None
        self.used = time.monotonic()
        try:
            parsed = json.loads(raw) if raw else None
        except ValueError:
            parsed = raw[:200].decode(errors="replace")
        self.stats.add(method, path, status, parsed)
        return status, parsed


class Session:
    """A staff member logged in on one instance; refreshes the access token before it expires."""

    def __init__(self, email, password, port, stats):
        self.email, self.password = email, password
        self.api = Api(port, stats)
        self.lock = threading.Lock()
        self.access = self.refresh_token = None
        self.expires = 0.0
        self.refreshes = 0
        self.login()

    def login(self):
        status, body = self.api.call("POST", "/v1/auth/login", {"email": self.email, "password": self.password})
        if status != 200:
            raise RuntimeError(f"login {self.email}: {status} {body}")
        self.take(body)

    def take(self, pair):
        self.access, self.refresh_token = pair["access_token"], pair["refresh_token"]
        ttl = int(pair.get("expires_in", 600))
        self.expires = time.monotonic() + ttl
        self.margin = min(60, ttl / 4)

    def token(self, stale=None):
        """A valid access token; `stale`: the one the server refused (refresh even if early)."""
        with self.lock:
            if time.monotonic() > self.expires - self.margin or (stale is not None and stale == self.access):
                status, body = self.api.call("POST", "/v1/auth/refresh", {"refresh_token": self.refresh_token})
                if status == 200:
                    self.take(body)
                    self.refreshes += 1
                else:
                    self.login()
            return self.access


class WebSocket:
    """A minimal client WebSocket (RFC 6455): text frames, ping/pong, close."""

    def __init__(self, port, path):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=10)
        key = base64.b64encode(os.urandom(16)).decode()
        self.sock.sendall((f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\n"
                           f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
                           "Sec-WebSocket-Version: 13\r\n\r\n").encode())
        buf = b""
        while b"\r\n\r\n" not in buf:
            chunk = self.sock.recv(4096)
            if not chunk:
                raise OSError("closed during the handshake")
            buf += chunk
        head, self.buf = buf.split(b"\r\n\r\n", 1)
        status_line = head.split(b"\r\n", 1)[0]
        if b" 101 " not in status_line:
            raise OSError("handshake refused: " + status_line.decode(errors="replace"))
        self.parts = []

    def send(self, opcode, payload):
        mask = os.urandom(4)
        n = len(payload)
        head = bytes([0x80 | opcode])
        if n < 126:
            head += bytes([0x80 | n])
        elif n < 65536:
            head += bytes([0x80 | 126]) + struct.pack(">H", n)
        else:
            head += bytes([0x80 | 127]) + struct.pack(">Q", n)
        self.sock.sendall(head + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload)))

    def _frame(self):
        b = self.buf
        if len(b) < 2:
            return None
        fin, op, masked, n, i = b[0] & 0x80, b[0] & 0x0F, b[1] & 0x80, b[1] & 0x7F, 2
        if n == 126:
            if len(b) < 4:
                return None
            n, i = struct.unpack(">H", b[2:4])[0], 4
        elif n == 127:
            if len(b) < 10:
                return None
            n, i = struct.unpack(">Q", b[2:10])[0], 10
        mask = None
        if masked:
            if len(b) < i + 4:
                return None
            mask, i = b[i:i + 4], i + 4
        if len(b) < i + n:
            return None
        payload = b[i:i + n]
        if mask:
            payload = bytes(c ^ mask[j % 4] for j, c in enumerate(payload))
        self.buf = b[i + n:]
        return fin, op, payload

    def recv(self, timeout):
        """(opcode, payload) of the next whole message, or None after `timeout` seconds."""
        deadline = time.monotonic() + timeout
        while True:
            frame = self._frame()
            if frame is not None:
                fin, op, payload = frame
                if op in (8, 9, 10):
                    return op, payload
                self.parts.append((op, payload))
                if fin:
                    first = self.parts[0][0]
                    whole = b"".join(p for _, p in self.parts)
                    self.parts = []
                    return first, whole
                continue
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            self.sock.settimeout(left)
            try:
                chunk = self.sock.recv(65536)
            except socket.timeout:
                return None
            if not chunk:
                raise OSError("connection closed")
            self.buf += chunk

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass


class Live(threading.Thread):
    """A listener's /v1/live socket: every event number received, reconnecting with the last
    one seen (token expiry closes with 4001)."""

    def __init__(self, session, port, stop):
        super().__init__(daemon=True)
        self.session, self.port, self.stop = session, port, stop
        self.base = None          # the number the first "ready" said: events after it are expected
        self.seqs = []
        self.out_of_order = 0
        self.connects = 0
        self.closes = collections.Counter()
        self.errors = collections.Counter()
        self.typing = 0

    def run(self):
        token = None
        while not self.stop.is_set():
            last = self.seqs[-1] if self.seqs else self.base
            try:
                ws = WebSocket(self.port, "/v1/live")
            except OSError as e:
                self.errors[str(e)[:80]] += 1
                time.sleep(1)
                continue
            try:
                token = self.session.token()
                hello = {"token": token}
                if last is not None:
                    hello["after"] = last
                ws.send(1, json.dumps(hello).encode())
                self.connects += 1
                while not self.stop.is_set():
                    got = ws.recv(1.0)
                    if got is None:
                        continue
                    op, payload = got
                    if op == 8:
                        code = struct.unpack(">H", payload[:2])[0] if len(payload) >= 2 else 1005
                        self.closes[code] += 1
                        if code == 4001:
                            self.session.token(stale=token)
                        break
                    if op == 9:
                        ws.send(10, payload)
                        continue
                    if op != 1:
                        continue
                    msg = json.loads(payload)
                    if msg.get("type") == "ready" and self.base is None:
                        self.base = msg["seq"]
                    elif msg.get("type") == "event":
                        seq = msg["seq"]
                        if self.seqs and seq <= self.seqs[-1]:
                            self.out_of_order += 1
                        self.seqs.append(seq)
                    elif msg.get("type") == "typing":
                        self.typing += 1
            except (OSError, ValueError) as e:
                self.errors[type(e).__name__] += 1
                time.sleep(0.5)
            finally:
                ws.close()

    def summary(self):
        return {"base": self.base, "received": len(self.seqs), "last": self.seqs[-1] if self.seqs else self.base,
                "out_of_order": self.out_of_order, "connects": self.connects,
                "closes": {str(k): v for k, v in self.closes.items()}, "errors": dict(self.errors),
                "typing": self.typing}


class Counters:
    def __init__(self):
        self.lock = threading.Lock()
        self.c = collections.Counter()

    def add(self, key, n=1):
        with self.lock:
            self.c[key] += n

    def snapshot(self):
        with self.lock:
            return dict(self.c)


def iso(t):
    return datetime.datetime.fromtimestamp(t, datetime.timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")


def paris_today():
    # The nights are dates; a day ahead of UTC's date is safe whatever the hour in Paris.
    return datetime.datetime.now(datetime.timezone.utc).date() + datetime.timedelta(days=1)


class Listener(threading.Thread):
    def __init__(self, n, session, ctx):
        super().__init__(daemon=True)
        self.n, self.session, self.ctx = n, session, ctx
        self.api = Api(session.api.port, ctx.stats)
        self.held = {}
        self.replies = 0
        self.posted = []      # (reply token, when posted) answered 201
        self.reopened = []    # conversations closed here (200) and later held again
        status, me = self.api.call("GET", "/v1/me", None, session.token())
        self.user_id = me["user"]["id"]
        self.uncertain = []   # reply tokens whose answer never came (connection error)

    def call(self, method, path, body=None):
        token = self.session.token()
        status, answer = self.api.call(method, path, body, token)
        if status == 401:
            status, answer = self.api.call(method, path, body, self.session.token(stale=token))
        return status, answer

    def run(self):
        ctx, c = self.ctx, self.ctx.counters
        next_presence = 0.0
        closed = set()
        unsure = set()  # takes and closes whose answer never came
        turn = 0
        while not ctx.stop.is_set():
            tick = time.monotonic()
            if tick >= next_presence:
                self.call("POST", "/v1/presence", {"status": "available"})
                next_presence = tick + 30
            # The app's "my conversations": what the server says this listener holds.
            status, page = self.call("GET", "/v1/conversations?state=active&limit=100")
            if status == 200:
                mine = {v["id"] for v in page["items"] if v["listener_id"] == self.user_id}
                for cid in mine - set(self.held):
                    # Held without being taken here: a conversation this listener closed that is
                    # active again, or one handed to it some other way. Answered and closed.
                    if cid in closed:
                        c.add("reopened_after_close")
                        self.reopened.append(cid)
                    elif cid not in unsure:
                        c.add("held_unknown")
                    self.held[cid] = {"replies": 0, "orient": False}
                for cid in set(self.held) - mine:
                    c.add("hold_lost")  # taken here, and no longer held: back in the queue
                    self.held.pop(cid)
            if len(self.held) < ctx.capacity:
                status, page = self.call("GET", "/v1/conversations?state=waiting&limit=20")
                items = (page or {}).get("items") or [] if status == 200 else []
                if items:
                    # Half the time the head of the queue, as the other listener may: races.
                    pick = items[0] if random.random() < 0.5 else random.choice(items[:5])
                    status, taken = self.call("POST", f"/v1/conversations/{pick['id']}/take")
                    if status == 200:
                        c.add("taken")
                        number = next(ctx.taken_numbers)
                        orient = number % ctx.orient_every == 0 and time.monotonic() < ctx.orient_until
                        self.held[pick["id"]] = {"replies": 0, "orient": orient}
                        self.call("GET", f"/v1/conversations/{pick['id']}")
                    elif status == 409 and "already hold" not in json.dumps(taken):
                        ctx.stats.race("POST /v1/conversations/{id}/take 409 (taken by the other listener)")
                    elif status == 0:
                        unsure.add(pick["id"])
            # One conversation a second, in turn: a reply, or the close after the last reply.
            if self.held:
                ids = sorted(self.held)
                cid = ids[turn % len(ids)]
                turn += 1
                conv = self.held[cid]
                if conv["replies"] >= ctx.replies_per_conversation:
                    outcome = "oriented_to_centre" if conv["orient"] else "information_given"
                    status, _ = self.call("POST", f"/v1/conversations/{cid}/close",
                                          {"outcome": outcome, "summary": "Soak: closed after a few replies."})
                    if status == 200:
                        c.add("closed")
                        closed.add(cid)
                    elif status == 0:
                        unsure.add(cid)
                    self.held.pop(cid)
                else:
                    if random.random() < 0.5:
                        self.call("POST", f"/v1/conversations/{cid}/typing")
                    self.replies += 1
                    token = f"{self.n}-{self.replies}"
                    sent_at = time.time()
                    status, _ = self.call("POST", f"/v1/conversations/{cid}/messages",
                                          {"text": f"soak reply {token}"})
                    if status == 201:
                        conv["replies"] += 1
                        self.posted.append((token, sent_at))
                        c.add("replies_posted")
                    elif status == 0 or status >= 500:
                        self.uncertain.append(token)
                        conv["replies"] += 1
                    else:
                        self.held.pop(cid)  # no longer held (409): let it go
                    if status == 201 and conv["orient"] and conv["replies"] == 1:
                        status, _ = self.call("POST", f"/v1/conversations/{cid}/orientation", {
                            "centre_id": ctx.centre_id,
                            "summary": "Soak : souhaite un suivi individuel, orienté par la ligne."})
                        if status == 201:
                            c.add("oriented")
            ctx.stop.wait(max(0.0, 1.0 - (time.monotonic() - tick)))


class Centre(threading.Thread):
    """The centre's manager: a slot every minute, two hours and `lead` minutes ahead, bookable
    until two hours before (so the two-hours reminder falls due `lead` minutes after it opens);
    reads the inbox and the appointments."""

    def __init__(self, sessions, ctx):
        super().__init__(daemon=True)
        self.sessions, self.ctx = sessions, ctx
        self.apis = [Api(s.api.port, ctx.stats) for s in sessions]
        self.rounds = 0

    def publish(self):
        i = self.rounds % len(self.sessions)
        self.rounds += 1
        s, api = self.sessions[i], self.apis[i]
        starts = time.time() + 2 * 3600 + self.ctx.lead * 60
        status, _ = api.call("POST", "/v1/availabilities", {
            "modality": "on_site", "location": "Salle soak, 12 rue de la Paix, 75011 Paris",
            "starts_at": iso(starts), "duration_minutes": 15, "seats": 50,
            "booking_notice_minutes": 120, "cancellation_notice_minutes": 60}, s.token())
        if status == 201:
            self.ctx.counters.add("slots_published")
        api.call("GET", "/v1/centre-inbox", None, s.token())
        api.call("GET", "/v1/appointments?limit=100", None, s.token())

    def run(self):
        while not self.ctx.stop.wait(60):
            self.publish()


class Practitioner(threading.Thread):
    """Opens a case and files a housing request every 60/rate seconds (alternating instances);
    withdraws one in six at once; follows the others until they are resolved."""

    def __init__(self, sessions, ctx):
        super().__init__(daemon=True)
        self.sessions, self.ctx = sessions, ctx
        self.apis = [Api(s.api.port, ctx.stats) for s in sessions]
        self.open = []  # (request id, case id)

    def run(self):
        ctx, c = self.ctx, self.ctx.counters
        period = 60.0 / ctx.housing_per_minute
        for n in itertools.count():
            if ctx.stop.wait(period if n else 0):
                return
            i = n % len(self.sessions)
            s, api = self.sessions[i], self.apis[i]
            status, case = api.call("POST", "/v1/cases", {"origin": "justice", "legal_basis": "court_ordered"}, s.token())
            if status != 201:
                continue
            first = paris_today() + datetime.timedelta(days=random.randint(0, 20))
            last = first + datetime.timedelta(days=random.randint(0, 2))
            # One in eight needs a place that takes pets: no offer does, so it stays unmet.
            needs = {"pets": n % 8 == 7}
            status, request = api.call("POST", f"/v1/cases/{case['id']}/housing-requests", {
                "first_night": first.isoformat(), "last_night": last.isoformat(),
                "urgency": "tonight" if n % 2 else "within_days", "needs": needs}, s.token())
            if status != 201:
                continue
            c.add("housing_created")
            if n % 6 == 5:
                status, _ = api.call("POST", f"/v1/housing/requests/{request['id']}/withdraw", None, s.token())
                if status == 200:
                    c.add("housing_withdrawn")
                elif status == 409:
                    ctx.stats.race("POST /v1/housing/requests/{id}/withdraw 409 (the platform acted first)")
                continue
            self.open.append((request["id"], case["id"]))
            # Follow one open request (on the other instance): placed, the case's housing is read.
            rid, cid = self.open[0]
            j = (i + 1) % len(self.sessions)
            status, seen = self.apis[j].call("GET", f"/v1/housing/requests/{rid}", None, self.sessions[j].token())
            if status == 200 and seen["status"] != "open":
                self.open.pop(0)
                if seen["status"] == "placed":
                    self.apis[j].call("GET", f"/v1/cases/{cid}/housing", None, self.sessions[j].token())


class Operator(threading.Thread):
    """The housing platform's operator: every 5 s, each open request is placed in the first
    proposal with room, or marked unmet; placements are later ended, extended or no-shows."""

    def __init__(self, sessions, ctx):
        super().__init__(daemon=True)
        self.sessions, self.ctx = sessions, ctx
        self.apis = [Api(s.api.port, ctx.stats) for s in sessions]
        self.placements = []  # (due, id, first, last, step)
        self.steps = itertools.cycle(range(4))

    def run(self):
        ctx, c = self.ctx, self.ctx.counters
        next_inventory = time.monotonic() + 60
        for n in itertools.count():
            if ctx.stop.wait(5):
                return
            i = n % len(self.sessions)
            s, api = self.sessions[i], self.apis[i]
            status, page = api.call("GET", "/v1/housing/requests?status=open&limit=100", None, s.token())
            for request in (page or {}).get("items", []) if status == 200 else []:
                rid = request["id"]
                status, found = api.call("GET", f"/v1/housing/requests/{rid}/proposals", None, s.token())
                if status != 200:
                    continue
                proposals = [p for p in found["proposals"] if p["free_places"] > 0]
                placed = False
                for p in proposals[:3]:
                    status, placement = api.call("POST", "/v1/housing/placements", {
                        "request_id": rid, "offer_id": p["offer_id"], "first_night": request["first_night"],
                        "last_night": request["last_night"], "funding": "platform"}, s.token())
                    if status == 201:
                        c.add("housing_placed")
                        self.placements.append((time.monotonic() + random.uniform(20, 60), placement["id"],
                                                request["first_night"], request["last_night"], next(self.steps)))
                        placed = True
                        break
                    if status == 409:
                        ctx.stats.race("POST /v1/housing/placements 409 (offer full or request no longer open)")
                if not placed:
                    reason = "no_capacity" if found["proposals"] else "no_compliant_offer"
                    status, _ = api.call("POST", f"/v1/housing/requests/{rid}/unmet", {"reason": reason}, s.token())
                    if status == 200:
                        c.add("housing_unmet")
                    elif status == 409:
                        ctx.stats.race("POST /v1/housing/requests/{id}/unmet 409 (withdrawn meanwhile)")
            now = time.monotonic()
            keep = []
            for due, pid, first, last, step in self.placements:
                if due > now:
                    keep.append((due, pid, first, last, step))
                    continue
                if step == 0:      # ends after its first night
                    status, _ = api.call("POST", f"/v1/housing/placements/{pid}/end", {"last_night": first}, s.token())
                    c.add("placements_ended" if status == 200 else "placement_changes_refused")
                elif step == 1:    # a night more, then ended later
                    new_last = (datetime.date.fromisoformat(last) + datetime.timedelta(days=1)).isoformat()
                    status, _ = api.call("POST", f"/v1/housing/placements/{pid}/extend",
                                         {"last_night": new_last, "funding": "platform"}, s.token())
                    if status == 200:
                        c.add("placements_extended")
                        keep.append((now + 30, pid, first, new_last, 0))
                    else:
                        c.add("placement_changes_refused")
                elif step == 2:    # the person never came
                    status, _ = api.call("POST", f"/v1/housing/placements/{pid}/no-show", None, s.token())
                    c.add("placements_no_show" if status == 200 else "placement_changes_refused")
                # step 3: stays active
            self.placements = keep
            if now >= next_inventory:
                api.call("GET", "/v1/housing/inventory", None, s.token())
                next_inventory = now + 60


def demo_accounts(path):
    accounts = {}
    with open(path) as f:
        for line in f:
            parts = line.rstrip("\n").split("\t")
            if len(parts) >= 4 and "@" in parts[2]:
                accounts[parts[2].split("@")[0]] = (parts[2], parts[3])
    return accounts


def work(args):
    ports = [int(p) for p in args.ports.split(",")]
    ctx = argparse.Namespace(stats=Stats(), counters=Counters(), stop=threading.Event(),
                             capacity=args.capacity, replies_per_conversation=args.replies,
                             orient_every=args.orient_every, lead=args.lead,
                             housing_per_minute=args.housing_per_minute, taken_numbers=itertools.count(1))
    # The last bookings' two-hours reminders fall due up to `lead` minutes after them: orientations
    # stop that long (and a minute) before the end, unless that leaves less than half the run.
    ctx.orient_until = time.monotonic() + max(args.seconds / 2, args.seconds - args.lead * 60 - 60)
    accounts = demo_accounts(args.accounts)

    def session(local, port):
        email, password = accounts[local]
        return Session(email, password, port, ctx.stats)

    # Accounts: the demo's, plus a second listener made by the supervisor.
    supervisor = session("supervisor", ports[0])
    status, me = supervisor.api.call("GET", "/v1/me", None, supervisor.token())
    helpline = me["organisation"]["id"]
    second = ("soak.listener2@demo.relais.example", base64.urlsafe_b64encode(os.urandom(18)).decode())
    status, body = supervisor.api.call("POST", f"/v1/organisations/{helpline}/users", {
        "email": second[0], "display_name": "Écoutant soak", "password": second[1], "roles": ["listener"]},
        supervisor.token())
    if status != 201:
        sys.exit(f"second listener: {status} {body}")
    listeners = [session("listener", ports[0]), Session(second[0], second[1], ports[1 % len(ports)], ctx.stats)]
    managers = [session("manager", p) for p in ports]
    status, me = managers[0].api.call("GET", "/v1/me", None, managers[0].token())
    ctx.centre_id = me["organisation"]["id"]
    practitioners = [session("practitioner", p) for p in ports]
    operators = [session("housing", p) for p in ports]
    # Room for the requests: three soak offers of the platform in the centre's region.
    for name, commune, lat, lon in (("Hôtel soak Versailles", "78646", 48.805, 2.12),
                                    ("Hôtel soak Créteil", "94028", 48.79, 2.455),
                                    ("Résidence soak Meaux", "77284", 48.96, 2.88)):
        status, body = operators[0].api.call("POST", "/v1/housing/offers", {
            "kind": "hotel", "name": name, "provider": "Soak", "address": "1 rue de la Gare", "commune": commune,
            "latitude": lat, "longitude": lon, "capacity": 6, "price_cents": 5000,
            "available_from": datetime.date.today().isoformat()}, operators[0].token())
        if status != 201:
            sys.exit(f"housing offer: {status} {body}")

    # The centre offers the soak's slots only: the demo's weekly ones (days ahead) are withdrawn.
    until = iso(time.time() + 365 * 86400)
    status, slots = managers[0].api.call("GET", f"/v1/slots?to={until}", None, managers[0].token())
    for slot in (slots or {}).get("items", []) if status == 200 else []:
        managers[0].api.call("DELETE", f"/v1/slots/{slot['id']}", None, managers[0].token())
    centre = Centre(managers, ctx)
    centre.publish()  # a slot before the first orientation
    lives = [Live(s, s.api.port, ctx.stop) for s in listeners] if args.live else []
    desk = [Listener(n + 1, s, ctx) for n, s in enumerate(listeners)]
    threads = lives + desk + [centre, Practitioner(practitioners, ctx), Operator(operators, ctx)]
    for t in threads:
        t.start()

    def counts():
        snap = ctx.counters.snapshot()
        with ctx.stats.lock:
            snap["non_2xx"] = sum(n for r in ctx.stats.by_route.values() for s, n in r.items() if not 200 <= s < 300)
            snap["races"] = sum(ctx.stats.races.values())
        snap["live_events"] = sum(len(l.seqs) for l in lives)
        return snap

    end = time.monotonic() + args.seconds
    while time.monotonic() < end:
        write_json(os.path.join(args.out, "work-counts.json"), counts())
        time.sleep(min(5, max(0.0, end - time.monotonic())))
    # Stop taking; a few seconds for the live sockets to hear the last events.
    ctx.stop.set()
    for t in desk:
        t.join(10)
    time.sleep(3)
    for t in threads:
        t.join(10)
    write_json(os.path.join(args.out, "work-counts.json"), counts())
    with ctx.stats.lock:
        result = {
            "counts": counts(),
            "posted": [t for l in desk for t, _ in l.posted],
            "posted_at": {t: at for l in desk for t, at in l.posted},
            "uncertain": [t for l in desk for t in l.uncertain],
            "reopened": [cid for l in desk for cid in l.reopened],
            "by_route": {r: {str(s): n for s, n in c.items()} for r, c in sorted(ctx.stats.by_route.items())},
            "races": dict(ctx.stats.races),
            "problems": dict(ctx.stats.problems),
            "live": [l.summary() for l in lives],
            "refreshes": sum(s.refreshes for s in listeners + managers + practitioners + operators),
        }
    for n, l in enumerate(lives):
        with open(os.path.join(args.out, f"live-{n + 1}.txt"), "w") as f:
            f.writelines(f"{s}\n" for s in l.seqs)
    write_json(os.path.join(args.out, "work.json"), result)


# ---- per-minute line, and the verdict -------------------------------------------------------------
ACTIVITY = ["replies_posted", "replies_delivered", "reopened_after_close", "oriented", "booked", "day_before", "two_hours",
            "housing_created", "housing_placed", "housing_unmet", "housing_withdrawn", "live_events",
            "non_2xx", "races"]


def activity(args):
    try:
        work_counts = json.load(open(os.path.join(args.out, "work-counts.json")))
    except (OSError, ValueError):
        work_counts = {}
    try:
        c = http.client.HTTPConnection("127.0.0.1", args.fake_port, timeout=10)
        c.request("GET", "/_soak/counts")
        fake_counts = json.loads(c.getresponse().read())
    except (OSError, ValueError):
        fake_counts = {}
    merged = dict(work_counts)
    merged["replies_delivered"] = fake_counts.get("replies_received", "?")
    for k in ("booked", "day_before", "two_hours"):
        merged[k] = fake_counts.get(k, "?")
    if args.header:
        print("\t".join(["minute"] + ACTIVITY))
    print("\t".join([str(args.minute)] + [str(merged.get(k, 0)) for k in ACTIVITY]))


def report(args):
    out = args.out
    import csv
    rows = list(csv.DictReader(open(os.path.join(out, "samples.tsv")), delimiter="\t"))
    last = args.minutes
    base = min(5, last)
    failures = []
    for inst in ("1", "2"):
        pick = {int(r["minute"]): r for r in rows if r["instance"] == inst}
        for key in ("rss_kb", "fds", "db_connections"):
            a, b = float(pick[base][key]), float(pick[last][key])
            growth = (b - a) / a * 100 if a else 0.0
            verdict = "flat" if growth <= 10 else "GROWS"
            print(f"instance {inst} {key}: minute {base} {a:.0f} -> minute {last} {b:.0f} ({growth:+.1f} %) {verdict}")
            if growth > 10:
                failures.append(f"instance {inst} {key} grows")

    work_result = json.load(open(os.path.join(out, "work.json")))
    fake_dump = json.load(open(os.path.join(out, "fake.json")))
    counts = work_result["counts"]
    print(f"acknowledged updates: {args.acked} (of which button presses {fake_dump['pressed']}); not stored: "
          f"{args.not_stored}; stored twice: {args.stored_twice}")
    if args.not_stored or args.stored_twice:
        failures.append("acknowledged updates")

    # What the outbox still held at the end (pending or sending): all, and the listeners' replies.
    pending_all, pending_replies = (int(x) for x in open(os.path.join(out, "outbox-end.txt")).read().split("|"))
    if pending_all:
        print(f"outbox at the end: {pending_all} messages not yet sent, {pending_replies} of them listener "
              "replies (the drain gave up: not counted as lost below)")

    # Listener replies: each one answered 201 reached Telegram exactly once.
    received = collections.Counter(fake_dump["replies"])
    posted = work_result["posted"]
    once = sum(1 for t in posted if received.get(t) == 1)
    missing = [t for t in posted if t not in received]
    twice = [t for t in posted if received.get(t, 0) > 1]
    known = set(posted) | set(work_result["uncertain"])
    unknown = [t for t in received if t not in known]
    lost = max(0, len(missing) - pending_replies)
    delays = sorted(fake_dump["reply_at"][t] - at for t, at in work_result["posted_at"].items()
                    if t in fake_dump["reply_at"])
    pick = lambda q: delays[min(len(delays) - 1, int(q * len(delays)))] if delays else float("nan")
    print(f"listener replies: posted {len(posted)} (conversations taken {counts.get('taken', 0)}, closed "
          f"{counts.get('closed', 0)}); delivered once {once}, not delivered {len(missing)}"
          + (f" (still queued {min(pending_replies, len(missing))})" if pending_replies else "")
          + f", more than once {len(twice)}"
          + (f"; answer lost {len(work_result['uncertain'])}" if work_result["uncertain"] else "")
          + (f"; delivered but never posted {len(unknown)}" if unknown else ""))
    print(f"listener reply to Telegram: p50 {pick(0.5):.1f} s, p95 {pick(0.95):.1f} s, max {pick(1.0):.1f} s")
    if delays:
        first = min(work_result["posted_at"].values())
        by_minute = collections.defaultdict(list)
        for t, at in work_result["posted_at"].items():
            if t in fake_dump["reply_at"]:
                by_minute[int((at - first) // 60)].append(fake_dump["reply_at"][t] - at)
        print("  p50 by minute posted: " + ", ".join(
            f"{m}: {sorted(v)[len(v) // 2]:.1f} s" for m, v in sorted(by_minute.items())))
    if lost or twice or unknown or not posted:
        failures.append("listener replies")

    # Conversations: once closed, never active again; once taken, held until closed.
    try:
        open_after_close, requeued_silent = (int(x) for x in
                                             open(os.path.join(out, "conversations-end.txt")).read().split("|"))
    except OSError:  # a run of an older soak.sh
        open_after_close, requeued_silent = 0, "?"
    reopened, lost_hold, unknown_hold = (counts.get(k, 0) for k in ("reopened_after_close", "hold_lost", "held_unknown"))
    if "reopened" in work_result:
        print(f"conversations: closed by a listener then held by them again {reopened}, taken then no longer "
              f"held {lost_hold}, held without being taken {unknown_hold}; at the end, closed by a listener but "
              f"not closed {open_after_close}; sent back to the queue for a silent listener {requeued_silent}")
    else:
        print("conversations: not checked (a run of an older soak_tool.py)")
    if reopened or lost_hold or unknown_hold or open_after_close:
        failures.append("conversation state")

    # Reminders: those flagged sent by the server reached Telegram once each.
    appts = []
    for line in open(os.path.join(out, "appointments.tsv")):
        parts = line.rstrip("\n").split("|")
        if len(parts) == 5:
            appts.append({"starts": float(parts[0]), "day_before": parts[1] == "t", "two_hours": parts[2] == "t",
                          "status": parts[3], "ended": float(parts[4])})
    checked_at = appts[0]["ended"] if appts else time.time()
    booked = [a for a in appts if a["status"] == "booked"]
    due = [a for a in booked if a["starts"] - 7200 <= checked_at]
    # Late: due for longer than a round of the reminders worker, and not sent.
    late = [a for a in due if not a["two_hours"] and a["starts"] - 7200 <= checked_at - args.reminder_seconds - 5]
    flagged_two = sum(1 for a in appts if a["two_hours"])
    seen_day = collections.Counter(fake_dump["day_before"])
    seen_two = collections.Counter(fake_dump["two_hours"])
    dup = sum(1 for n in seen_day.values() if n > 1) + sum(1 for n in seen_two.values() if n > 1)
    print(f"appointments booked by text-line contacts: {len(booked)} (confirmations seen by Telegram "
          f"{sum(fake_dump['booked'].values())}; orientations {counts.get('oriented', 0)}, consent asked "
          f"{fake_dump['consent_asked']}, declined as already booked {fake_dump['consent_no']}, no free slot "
          f"{fake_dump['no_slots']}, \"slot just taken\" {fake_dump['slot_taken']})")
    print(f"reminders sent: day before {sum(seen_day.values())}, two hours before {sum(seen_two.values())} "
          f"(server flagged {flagged_two} two-hours; due by the end {len(due)}, late {len(late)}; "
          f"reminders received twice {dup})")
    unseen = flagged_two - sum(seen_two.values())
    if late or dup or unseen < 0 or (unseen > 0 and not pending_all) or not booked:
        failures.append("reminders")

    # Housing.
    statuses = {}
    for line in open(os.path.join(out, "housing.tsv")):
        parts = line.rstrip("\n").split("|")
        if len(parts) == 3:
            statuses.setdefault(parts[0], {})[parts[1]] = int(parts[2])
    requests = statuses.get("request", {})
    placements = statuses.get("placement", {})
    created = counts.get("housing_created", 0)
    resolved = sum(n for s, n in requests.items() if s != "open")
    print(f"housing requests: created {created} (database {sum(requests.values())}), resolved {resolved} "
          f"(placed {requests.get('placed', 0)}, unmet {requests.get('unmet', 0)}, withdrawn "
          f"{requests.get('withdrawn', 0)}), still open {requests.get('open', 0)}; placements "
          + ", ".join(f"{s} {n}" for s, n in sorted(placements.items()))
          + f" (ended {counts.get('placements_ended', 0)}, extended {counts.get('placements_extended', 0)}, "
          f"no-show {counts.get('placements_no_show', 0)}, refused {counts.get('placement_changes_refused', 0)})")
    if not created or sum(requests.values()) != created or not resolved:
        failures.append("housing")

    # Live sockets: every helpline event after the first "ready", once, in order.
    helpline = [int(x) for x in open(os.path.join(out, "helpline-events.txt")).read().split()]
    for n, live in enumerate(work_result["live"], 1):
        seqs = [int(x) for x in open(os.path.join(out, f"live-{n}.txt")).read().split()]
        got = collections.Counter(seqs)
        top = seqs[-1] if seqs else (live["base"] or 0)
        # The first "ready" may follow events it counts (committed while the socket opened).
        base = min(live["base"] or 0, seqs[0] - 1) if seqs else (live["base"] or 0)
        expected = [s for s in helpline if base < s <= top]
        lost = sum(1 for s in expected if s not in got)
        repeated = sum(1 for s, k in got.items() if k > 1)
        print(f"listener {n} live socket: {len(seqs)} events, connections {live['connects']} (closes "
              f"{live['closes'] or '-'}), missing {lost} of {len(expected)}, repeated {repeated}, out of order "
              f"{live['out_of_order']} (helpline events after the socket closed, not checked: "
              f"{sum(1 for s in helpline if s > top)})")
        if lost or repeated or live["out_of_order"]:
            failures.append(f"live socket {n}")

    kinds = collections.Counter(fake_dump.get("kinds", {}))
    print(f"Telegram messages sent: {fake_dump['sends']}" + (" (" + ", ".join(
          f"{k} {n}" for k, n in kinds.most_common(8))
          + (f", other kinds {sum(n for k, n in kinds.most_common()[8:])}" if len(kinds) > 8 else "") + ")"
          if kinds else ""))

    # Every answer that was not 2xx, by route; the races apart.
    races = work_result["races"]
    race_total = sum(races.values())
    print(f"API calls: {sum(sum(c.values()) for c in work_result['by_route'].values())}; access tokens refreshed "
          f"{work_result['refreshes']}; expected races {race_total}"
          + "".join(f"\n  race: {what}: {n}" for what, n in sorted(races.items())))
    load_stats = json.load(open(os.path.join(out, "load.json")))
    bad_hooks = {s: n for s, n in load_stats.items() if s != "200" and not s.startswith("retried")}
    retried = {s: n for s, n in load_stats.items() if s.startswith("retried")}
    print(f"webhooks posted: {sum(n for s, n in load_stats.items() if not s.startswith('retried'))}"
          + "".join(f"; {s}: {n}" for s, n in sorted(retried.items()))
          + (f"; button presses retried: {fake_dump['press_failures']}" if fake_dump["press_failures"] else ""))
    lines = []
    for route, by_status in work_result["by_route"].items():
        for status, n in sorted(by_status.items()):
            if not status.startswith("2"):
                lines.append((route, status, n))
    raced = {("POST /v1/conversations/{id}/take", "409"): races.get(
        "POST /v1/conversations/{id}/take 409 (taken by the other listener)", 0),
        ("POST /v1/housing/placements", "409"): races.get(
        "POST /v1/housing/placements 409 (offer full or request no longer open)", 0),
        ("POST /v1/housing/requests/{id}/withdraw", "409"): races.get(
        "POST /v1/housing/requests/{id}/withdraw 409 (the platform acted first)", 0),
        ("POST /v1/housing/requests/{id}/unmet", "409"): races.get(
        "POST /v1/housing/requests/{id}/unmet 409 (withdrawn meanwhile)", 0)}
    unexpected = [(r, s, n - raced.get((r, s), 0)) for r, s, n in lines if n - raced.get((r, s), 0) > 0]
    if unexpected or bad_hooks:
        print("non-2xx answers other than the races (status 0: no answer):")
        for route, status, n in unexpected:
            print(f"  {route} {status}: {n}  e.g. {work_result['problems'].get(route, ['?'])[0]}")
        for status, n in bad_hooks.items():
            print(f"  POST /webhooks/telegram {status}: {n}")
        failures.append("non-2xx answers")
    else:
        print("non-2xx answers other than the races: none")
    print("VERDICT: " + ("all checks passed" if not failures else "FAILED: " + ", ".join(failures)))


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="role", required=True)
    f = sub.add_parser("fake")
    f.add_argument("--port", type=int, required=True)
    f.add_argument("--ports", required=True, help="the instances, comma separated")
    f.add_argument("--secret", required=True)
    f.add_argument("--acked", required=True, help="file of the acknowledged button presses")
    l = sub.add_parser("load")
    l.add_argument("--rate", type=float, required=True)
    l.add_argument("--seconds", type=int, required=True)
    l.add_argument("--chats", type=int, required=True)
    l.add_argument("--listener-every", type=int, default=10)
    l.add_argument("--secret", required=True)
    l.add_argument("--acked", required=True)
    l.add_argument("--stats", required=True)
    l.add_argument("--ports", required=True)
    w = sub.add_parser("work")
    w.add_argument("--out", required=True)
    w.add_argument("--seconds", type=int, required=True)
    w.add_argument("--ports", required=True)
    w.add_argument("--accounts", required=True, help="the output of relais demo")
    w.add_argument("--capacity", type=int, default=3)
    w.add_argument("--replies", type=int, default=3, help="replies before a listener closes")
    w.add_argument("--orient-every", type=int, default=10, help="one taken conversation in N is oriented")
    w.add_argument("--lead", type=int, default=5, help="minutes past two hours ahead for each slot")
    w.add_argument("--housing-per-minute", type=float, default=4)
    w.add_argument("--live", type=int, default=1)
    a = sub.add_parser("activity")
    a.add_argument("--out", required=True)
    a.add_argument("--fake-port", type=int, required=True)
    a.add_argument("--minute", type=int, required=True)
    a.add_argument("--header", action="store_true")
    r = sub.add_parser("report")
    r.add_argument("--out", required=True)
    r.add_argument("--minutes", type=int, required=True)
    r.add_argument("--reminder-seconds", type=int, default=60)
    r.add_argument("--acked", type=int, required=True, help="updates acknowledged (webhooks and buttons)")
    r.add_argument("--not-stored", type=int, required=True)
    r.add_argument("--stored-twice", type=int, required=True)
    args = p.parse_args()
    {"fake": fake, "load": load, "work": work, "activity": activity, "report": report}[args.role](args)


if __name__ == "__main__":
    main()
