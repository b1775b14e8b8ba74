-- Submissions (bench/submit_unique.lua) at a fixed rate: each connection waits PACE_MS
-- milliseconds before its next request, so C connections send at most C * 1000 / PACE_MS
-- requests/s. wrk stays closed-loop (a slow answer delays that connection's next request), so
-- the script prints the rate it reached; compare p99 only at a reached rate near the target.
dofile(os.getenv("SUBMIT_UNIQUE"))
local pace = tonumber(os.getenv("PACE_MS") or "10")
function delay()
  return pace
end
