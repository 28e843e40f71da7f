#!/usr/bin/env python3
# Issue 19: the delivery claim's query on SQLite with 100,000 pending rows, before and after the partial index.
import sqlite3, time, glob, os, sys
# Run from the repository root: python3 bench/claim_query.py
db = os.environ.get("CLAIM_BENCH_DB", "/tmp/relais-claim-bench.db")
if os.path.exists(db): os.remove(db)
c = sqlite3.connect(db)
ups = sorted(glob.glob("migrations/sqlite/*/up.sql"))
claim = [u for u in ups if "outbox_claim_indexes" in u]
for u in ups:
    if u in claim: continue
    c.executescript(open(u).read())
c.executescript("""
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 120000)
INSERT INTO outbox (id, channel, chat_key, destination_sealed, payload_sealed, status, next_attempt_at, created_at, position)
SELECT 'row-' || substr('000000' || i, -6), 'telegram', 'chat-' || (i % 5000), X'00', X'00',
 CASE WHEN i <= 20000 THEN 'sent' ELSE 'pending' END,
 strftime('%Y-%m-%d %H:%M:%f', '2026-12-01 00:00:00', '+' || (i / 1000.0) || ' seconds'),
 strftime('%Y-%m-%d %H:%M:%f', '2026-12-01 00:00:00', '+' || (i / 1000.0) || ' seconds'), 0 FROM n;
ANALYZE;""")
# The claim's query as core::outbox::due_query writes it for the text line's outbox.
q = ("SELECT id FROM outbox WHERE status IN ('pending', 'sending') AND ((status = 'pending' AND next_attempt_at <= ?1) "
     "OR (status = 'sending' AND locked_until < ?1)) ORDER BY created_at, position LIMIT ?2")
# The machine's raw reference in the same run: one full scan of the 120,000 rows.
ts = []
for _ in range(20):
    t = time.perf_counter(); c.execute("SELECT count(*), max(length(chat_key)) FROM outbox").fetchall(); ts.append(time.perf_counter() - t)
ts.sort()
print(f"raw: a full scan of 120,000 rows, median {ts[10]*1000:.2f} ms (SQLite {sqlite3.sqlite_version})")
def run(label):
    plan = [r[3] for r in c.execute("EXPLAIN QUERY PLAN " + q, ("2026-12-02 00:00:00", 128))]
    ts = []
    for _ in range(50):
        t = time.perf_counter(); c.execute(q, ("2026-12-02 00:00:00", 128)).fetchall(); ts.append(time.perf_counter() - t)
    ts.sort()
    print(f"{label}: median {ts[25]*1000:.2f} ms, max {ts[-1]*1000:.2f} ms; plan: {' / '.join(plan)}")
run("before")
c.executescript(open(claim[0]).read()); c.execute("ANALYZE")
run("after")
