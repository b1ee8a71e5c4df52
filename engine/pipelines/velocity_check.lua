-- Rate check on recent attempts; also the place where the demo provokes limit hits.
-- context.stress = "loop" | "memory" | "pattern" makes this script exceed a sandbox limit.
local stress = context.stress
if stress == "loop" then
  local n = 0
  while true do n = n + 1 end
elseif stress == "memory" then
  local blob = string.rep("x", 1024 * 1024)
  local hoard = {}
  for i = 1, 1e6 do hoard[i] = blob .. i end
elseif stress == "pattern" then
  local subject = string.rep("a", 20000)
  return { data = { odd = subject:find(".-.-.-b") ~= nil } }
end

local attempts = context.attempts_last_hour or 0
-- A string here (e.g. "12") raises "attempt to compare": a natural script error.
if attempts > 20 then
  return { allowed = false, error = "too many attempts, try again later" }
end

local risk = helpers.trace("velocity.score", function()
  if attempts > 10 then return 40 end
  if attempts > 5 then return 20 end
  return 0
end)
return { data = { attempts_last_hour = attempts, velocity_risk = risk } }
