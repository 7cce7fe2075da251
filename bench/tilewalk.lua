-- bench/tilewalk.lua: a wrk script that requests the tiles of a list; bench/load.sh runs it.
--
-- Read from the environment when the script loads:
--   TILEWALK_LIST     file of z/x/y lines (bench/tileurls)
--   TILEWALK_PATH     request path with {z}, {x} and {y}, e.g. /tiles/buildings/{z}/{x}/{y}.mvt
--   TILEWALK_MODE     cold: every tile of the list exactly once, then wrk is stopped. Run it with
--                           -t1: one thread hands the tiles out to all its connections.
--                     warm: the list over and over until wrk's -d ends; thread k of n starts k/n
--                           of the way into it.
--   TILEWALK_THREADS  wrk's -t (where the warm threads start)
--
-- done() prints one line for load.sh:
--   TILEWALK mode= listed= answered= seconds= tiles_per_s= p50_ms= p99_ms= mean_ms= max_ms=
--            bad_status= socket_errors= bytes= gzip=
-- bad_status counts answers other than 200 and 204; socket_errors wrk's connect, read and write
-- errors and timeouts; bytes the response bodies as received (compressed when gzip came back).
-- The cold pass's seconds run from its first request to its last answer.

local ffi = require("ffi")
ffi.cdef [[
struct tilewalk_time { long sec; long nsec; };
int clock_gettime(int clock, struct tilewalk_time *t);
int getpid(void);
int kill(int pid, int sig);
]]
local CLOCK_MONOTONIC, SIGINT = 1, 2
local now_t = ffi.new("struct tilewalk_time")
local function now()
  ffi.C.clock_gettime(CLOCK_MONOTONIC, now_t)
  return tonumber(now_t.sec) + tonumber(now_t.nsec) / 1e9
end

local mode = os.getenv("TILEWALK_MODE") or "warm"
local list_file = os.getenv("TILEWALK_LIST") or error("tilewalk: TILEWALK_LIST is not set")
local path_template = os.getenv("TILEWALK_PATH") or error("tilewalk: TILEWALK_PATH is not set")
local thread_count = tonumber(os.getenv("TILEWALK_THREADS") or "1")
if mode ~= "cold" and mode ~= "warm" then error("tilewalk: TILEWALK_MODE must be cold or warm") end

-- The main Lua state: setup() meets every thread and done() adds up what they counted.
local threads = {}
function setup(thread)
  thread:set("thread_index", #threads)
  threads[#threads + 1] = thread
end

-- Each thread's own state. Globals, so that done() can read them with thread:get().
listed, answered, bad_status, bytes, gzip = 0, 0, 0, 0, 0
first_request, last_answer = 0, 0
local requests = {}
local handed_out, sent, next_tile = 0, 0, 1

function init(args)
  for line in io.lines(list_file) do
    local z, x, y = line:match("^(%d+)/(%d+)/(%d+)$")
    if z then
      local path = path_template:gsub("{z}", z):gsub("{x}", x):gsub("{y}", y)
      requests[#requests + 1] = wrk.format("GET", path)
    end
  end
  listed = #requests
  if listed == 0 then error("tilewalk: no z/x/y lines in " .. list_file) end
  next_tile = math.floor((thread_index or 0) * listed / thread_count) % listed + 1
end

if mode == "cold" then
  -- wrk asks delay() before each request of a connection. Once every tile is handed out, the
  -- connection waits an hour: far longer than the pass may last, so no tile is asked twice.
  function delay()
    if handed_out < listed then
      handed_out = handed_out + 1
      return 0
    end
    return 3600 * 1000
  end
end

function request()
  if mode == "cold" then
    -- A request is a tile of the pass only when delay() handed one out for it. wrk also calls
    -- request() once before the run to check it (thread 0, after init), and again without
    -- delay() when it reconnects after a socket error: both get the last tile again, uncounted.
    if sent < handed_out then
      sent = sent + 1
      if sent == 1 then first_request = now() end
    end
    return requests[math.max(sent, 1)]
  end
  local r = requests[next_tile]
  next_tile = next_tile % listed + 1
  return r
end

function response(status, headers, body)
  answered = answered + 1
  if status ~= 200 and status ~= 204 then bad_status = bad_status + 1 end
  if body then bytes = bytes + #body end
  local encoding = headers["Content-Encoding"] or headers["content-encoding"]
  if encoding and encoding:find("gzip", 1, true) then gzip = gzip + 1 end
  if mode == "cold" and answered == listed then
    last_answer = now()
    wrk.thread:stop()
    -- wrk's main thread sleeps for the whole -d; SIGINT wakes it, and wrk reports right away.
    ffi.C.kill(ffi.C.getpid(), SIGINT)
  end
end

function done(summary, latency, _)
  local sum = { answered = 0, bad_status = 0, bytes = 0, gzip = 0 }
  local tiles, first, last = 0, math.huge, 0
  for _, t in ipairs(threads) do
    for k, v in pairs(sum) do sum[k] = v + (t:get(k) or 0) end
    tiles = math.max(tiles, t:get("listed") or 0)
    local f, l = t:get("first_request") or 0, t:get("last_answer") or 0
    if f > 0 then first = math.min(first, f) end
    last = math.max(last, l)
  end
  local seconds = summary.duration / 1e6
  if mode == "cold" and last > 0 and first < last then seconds = last - first end
  local e = summary.errors
  io.write(string.format(
    "TILEWALK mode=%s listed=%d answered=%d seconds=%.3f tiles_per_s=%.1f p50_ms=%.2f p99_ms=%.2f " ..
    "mean_ms=%.2f max_ms=%.2f bad_status=%d socket_errors=%d bytes=%d gzip=%d\n",
    mode, tiles, sum.answered, seconds, sum.answered / seconds,
    latency:percentile(50) / 1000, latency:percentile(99) / 1000, latency.mean / 1000, latency.max / 1000,
    sum.bad_status, e.connect + e.read + e.write + e.timeout, sum.bytes, sum.gzip))
end
