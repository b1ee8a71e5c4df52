-- Queues a welcome message; accounts without an email get none.
local email = context.email
if type(email) ~= "string" then
  return { data = { welcome_queued = false } }
end
local template = (context.locale == "de") and "welcome_de" or "welcome_en"
helpers.log("queued " .. template)
return { data = { welcome_queued = true, template = template, recipient = helpers.hash(email) } }
