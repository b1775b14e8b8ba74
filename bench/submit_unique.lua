-- The shared lead submission (../shared/bench/submit.lua) as real leads arrive: a distinct
-- e-mail address on every request (the shared script's submit_body), and a visitor id of its
-- own shaped as the head script makes one (bench/visitor_id.lua), so neither deduplication
-- nor the e-mail index sees a repeated key. SHARED_SUBMIT names the shared script.
local here = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
dofile(os.getenv("SHARED_SUBMIT"))
dofile(here .. "visitor_id.lua")
wrk.headers["Accept"] = "application/json"
local counter, visitor, tag = 0, nil, ""
-- Every wrk thread has its own Lua state: number the threads in setup() for their seeds.
-- The shared script's setup() collects threads for its 2xx count: keep it and add to it.
local shared_setup = setup
local threads = 0
function setup(thread)
  threads = threads + 1
  thread:set("tid", threads)
  if shared_setup then shared_setup(thread) end
end
function init(args)
  local prefix
  visitor, prefix = visitor_ids(tid)
  tag = tostring(tid) .. "x" .. prefix
end
function request()
  counter = counter + 1
  return wrk.format(nil, nil, nil, submit_body(tag .. "-" .. counter) .. "&_visitor=" .. visitor(counter))
end
