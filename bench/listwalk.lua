-- listwalk.lua: wrk script that asks one path with many endings, one per line of a list: OGC
-- API – Features bbox pages, search query strings, points for /api/reverse or /api/nearest.
-- Environment (read when the script loads):
--   WALK_LIST  file with one ending per line, appended to WALK_PATH as it is (already URL-encoded):
--              "minlon,minlat,maxlon,maxlat" (bench/tileurls -bbox), "q=%D0%B0&lang=ru",
--              "&lon=57.17&lat=50.28"
--   WALK_PATH  what comes before it, e.g. /ogc/collections/buildings/items?limit=100&bbox=
--   WALK_OK    the statuses that count as answers, comma-separated (default 200; the reverse
--              geocoder's "nothing near" is a 404 for points in open ground)
-- Each wrk thread walks the list round-robin from its own offset. At the end it prints
--   RESULT requests_per_s=.. p50_ms=.. p99_ms=.. bad_status=.. sock_errors=.. bytes_per_answer=..
-- bytes_per_answer is the mean size of the answers as received (headers included, compressed
-- when the server compressed them).

local list, path = {}, os.getenv("WALK_PATH")
for line in io.lines(os.getenv("WALK_LIST")) do
  if line ~= "" then list[#list + 1] = line end
end
local ok = {}
for code in (os.getenv("WALK_OK") or "200"):gmatch("%d+") do ok[tonumber(code)] = true end
local threads = {}

function setup(thread)
  thread:set("id", #threads)
  threads[#threads + 1] = thread
end

function init()
  next_i = (id * 997) % #list
  bad = 0
end

function request()
  next_i = next_i % #list + 1
  return wrk.format("GET", path .. list[next_i])
end

function response(status)
  if not ok[status] then bad = bad + 1 end
end

function done(summary, latency, _)
  local bad_status = 0
  for _, t in ipairs(threads) do bad_status = bad_status + (t:get("bad") or 0) end
  local e = summary.errors
  local sock = e.connect + e.read + e.write + e.timeout
  local n = math.max(summary.requests, 1)
  io.write(string.format("RESULT requests_per_s=%.1f p50_ms=%.2f p99_ms=%.2f bad_status=%d sock_errors=%d bytes_per_answer=%.0f\n",
    summary.requests / (summary.duration / 1e6), latency:percentile(50) / 1000, latency:percentile(99) / 1000,
    bad_status, sock, summary.bytes / n))
end
