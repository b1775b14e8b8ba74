-- Exposure beacons as navigator.sendBeacon sends them (text/plain JSON), one new visitor each,
-- with visitor ids shaped as the head script makes them (bench/visitor_id.lua).
local here = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
dofile(here .. "visitor_id.lua")
wrk.method = "POST"
wrk.headers["Content-Type"] = "text/plain;charset=UTF-8"
local counter, visitor = 0, nil
-- Each wrk thread's Lua state is its own: number the threads for their seeds.
local threads = 0
function setup(thread)
  threads = threads + 1
  thread:set("tid", threads)
end
function init(args)
  visitor = visitor_ids(tid)
end
function request()
  counter = counter + 1
  local body = string.format('{"type":"exposure","experiment":"bench","variant":"%s","visitor":"%s","page":"/lp/"}',
    (counter % 2 == 0) and "a" or "b", visitor(counter))
  return wrk.format(nil, nil, nil, body)
end
function done(summary, latency, requests)
  io.write(string.format("p50_us=%d p90_us=%d p99_us=%d max_us=%d\n",
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max))
  io.write(string.format("requests=%d errors_status=%d\n", summary.requests, summary.errors.status))
end
