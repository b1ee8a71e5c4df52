-- Adds role and tier claims to the token; roles that are not a list of strings fail on purpose.
local TIERS = { free = "basic", pro = "premium", enterprise = "premium" }

local given = context.roles or {}
local roles = { "user" }
for i = 1, #given do
  local role = given[i]:lower()
  if role ~= "user" then roles[#roles + 1] = role end
end
table.sort(roles)

return { data = {
  roles = roles,
  tier = TIERS[context.plan or "free"] or "basic",
  email_verified = context.email_verified == true,
} }
