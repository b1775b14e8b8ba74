-- Visitor ids shaped as the head script makes them (assets/js/head.js): the time in
-- milliseconds in base 36, a dash, and a random UUID. Real ids sort by the time of the first
-- visit; wrk's Lua has no millisecond clock, so the UUID's first field counts the thread's
-- requests instead, and the rest of it is random per thread: the ids still sort in the order
-- they were sent, and making one costs wrk no more than any short id would.
--
-- Loaded by the scripts beside it: dofile(script_dir() .. "visitor_id.lua"), then call
-- visitor_ids(tid) once per thread (in init) for a function of the request counter.
local function base36(n)
  local digits, s = "0123456789abcdefghijklmnopqrstuvwxyz", ""
  repeat
    local d = n % 36
    s = digits:sub(d + 1, d + 1) .. s
    n = math.floor(n / 36)
  until n == 0
  return s
end

-- Every wrk thread's Lua state has the same unseeded random numbers: seed from the thread's
-- number (handed out in setup()) and the start time.
function visitor_ids(tid)
  math.randomseed(tid * 7919 + os.time())
  local prefix = base36(os.time() * 1000)
  local tail = string.format("-%04x-4%03x-%04x-%06x%06x", math.random(0, 0xffff),
    math.random(0, 0xfff), math.random(0x8000, 0xbfff), math.random(0, 0xffffff),
    math.random(0, 0xffffff))
  return function(counter)
    return string.format("%s-%08x%s", prefix, counter, tail)
  end, prefix
end
