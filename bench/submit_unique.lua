-- The shared lead submission (../shared/bench/submit.lua) as real leads arrive: a distinct
-- e-mail address on every request (the shared script's submit_body), and a visitor id of its
-- own shaped as the head script makes one (assets/js/head.js: the time in milliseconds in
-- base 36, a dash, and a random UUID), so neither deduplication nor the e-mail index sees a
-- repeated key. SHARED_SUBMIT names the shared script.
dofile(os.getenv("SHARED_SUBMIT"))
wrk.headers["Accept"] = "application/json"
local counter = 0
-- Every wrk thread has its own Lua state with the same unseeded random numbers, so the
-- randomness is seeded from a thread number handed out in setup(), plus the start time.
-- The shared script's setup() collects threads for its 2xx count: keep it and add to it.
local shared_setup = setup
local threads = 0
function setup(thread)
  threads = threads + 1
  thread:set("tid", threads)
  if shared_setup then shared_setup(thread) end
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
local prefix, tail, tag = "", "", ""
function init(args)
  math.randomseed(tid * 7919 + os.time())
  prefix = base36(os.time() * 1000)
  tail = string.format("-%04x-4%03x-%04x-%06x%06x", math.random(0, 0xffff), math.random(0, 0xfff),
    math.random(0x8000, 0xbfff), math.random(0, 0xffffff), math.random(0, 0xffffff))
  tag = tostring(tid) .. "x" .. prefix
end
function request()
  counter = counter + 1
  -- wrk's Lua has no millisecond clock: the UUID's first field counts the thread's requests,
  -- so the ids still sort in the order they were sent (see bench/exposure.lua).
  local visitor = string.format("%s-%08x%s", prefix, counter, tail)
  return wrk.format(nil, nil, nil, submit_body(tag .. "-" .. counter) .. "&_visitor=" .. visitor)
end
