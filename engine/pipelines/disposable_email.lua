-- Blocks sign-ups from throw-away mailbox providers and scores suspicious addresses.
-- An email that is not a string (e.g. a number) fails with a script error on purpose.
local DISPOSABLE = {
  ["mailinator.com"] = true, ["guerrillamail.com"] = true, ["10minutemail.com"] = true,
  ["trashmail.com"] = true, ["yopmail.com"] = true, ["tempmail.dev"] = true,
}

local email = context.email
if email == nil then
  return { data = { email_checked = false } }
end

local normalized = email:lower()
local user, domain = normalized:match("^([^@]+)@([%w%.%-]+)$")
if not domain then
  helpers.log("malformed email address")
  return { data = { email_checked = true, email_risk = 30 } }
end

if DISPOSABLE[domain] then
  helpers.log("disposable domain " .. domain)
  return { allowed = false, error = "disposable email addresses are not accepted" }
end

local risk = 0
if user:find("+", 1, true) then risk = risk + 10 end
if helpers.matches(user, "%d%d%d%d") then risk = risk + 15 end
return { data = { email_checked = true, email_domain = domain, email_risk = risk } }
