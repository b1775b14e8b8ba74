-- Exposure beacons as navigator.sendBeacon sends them (text/plain JSON), one new visitor each,
-- with visitor ids shaped as the head script makes them (assets/js/head.js): the time in
-- milliseconds in base 36, a dash, and a random UUID. Real ids sort by the time of the first
-- visit; wrk's Lua has no millisecond clock, so here the UUID's first field counts the thread's
-- requests instead, and the rest of it is random per thread: the ids still sort in the order
-- they were sent, and making one costs wrk no more than any short id would.
wrk.method = "POST"
wrk.headers["Content-Type"] = "text/plain;charset=UTF-8"
local counter, prefix, tail = 0, "", ""
-- Each wrk thread's Lua state has the same unseeded random numbers: number the threads instead.
local threads = 0
function setup(thread)
  threads = threads + 1
  thread:set("tid", threads)
end
local function base36(n)
  local digits, s = "0123456789abcdefghijklmnopqrstuvwxyz", ""
  repeat
    local d = n % 36
    s = digits:sub(d + 1, d + 1) .. s
    n = math.floor(n / 36)
  until n == 0
  return s
end
function init(args)
  math.randomseed(tid * 7919 + os.time())
  prefix = base36(os.time() * 1000)
  tail = string.format("-%04x-4%03x-%04x-%06x%06x", math.random(0, 0xffff), math.random(0, 0xfff),
    math.random(0x8000, 0xbfff), math.random(0, 0xffffff), math.random(0, 0xffffff))
end
function request()
  counter = counter + 1
  local body = string.format('{"type":"exposure","experiment":"bench","variant":"%s","visitor":"%s-%08x%s","page":"/lp/"}',
    (counter % 2 == 0) and "a" or "b", prefix, counter, tail)
  return wrk.format(nil, nil, nil, body)
end
function done(summary, latency, requests)
  io.write(string.format("p50_us=%d p90_us=%d p99_us=%d max_us=%d\n",
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max))
  io.write(string.format("requests=%d errors_status=%d\n", summary.requests, summary.errors.status))
end
