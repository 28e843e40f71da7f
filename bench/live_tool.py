#!/usr/bin/env python3
"""Webhook -> live WebSocket latency for Relais (driven by bench/live.sh).

One scenario per invocation:
  live_tool.py --hook http://A --ws http://B --secret S --email E --password P \
               --chats 200 --rates 100,300 --seconds 20 --label sqlite --own-pids "1 2 3" --out DIR

1. logs the listener in on B, opens a WebSocket on B (setup socket);
2. queues CHATS conversations one at a time (first message with danger words, posted to A)
   and learns chat -> conversation_id from the `message.new` frame that follows;
3. for each rate: a separate receiver process opens its own WebSocket on B and timestamps
   every frame (CLOCK_MONOTONIC); this process posts webhooks round-robin over the chats
   on an open-loop schedule (one send every 1/rate s, not waiting for answers), taking
   t0 = CLOCK_MONOTONIC right before each POST. Per conversation, the i-th message sent
   in the window is matched with the i-th `message.new` frame for that conversation.
   Latency = t1 - t0. CPU use of every process is sampled from /proc around the window.
Prints one JSON line per rate and writes the raw samples to OUT.
"""
import argparse
import asyncio
import json
import multiprocessing as mp
import os
import statistics
import sys
import time

import aiohttp
import websockets

CLK = os.sysconf("SC_CLK_TCK")
WS_CONNECT_KW = dict(max_size=2**20, ping_interval=None)


def now():
    return time.monotonic()


def update(uid, chat, text):
    return {
        "update_id": uid,
        "message": {
            "message_id": uid,
            "date": int(time.time()),
            "chat": {"id": chat, "type": "private", "first_name": "A"},
            "from": {"id": chat, "is_bot": False, "first_name": "A"},
            "text": text,
        },
    }


# ---- CPU accounting from /proc ---------------------------------------------------------------
def cpu_snapshot():
    with open("/proc/stat") as f:
        parts = f.readline().split()[1:]
    vals = list(map(int, parts))
    idle = vals[3] + vals[4]  # idle + iowait
    busy = sum(vals[:8]) - idle
    procs = {}
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open(f"/proc/{pid}/stat") as f:
                s = f.read()
        except OSError:
            continue
        comm = s[s.index("(") + 1 : s.rindex(")")]
        rest = s[s.rindex(")") + 2 :].split()
        ppid = int(rest[1])
        ticks = int(rest[11]) + int(rest[12])
        procs[int(pid)] = (comm, ppid, ticks)
    return now(), busy, procs


def cmdline(pid):
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return f.read().decode(errors="replace")
    except OSError:
        return ""


def cpu_report(a, b, groups):
    """groups: name -> set of pids. Returns cores used per group and 'other' (everything else,
    including processes that started or ended during the window)."""
    wall = b[0] - a[0]
    out = {}
    accounted = 0
    for name, pids in groups.items():
        t = 0
        for pid in pids:
            if pid in b[2]:
                t += b[2][pid][2] - (a[2][pid][2] if pid in a[2] else 0)
        accounted += t
        out[name] = round(t / CLK / wall, 2)
    total = (b[1] - a[1]) / CLK / wall
    out["total"] = round(total, 2)
    out["other"] = round(max(0.0, total - accounted / CLK / wall), 2)
    # the busiest other processes, by name, to say who they were
    others = {}
    owned = set().union(*groups.values())
    for pid, (comm, _, t1) in b[2].items():
        if pid in owned:
            continue
        d = t1 - (a[2][pid][2] if pid in a[2] else 0)
        if d > 0:
            others[comm] = others.get(comm, 0) + d
    out["other_top"] = {k: round(v / CLK / wall, 2) for k, v in sorted(others.items(), key=lambda kv: -kv[1])[:4]}
    return out


# ---- receiver process ------------------------------------------------------------------------
def receiver_main(ws_url, token, seconds, conn_out, path):
    async def run():
        frames = []
        async with websockets.connect(ws_url, **WS_CONNECT_KW) as ws:
            await ws.send(json.dumps({"token": token}))
            first = json.loads(await ws.recv())
            conn_out.send(("ready", first))
            end = now() + seconds
            while True:
                left = end - now()
                if left <= 0:
                    break
                try:
                    raw = await asyncio.wait_for(ws.recv(), left)
                except asyncio.TimeoutError:
                    break
                t = now()
                frames.append((t, raw))
        with open(path, "w") as f:
            for t, raw in frames:
                f.write(json.dumps({"t": t, "f": json.loads(raw)}) + "\n")
        conn_out.send(("done", len(frames)))

    asyncio.run(run())


# ---- main ------------------------------------------------------------------------------------
async def login(session, base, email, password):
    async with session.post(f"{base}/v1/auth/login", json={"email": email, "password": password}) as r:
        body = await r.json()
        if r.status != 200:
            raise SystemExit(f"login failed: {r.status} {body}")
        return body["access_token"]


async def post_hook(session, base, secret, uid, chat, text):
    async with session.post(
        f"{base}/webhooks/telegram",
        json=update(uid, chat, text),
        headers={"X-Telegram-Bot-Api-Secret-Token": secret},
    ) as r:
        await r.read()
        return r.status


async def setup(args, session, token, uid0):
    """Queue the chats one at a time; return chat -> conversation_id."""
    ws_url = args.ws.replace("http", "ws", 1) + "/v1/live"
    mapping = {}
    uid = uid0
    async with websockets.connect(ws_url, **WS_CONNECT_KW) as ws:
        await ws.send(json.dumps({"token": token}))
        ready = json.loads(await ws.recv())
        if ready.get("type") != "ready":
            raise SystemExit(f"no ready frame: {ready}")
        known = set()
        kinds = {}
        for i in range(args.chats):
            chat = args.chat_base + i
            uid += 1
            st = await post_hook(session, args.hook, args.secret, uid, chat, "j'ai une arme, aidez-moi")
            if st // 100 != 2:
                raise SystemExit(f"setup webhook for chat {chat}: HTTP {st}")
            deadline = now() + 10
            while True:
                try:
                    f = json.loads(await asyncio.wait_for(ws.recv(), max(0.01, deadline - now())))
                except asyncio.TimeoutError:
                    raise SystemExit(f"setup: no new conversation frame for chat {chat} within 10 s")
                kinds[f.get("kind")] = kinds.get(f.get("kind"), 0) + 1
                if f.get("kind") == "message.new" and f.get("conversation_id") not in known:
                    known.add(f["conversation_id"])
                    mapping[chat] = f["conversation_id"]
                    break
        # one more message to the first chat: how many message.new frames does a follow-up make?
        uid += 1
        t0 = now()
        await post_hook(session, args.hook, args.secret, uid, args.chat_base, "encore un message")
        follow = []
        try:
            while True:
                f = json.loads(await asyncio.wait_for(ws.recv(), 1.5))
                follow.append((round((now() - t0) * 1000, 1), f.get("kind"), f.get("conversation_id") == mapping[args.chat_base]))
        except asyncio.TimeoutError:
            pass
    print(json.dumps({"setup": args.label, "chats": len(mapping), "frame_kinds_during_setup": kinds,
                      "follow_up_frames(ms,kind,same_conv)": follow}), flush=True)
    return mapping, uid


def pct(xs, p):
    if not xs:
        return None
    xs = sorted(xs)
    k = (len(xs) - 1) * p / 100
    lo = int(k)
    hi = min(lo + 1, len(xs) - 1)
    return xs[lo] + (xs[hi] - xs[lo]) * (k - lo)


async def load(args, session, token, mapping, rate, uid):
    ws_url = args.ws.replace("http", "ws", 1) + "/v1/live"
    chats = list(mapping)
    n = int(rate * args.seconds)
    raw_path = os.path.join(args.out, f"frames-{args.label}-{rate}.jsonl")
    parent, child = mp.Pipe()
    rx = mp.Process(target=receiver_main, args=(ws_url, token, args.seconds + 6, child, raw_path))
    rx.start()
    kind, ready = parent.recv()
    assert kind == "ready" and ready.get("type") == "ready", ready
    await asyncio.sleep(0.5)

    sends = []  # (chat, t0, status, http_ms)
    errors = 0

    async def one(chat, uid_):
        nonlocal errors
        t0 = now()
        try:
            st = await post_hook(session, args.hook, args.secret, uid_, chat, f"message {uid_}")
        except Exception:
            st = -1
        t = now()
        if st // 100 != 2:
            errors += 1
        sends.append((chat, t0, st, (t - t0) * 1000))

    own = {int(p) for p in args.own_pids.split()}
    snap_a = cpu_snapshot()
    start = now() + 0.05
    tasks = []
    for i in range(n):
        target = start + i / rate
        d = target - now()
        if d > 0:
            await asyncio.sleep(d)
        uid += 1
        tasks.append(asyncio.ensure_future(one(chats[i % len(chats)], uid)))
    send_end = now()
    await asyncio.gather(*tasks)
    snap_b = cpu_snapshot()
    while parent.poll(args.seconds + 30) and True:
        kind, nframes = parent.recv()
        if kind == "done":
            break
    rx.join()

    # group the CPU use
    me = os.getpid()
    groups = {
        "relais": {p for p in own if p in snap_b[2] and snap_b[2][p][0].startswith("relais")},
        "nginx_fake": {p for p, v in snap_b[2].items() if v[0] == "nginx" and (p in own or v[1] in own)},
        # only the backends connected to this run's database (others may use the same server)
        "postgres": {p for p, v in snap_b[2].items() if args.db and v[0] == "postgres" and args.db in cmdline(p)},
        "redis": {p for p, v in snap_b[2].items() if v[0].startswith("redis-server")},
        "client": {me, rx.pid} | {p for p, v in snap_b[2].items() if v[1] == me},
    }
    cpu = cpu_report(snap_a, snap_b, groups)

    # match
    frames = {}
    with open(raw_path) as f:
        for line in f:
            o = json.loads(line)
            fr = o["f"]
            if fr.get("type") == "event" and fr.get("kind") == "message.new":
                frames.setdefault(fr["conversation_id"], []).append(o["t"])
    per_chat = {}
    for chat, t0, st, _ in sorted(sends, key=lambda s: s[1]):
        if st // 100 == 2:
            per_chat.setdefault(chat, []).append(t0)
    lat = []
    missing = extra = early = 0
    for chat, t0s in per_chat.items():
        ts = sorted(frames.get(mapping[chat], []))
        if len(ts) < len(t0s):
            missing += len(t0s) - len(ts)
        elif len(ts) > len(t0s):
            extra += len(ts) - len(t0s)
        for t0, t1 in zip(t0s, ts):
            if t1 < t0:
                early += 1
            lat.append((t1 - t0) * 1000)
    http = [s[3] for s in sends]
    elapsed = send_end - start
    res = {
        "label": args.label, "target_rate": rate, "sent": n,
        "achieved_rate": round(n / elapsed, 1), "http_errors": errors,
        "http_p50_ms": round(pct(http, 50), 1), "http_p99_ms": round(pct(http, 99), 1),
        "matched": len(lat), "missing_frames": missing, "extra_frames": extra, "frame_before_send": early,
        "p50_ms": round(pct(lat, 50), 1) if lat else None,
        "p90_ms": round(pct(lat, 90), 1) if lat else None,
        "p99_ms": round(pct(lat, 99), 1) if lat else None,
        "max_ms": round(max(lat), 1) if lat else None,
        "mean_ms": round(statistics.fmean(lat), 1) if lat else None,
        "cpu_cores": cpu,
    }
    with open(os.path.join(args.out, f"sends-{args.label}-{rate}.json"), "w") as f:
        json.dump({"sends": sends, "latencies_ms": lat}, f)
    print(json.dumps(res), flush=True)
    return uid


async def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--hook", required=True)
    ap.add_argument("--ws", required=True)
    ap.add_argument("--secret", required=True)
    ap.add_argument("--email", required=True)
    ap.add_argument("--password", required=True)
    ap.add_argument("--chats", type=int, default=200)
    ap.add_argument("--chat-base", type=int, default=7_000_000)
    ap.add_argument("--rates", default="100,300")
    ap.add_argument("--seconds", type=float, default=20)
    ap.add_argument("--label", required=True)
    ap.add_argument("--own-pids", default="")
    ap.add_argument("--out", required=True)
    ap.add_argument("--db", default="", help="PostgreSQL database name, to count its backends' CPU")
    args = ap.parse_args()
    conn = aiohttp.TCPConnector(limit=256)
    async with aiohttp.ClientSession(connector=conn, timeout=aiohttp.ClientTimeout(total=30)) as session:
        token = await login(session, args.ws, args.email, args.password)
        uid = (int(time.time()) % 1_000_000) * 1000  # update_id is an i32 on the server side
        mapping, uid = await setup(args, session, token, uid)
        for rate in [int(r) for r in args.rates.split(",")]:
            uid = await load(args, session, token, mapping, rate, uid + 1)
            await asyncio.sleep(2)


if __name__ == "__main__":
    mp.set_start_method("fork")
    asyncio.run(main())
