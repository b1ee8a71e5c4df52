-- Blocks requests from denied addresses; malformed or private addresses add risk.
local DENIED_PREFIXES = { "203.0.113.", "198.51.100.66" }

local ip = context.ip or context.request_ip
if ip == nil then
  return { data = { ip_risk = 10 } }
end
if type(ip) ~= "string" then
  error("ip must be a string, got " .. type(ip))
end

for _, prefix in ipairs(DENIED_PREFIXES) do
  if ip:sub(1, #prefix) == prefix then
    helpers.log("denied address " .. ip)
    return { allowed = false, error = "requests from this address are blocked" }
  end
end

if not helpers.matches(ip, "^%d+%.%d+%.%d+%.%d+$") and not ip:find(":", 1, true) then
  return { data = { ip_risk = 30, ip_valid = false } }
end
local private = ip:find("^10%.") or ip:find("^192%.168%.") or ip:find("^127%.")
return { data = { ip_risk = private and 5 or 0, ip_valid = true, ip_hash = helpers.hash(ip) } }
