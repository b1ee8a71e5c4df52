-- Sums every *_risk value the previous layer produced and blocks high scores.
local THRESHOLD = 70

local score, parts = 0, {}
helpers.trace("risk.collect", function()
  for key, value in pairs(context.prev) do
    if type(value) == "number" and key:sub(-5) == "_risk" then
      score = score + value
      parts[#parts + 1] = key .. "=" .. value
    end
  end
end)
table.sort(parts)

local level = helpers.trace("risk.classify", function()
  if score >= THRESHOLD then return "high" end
  if score >= 30 then return "medium" end
  return "low"
end)
helpers.log("risk " .. score .. " (" .. table.concat(parts, ", ") .. ")")

if level == "high" then
  return { allowed = false, error = "risk score " .. score .. " is too high",
           data = { risk_score = score, risk_level = level } }
end
return { data = { risk_score = score, risk_level = level } }
