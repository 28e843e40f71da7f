-- wrk script of bench/ingest.sh: signed Telegram webhooks, every update_id unique.
--
--   wrk -t2 -c32 -d12s --latency -s ingest.lua http://127.0.0.1:$PORT/webhooks/telegram \
--       -- SECRET FIRST_UPDATE POOL NEW_PCT
--
-- Thread k sends update ids FIRST_UPDATE + k*1,000,000 + 1, 2, 3, ... (Telegram's update_id
-- is a 32-bit number: keep FIRST_UPDATE + threads*1,000,000 under 2^31). NEW_PCT % of the
-- updates come from a new chat (chat id 100,000,000 + update_id: a new contact and
-- conversation); the others from a chat of the warmed pool, chat ids 1,000,000 .. +POOL-1,
-- drawn at random. One RESULT line is printed at the end (no per-response hook, which
-- would slow wrk down; errors.status counts answers with a status >= 400, and bench/ingest.sh
-- also counts the server's own answers by status from /metrics).

local counter = 0

function setup(thread)
  thread:set("tid", counter)
  counter = counter + 1
end

function init(args)
  secret = args[1]
  next_id = tonumber(args[2]) + tid * 1000000
  pool = tonumber(args[3])
  new_pct = tonumber(args[4])
  math.randomseed(next_id)
  wrk.headers["Content-Type"] = "application/json"
  wrk.headers["X-Telegram-Bot-Api-Secret-Token"] = secret
end

local body_format = '{"update_id":%d,"message":{"message_id":%d,"date":%d,'
  .. '"chat":{"id":%d,"type":"private","first_name":"A"},'
  .. '"from":{"id":%d,"is_bot":false,"first_name":"A"},"text":"Bonjour"}}'

function request()
  next_id = next_id + 1
  local chat
  if math.random() * 100 < new_pct then
    chat = 100000000 + next_id
  else
    chat = 1000000 + math.random(pool) - 1
  end
  local body = string.format(body_format, next_id, next_id, os.time(), chat, chat)
  return wrk.format("POST", nil, nil, body)
end

done = function(summary, latency, requests)
  local e = summary.errors
  local secs = summary.duration / 1e6
  io.write(string.format(
    "RESULT requests=%d seconds=%.2f rps=%.1f p50_us=%d p90_us=%d p99_us=%d max_us=%d non2xx=%d err_connect=%d err_read=%d err_write=%d err_timeout=%d\n",
    summary.requests, secs, summary.requests / secs,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max,
    e.status, e.connect, e.read, e.write, e.timeout))
end
