-- querywalk.lua: wrk script that asks one path with many query strings, one per line of a list.
-- Environment (read when the script loads):
--   QUERY_LIST  file with one query string per line (already URL-encoded, e.g. q=%D0%B0&lang=ru)
--   QUERY_PATH  the path before it, e.g. /api/search?
-- Each wrk thread walks the list round-robin from its own offset. At the end it prints
--   RESULT requests_per_s=.. p50_ms=.. p99_ms=.. bad_status=.. sock_errors=..

local list, path = {}, os.getenv("QUERY_PATH")
for line in io.lines(os.getenv("QUERY_LIST")) do
  if line ~= "" then list[#list + 1] = line end
end
local threads = {}

function setup(thread)
  thread:set("id", #threads)
  threads[#threads + 1] = thread
end

function init()
  next_i = (id * 7) % #list
  bad = 0
end

function request()
  next_i = next_i % #list + 1
  return wrk.format("GET", path .. list[next_i])
end

function response(status)
  if status ~= 200 then bad = bad + 1 end
end

function done(summary, latency, _)
  local bad_status = 0
  for _, t in ipairs(threads) do bad_status = bad_status + (t:get("bad") or 0) end
  local e = summary.errors
  local sock = e.connect + e.read + e.write + e.timeout
  io.write(string.format("RESULT requests_per_s=%.1f p50_ms=%.2f p99_ms=%.2f bad_status=%d sock_errors=%d\n",
    summary.requests / (summary.duration / 1e6), latency:percentile(50) / 1000, latency:percentile(99) / 1000,
    bad_status, sock))
end
