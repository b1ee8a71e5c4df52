-- Derives the OAuth scope string from the roles the claims enricher added.
local SCOPES = { user = "profile email", admin = "admin:read admin:write", support = "tickets" }

local scopes = {}
helpers.trace("scopes.expand", function()
  for _, role in ipairs(context.prev.roles or {}) do
    scopes[#scopes + 1] = SCOPES[role] or ("role:" .. role)
  end
end)
return { data = { scope = table.concat(scopes, " ") } }
