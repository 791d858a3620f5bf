-- wrk script for tests/bench/run: POSTs one prepared body over and over and counts every
-- answer that is not 201, so that a run measuring errors is caught and reported.
--
-- Environment (set by tests/bench/run):
--   BENCH_BODY_FILE      the request body, sent as is
--   BENCH_CONTENT_TYPE   its Content-Type (JSON or multipart/form-data; boundary=…)
--   BENCH_USER_AGENT     the User-Agent header (a real browser's)
--   BENCH_PATH           the request path (default /api/v1/feedback)
--
-- done() prints one machine-readable line that the script parses:
--   BENCH requests=… duration_us=… bytes=… non201=… responses=… statuses=201:…,422:… errors=…
--   p50_us=… p90_us=… p99_us=… max_us=…

local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

local function slurp(path)
  local f = assert(io.open(path, "rb"), "cannot open BENCH_BODY_FILE " .. tostring(path))
  local data = f:read("*a")
  f:close()
  return data
end

-- At the top level, so that wrk formats the request once per thread with these values.
wrk.method = "POST"
wrk.path = os.getenv("BENCH_PATH") or "/api/v1/feedback"
wrk.body = slurp(os.getenv("BENCH_BODY_FILE"))
wrk.headers["Content-Type"] = os.getenv("BENCH_CONTENT_TYPE")
wrk.headers["User-Agent"] = os.getenv("BENCH_USER_AGENT")
wrk.headers["Accept"] = "application/json"

function init(args)
  responses = 0
  non201 = 0
  statuses = {}
end

function response(status, headers, body)
  responses = responses + 1
  if status ~= 201 then
    non201 = non201 + 1
    statuses[status] = (statuses[status] or 0) + 1
  end
end

function done(summary, latency, requests)
  local bad, total, seen = 0, 0, {}
  for _, thread in ipairs(threads) do
    bad = bad + thread:get("non201")
    total = total + thread:get("responses")
    local s = thread:get("statuses")
    for code, count in pairs(s) do
      seen[code] = (seen[code] or 0) + count
    end
  end
  local codes = {}
  for code, count in pairs(seen) do
    table.insert(codes, code .. ":" .. count)
  end
  local e = summary.errors
  io.write(string.format(
    "BENCH requests=%d duration_us=%d bytes=%d non201=%d responses=%d statuses=%s " ..
    "errors=connect:%d,read:%d,write:%d,timeout:%d p50_us=%d p90_us=%d p99_us=%d max_us=%d\n",
    summary.requests, summary.duration, summary.bytes, bad, total,
    (#codes > 0) and table.concat(codes, ",") or "-",
    e.connect, e.read, e.write, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max))
end
