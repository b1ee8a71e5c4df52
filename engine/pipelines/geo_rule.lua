-- Country rules: embargoed countries are blocked, anonymising networks add risk.
local BLOCKED = { KP = true }
local RISKY = { T1 = 50, XX = 20 }

local country = context.country
if country == nil then
  return { data = { geo_risk = 10 } }
end
country = tostring(country):upper()
if #country ~= 2 then
  helpers.log("unexpected country code " .. country)
  return { data = { geo_risk = 20, country = country } }
end
if BLOCKED[country] then
  return { allowed = false, error = "signups from " .. country .. " are not available" }
end
return { data = { geo_risk = RISKY[country] or 0, country = country } }
