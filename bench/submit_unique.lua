-- The shared lead submission (../shared/bench/submit.lua) with a visitor id of its own on every
-- request, so deduplication does not collapse the writes. SHARED_SUBMIT names the shared script.
dofile(os.getenv("SHARED_SUBMIT"))
wrk.headers["Accept"] = "application/json"
local base = wrk.body
local counter = 0
-- Every wrk thread has its own Lua state with the same unseeded random numbers, so the
-- prefix comes from a thread number handed out in setup(), plus the start time.
-- The shared script's setup() collects threads for its 2xx count: keep it and add to it.
local shared_setup = setup
local threads = 0
function setup(thread)
  threads = threads + 1
  thread:set("tid", threads)
  if shared_setup then shared_setup(thread) end
end
local prefix
function init(args)
  prefix = tostring(tid) .. "x" .. tostring(os.time())
end
function request()
  counter = counter + 1
  return wrk.format(nil, nil, nil, base .. "&_visitor=t" .. prefix .. "-" .. counter)
end
