-- Records an audit line for the new account (the welcome result is part of it).
local welcome = context.outputs.welcome_email or {}
helpers.log(string.format("signup user=%s welcome=%s at=%d",
  tostring(context.user_id), tostring(welcome.welcome_queued), helpers.now()))
return { data = { audited = true } }
