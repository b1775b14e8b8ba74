-- Exposure beacons as navigator.sendBeacon sends them (text/plain JSON), one new visitor each,
-- with visitor ids shaped as the head script makes them (assets/js/head.js): the time in
-- milliseconds in base 36, a dash, and a random UUID. wrk's Lua has no millisecond clock, so
-- the time is the start second plus a per-request count: ids still sort in the order they
-- were sent, as real first visits do.
wrk.method = "POST"
wrk.headers["Content-Type"] = "text/plain;charset=UTF-8"
local counter, start = 0, 0
-- Each wrk thread's Lua state has the same unseeded random numbers: number the threads instead.
local threads = 0
function setup(thread)
  threads = threads + 1
  thread:set("tid", threads)
end
function init(args)
  start = os.time() * 1000
  math.randomseed(tid * 7919 + os.time())
end
local digits = "0123456789abcdefghijklmnopqrstuvwxyz"
local function base36(n)
  local s = ""
  repeat
    local d = n % 36
    s = digits:sub(d + 1, d + 1) .. s
    n = math.floor(n / 36)
  until n == 0
  return s
end
local function uuid4()
  return string.format("%08x-%04x-4%03x-%04x-%06x%06x", math.random(0, 0x7fffffff),
    math.random(0, 0xffff), math.random(0, 0xfff), math.random(0x8000, 0xbfff),
    math.random(0, 0xffffff), math.random(0, 0xffffff))
end
function request()
  counter = counter + 1
  local body = string.format('{"type":"exposure","experiment":"bench","variant":"%s","visitor":"%s-%s","page":"/lp/"}',
    (counter % 2 == 0) and "a" or "b", base36(start + counter), uuid4())
  return wrk.format(nil, nil, nil, body)
end
function done(summary, latency, requests)
  io.write(string.format("p50_us=%d p90_us=%d p99_us=%d max_us=%d\n",
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max))
  io.write(string.format("requests=%d errors_status=%d\n", summary.requests, summary.errors.status))
end
