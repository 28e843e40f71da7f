#!/usr/bin/env python3
"""Helpers of bench/ingest.sh (standard library only, Python 3.8+).

  ingest_tool.py warm   URL SECRET --pool N --first-update U
      one update to each chat of the existing-chats pool (ids POOL_BASE .. POOL_BASE+N-1),
      one at a time; every answer must be 200.
  ingest_tool.py fixed  URL SECRET --rate R --duration S --pool N --new-pct P --first-update U
      an open-loop generator at a fixed rate (see `fixed` below).
  ingest_tool.py sqlite-insert PATH --procs N --duration S
      single-row insert-and-commit rate of SQLite (WAL, synchronous=NORMAL, BEGIN IMMEDIATE),
      from N processes at once.

Each prints one machine-readable line `RESULT key=value ...` on stdout (the last line).
"""

import argparse
import asyncio
import json
import multiprocessing
import os
import random
import resource
import sqlite3
import sys
import time

POOL_BASE = 1_000_000  # chat ids of the existing-chats pool
NEW_BASE = 100_000_000  # chat ids of new chats: NEW_BASE + update_id (unique)


def update_body(update_id, chat_id):
    return json.dumps(
        {
            "update_id": update_id,
            "message": {
                "message_id": update_id,
                "date": int(time.time()),
                "chat": {"id": chat_id, "type": "private", "first_name": "A"},
                "from": {"id": chat_id, "is_bot": False, "first_name": "A"},
                "text": "Bonjour",
            },
        },
        separators=(",", ":"),
    ).encode()


def request_bytes(host, secret, body):
    return (
        "POST /webhooks/telegram HTTP/1.1\r\n"
        f"Host: {host}\r\n"
        "Content-Type: application/json\r\n"
        f"X-Telegram-Bot-Api-Secret-Token: {secret}\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    ).encode() + body


def split_url(url):
    assert url.startswith("http://"), url
    hostport = url[len("http://"):].split("/", 1)[0]
    host, port = hostport.rsplit(":", 1)
    return hostport, host, int(port)


async def read_response(reader):
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ", 2)[1])
    length = None
    close = False
    for line in lines[1:]:
        name, _, value = line.partition(":")
        name = name.strip().lower()
        if name == "content-length":
            length = int(value.strip())
        elif name == "connection" and value.strip().lower() == "close":
            close = True
        elif name == "transfer-encoding":
            raise RuntimeError("chunked answers are not expected here")
    if length is None:
        raise RuntimeError("answer without Content-Length")
    if length:
        await reader.readexactly(length)
    return status, close


def pct(sorted_values, p):
    if not sorted_values:
        return 0.0
    i = min(len(sorted_values) - 1, max(0, int(round(p / 100.0 * len(sorted_values) + 0.5)) - 1))
    return sorted_values[i]


# ---- warm ------------------------------------------------------------------------------------
async def warm(args):
    hostport, host, port = split_url(args.url)
    reader, writer = await asyncio.open_connection(host, port)
    bad = 0
    for i in range(args.pool):
        writer.write(request_bytes(hostport, args.secret, update_body(args.first_update + i, POOL_BASE + i)))
        status, close = await read_response(reader)
        if status != 200:
            bad += 1
        if close:
            writer.close()
            reader, writer = await asyncio.open_connection(host, port)
    writer.close()
    print(f"RESULT sent={args.pool} non200={bad}")
    return 1 if bad else 0


# ---- fixed -----------------------------------------------------------------------------------
async def fixed(args):
    """Request i is due at t0 + i/rate, whatever happened before (open loop). At its due time it
    takes an idle keep-alive connection, or opens one, up to --max-conns (default 40, the number
    of simultaneous webhook connections Telegram opens by default, setWebhook's max_connections);
    past that it waits for one, and the wait counts. Its latency is measured from its due time,
    not from when it could be written, so a stall of the server (or of this generator) is
    charged in full, as wrk2 does; the time from write to answer ("service") is recorded too,
    and so is how late each request was written ("lag"), which shows whether the generator kept
    its schedule or waited for a connection. A connection left idle for --max-idle seconds is
    closed rather than reused (the server closes idle keep-alive connections after 5 s, and a
    request written into one it is closing would be an error of this generator, not of the
    server). With --timeline FILE, one line per second of due time: count, p50, p99, max."""
    hostport, host, port = split_url(args.url)
    rng = random.Random(args.first_update)
    total = int(args.rate * args.duration)
    idle = asyncio.LifoQueue()  # [reader, writer, last_used]
    opened = 0
    conns_max = 0
    busy_max = 0
    busy = 0
    lat, service, lag = [], [], []
    by_second = {}
    statuses = {}
    errors = 0
    last_done = 0.0

    async def new_conn():
        nonlocal opened, conns_max
        opened += 1
        conns_max = max(conns_max, opened)
        try:
            reader, writer = await asyncio.open_connection(host, port)
        except Exception:
            opened -= 1
            raise
        return [reader, writer, time.perf_counter()]

    def drop(conn):
        nonlocal opened
        conn[1].close()
        opened -= 1

    async def acquire():
        while not idle.empty():
            conn = idle.get_nowait()
            if time.perf_counter() - conn[2] < args.max_idle:
                return conn
            drop(conn)
        if opened < args.max_conns:
            return await new_conn()
        return await idle.get()

    for _ in range(min(args.preopen, args.max_conns)):
        idle.put_nowait(await new_conn())

    async def one(i, due, t0):
        nonlocal busy, busy_max, errors, last_done
        busy += 1
        busy_max = max(busy_max, busy)
        update_id = args.first_update + i
        if rng.random() * 100 < args.new_pct:
            chat = NEW_BASE + update_id
        else:
            chat = POOL_BASE + rng.randrange(args.pool)
        data = request_bytes(hostport, args.secret, update_body(update_id, chat))
        conn = None
        try:
            conn = await acquire()
            reader, writer = conn[0], conn[1]
            sent = time.perf_counter()
            writer.write(data)
            status, close = await asyncio.wait_for(read_response(reader), args.timeout)
            done = time.perf_counter()
            lat.append(done - due)
            service.append(done - sent)
            lag.append(sent - due)
            by_second.setdefault(int(due - t0), []).append(done - due)
            last_done = max(last_done, done)
            statuses[status] = statuses.get(status, 0) + 1
            conn[2] = done
            if close:
                drop(conn)
            else:
                idle.put_nowait(conn)
        except Exception as e:  # noqa: BLE001 - any failure is counted and reported
            errors += 1
            if errors <= 3:
                print(f"request {i}: {type(e).__name__}: {e}", file=sys.stderr)
            if conn is not None:
                drop(conn)
        finally:
            busy -= 1

    ru0 = resource.getrusage(resource.RUSAGE_SELF)
    loop = asyncio.get_running_loop()
    t0 = time.perf_counter() + 0.05
    tasks = []
    for i in range(total):
        due = t0 + i / args.rate
        now = time.perf_counter()
        if due > now:
            await asyncio.sleep(due - now)
        tasks.append(loop.create_task(one(i, due, t0)))
    sending_end = time.perf_counter()
    await asyncio.gather(*tasks)
    ru1 = resource.getrusage(resource.RUSAGE_SELF)
    while not idle.empty():
        drop(idle.get_nowait())

    if args.timeline:
        with open(args.timeline, "w") as f:
            f.write("second\tanswered\tp50_ms\tp99_ms\tmax_ms\n")
            for sec in sorted(by_second):
                v = sorted(by_second[sec])
                f.write(f"{sec}\t{len(v)}\t{pct(v, 50) * 1000:.2f}\t{pct(v, 99) * 1000:.2f}\t{v[-1] * 1000:.2f}\n")
    lat.sort()
    service.sort()
    lag.sort()
    ok = statuses.get(200, 0)
    non200 = sum(n for s, n in statuses.items() if s != 200)
    span = (last_done - t0) if last_done > t0 else float("nan")
    cpu = (ru1.ru_utime - ru0.ru_utime) + (ru1.ru_stime - ru0.ru_stime)
    ms = 1000.0
    print(
        "RESULT "
        f"target_rate={args.rate:g} planned={total} completed={len(lat)} ok200={ok} non200={non200} "
        f"errors={errors} statuses={'/'.join(f'{s}:{n}' for s, n in sorted(statuses.items())) or '-'} "
        f"send_seconds={sending_end - t0:.2f} span_seconds={span:.2f} achieved_rps={len(lat) / span:.1f} "
        f"p50_ms={pct(lat, 50) * ms:.2f} p90_ms={pct(lat, 90) * ms:.2f} p99_ms={pct(lat, 99) * ms:.2f} "
        f"p999_ms={pct(lat, 99.9) * ms:.2f} max_ms={(lat[-1] if lat else 0) * ms:.2f} "
        f"service_p50_ms={pct(service, 50) * ms:.2f} service_p99_ms={pct(service, 99) * ms:.2f} "
        f"lag_p50_ms={pct(lag, 50) * ms:.2f} lag_p99_ms={pct(lag, 99) * ms:.2f} lag_max_ms={(lag[-1] if lag else 0) * ms:.2f} "
        f"inflight_max={busy_max} conns_max={conns_max} cpu_seconds={cpu:.2f}"
    )
    return 0


# ---- sqlite-insert ---------------------------------------------------------------------------
def _sqlite_writer(path, seconds, start_at, queue):
    conn = sqlite3.connect(path, isolation_level=None, timeout=10)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    conn.execute("PRAGMA busy_timeout=10000")
    payload = os.urandom(120)  # about the size of a sealed message body
    while time.time() < start_at:
        time.sleep(0.001)
    end = start_at + seconds
    n = 0
    lat = []
    while True:
        t = time.perf_counter()
        if time.time() >= end:
            break
        conn.execute("BEGIN IMMEDIATE")
        conn.execute("INSERT INTO raw_insert (body, at) VALUES (?, ?)", (payload, time.time()))
        conn.execute("COMMIT")
        lat.append(time.perf_counter() - t)
        n += 1
    conn.close()
    queue.put((n, lat))


def sqlite_insert(args):
    conn = sqlite3.connect(args.path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("CREATE TABLE IF NOT EXISTS raw_insert (id INTEGER PRIMARY KEY, body BLOB NOT NULL, at REAL NOT NULL)")
    conn.close()
    queue = multiprocessing.Queue()
    start_at = time.time() + 0.5
    procs = [
        multiprocessing.Process(target=_sqlite_writer, args=(args.path, args.duration, start_at, queue))
        for _ in range(args.procs)
    ]
    for p in procs:
        p.start()
    results = [queue.get() for _ in procs]
    for p in procs:
        p.join()
    n = sum(r[0] for r in results)
    lat = sorted(x for r in results for x in r[1])
    print(
        f"RESULT procs={args.procs} seconds={args.duration:g} commits={n} rate={n / args.duration:.1f} "
        f"p50_ms={pct(lat, 50) * 1000:.3f} p99_ms={pct(lat, 99) * 1000:.3f} max_ms={(lat[-1] if lat else 0) * 1000:.1f}"
    )
    return 0


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    w = sub.add_parser("warm")
    w.add_argument("url")
    w.add_argument("secret")
    w.add_argument("--pool", type=int, required=True)
    w.add_argument("--first-update", type=int, required=True)
    f = sub.add_parser("fixed")
    f.add_argument("url")
    f.add_argument("secret")
    f.add_argument("--rate", type=float, required=True)
    f.add_argument("--duration", type=float, required=True)
    f.add_argument("--pool", type=int, required=True)
    f.add_argument("--new-pct", type=float, required=True)
    f.add_argument("--first-update", type=int, required=True)
    f.add_argument("--max-conns", type=int, default=40)
    f.add_argument("--max-idle", type=float, default=2.0)
    f.add_argument("--preopen", type=int, default=8)
    f.add_argument("--timeline")
    f.add_argument("--timeout", type=float, default=10.0)
    s = sub.add_parser("sqlite-insert")
    s.add_argument("path")
    s.add_argument("--procs", type=int, required=True)
    s.add_argument("--duration", type=float, required=True)
    args = ap.parse_args()
    if args.cmd == "warm":
        return asyncio.run(warm(args))
    if args.cmd == "fixed":
        return asyncio.run(fixed(args))
    return sqlite_insert(args)


if __name__ == "__main__":
    sys.exit(main())
