-- wrk script for bench/webhooks.py: replay pre-signed Twilio webhooks.
--
-- REPLAY_FILE holds one request a line: path <TAB> X-Twilio-Signature <TAB> body.
-- The signature covers the body (fresh CallSids), so every request is signed
-- in Python beforehand; wrk only sends them. Thread n of N sends lines n, n+N, ...
-- so no two threads send the same request. done() prints one JSON line.

local threads = {}
local count = 0

function setup(thread)
  thread:set("id", count)
  table.insert(threads, thread)
  count = count + 1
end

function init(args)
  step = tonumber(os.getenv("REPLAY_THREADS") or "1")
  lines = {}
  for line in io.lines(os.getenv("REPLAY_FILE")) do
    local path, signature, body = line:match("^([^\t]*)\t([^\t]*)\t(.*)$")
    table.insert(lines, {path, signature, body})
  end
  index = id + 1
  wrapped = 0
end

function request()
  local r = lines[index]
  index = index + step
  if index > #lines then
    index = id + 1
    wrapped = wrapped + 1
  end
  return wrk.format("POST", r[1], {
    ["Content-Type"] = "application/x-www-form-urlencoded",
    ["X-Twilio-Signature"] = r[2],
  }, r[3])
end

function done(summary, latency, requests)
  local wraps = 0
  for _, thread in ipairs(threads) do
    wraps = wraps + (thread:get("wrapped") or 0)
  end
  local e = summary.errors
  io.write(string.format(
    '{"requests": %d, "duration_us": %d, "p50_us": %d, "p99_us": %d, ' ..
    '"errors_status": %d, "errors_socket": %d, "wrapped": %d}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    e.status, e.connect + e.read + e.write + e.timeout, wraps))
end
