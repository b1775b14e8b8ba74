-- The shared lead submission (../shared/bench/submit.lua) with a visitor id of its own on every
-- request, so deduplication does not collapse the writes. SHARED_SUBMIT names the shared script.
dofile(os.getenv("SHARED_SUBMIT"))
wrk.headers["Accept"] = "application/json"
local base = wrk.body
local prefix, counter = "", 0
function init(args)
  prefix = tostring(math.random(1, 1000000000))
end
function request()
  counter = counter + 1
  return wrk.format(nil, nil, nil, base .. "&_visitor=t" .. prefix .. "-" .. counter)
end
