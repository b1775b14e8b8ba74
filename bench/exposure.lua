-- Exposure beacons as navigator.sendBeacon sends them (text/plain JSON), one new visitor each.
wrk.method = "POST"
wrk.headers["Content-Type"] = "text/plain;charset=UTF-8"
local prefix, counter = "", 0
-- Each wrk thread's Lua state has the same unseeded random numbers: number the threads instead.
local threads = 0
function setup(thread)
  threads = threads + 1
  thread:set("tid", threads)
end
function init(args)
  prefix = tostring(tid) .. "x" .. tostring(os.time())
end
function request()
  counter = counter + 1
  local body = string.format('{"type":"exposure","experiment":"bench","variant":"%s","visitor":"e%s-%d","page":"/lp/"}',
    (counter % 2 == 0) and "a" or "b", prefix, counter)
  return wrk.format(nil, nil, nil, body)
end
function done(summary, latency, requests)
  io.write(string.format("p50_us=%d p90_us=%d p99_us=%d max_us=%d\n",
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max))
  io.write(string.format("requests=%d errors_status=%d\n", summary.requests, summary.errors.status))
end
