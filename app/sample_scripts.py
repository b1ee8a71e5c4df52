"""The Lua text the sample store keeps for its scripts' versions, so pictures of a script's
source (the span pane's source view, `show`) have the lines the sample errors point at."""

from __future__ import annotations

GEO_RULE = """\
-- Blocks new accounts from countries the fraud team listed.
local BLOCKED = { KP = true, IR = true, SY = true }
local ALLOWED_FOR_PARTNERS = { CU = true }

local function partner(ctx)
  return ctx.partner_id ~= nil
end

if partner(context) then
  return { data = { ["geo_rule.checked"] = true } }
end

local geo = context.geo
local country = geo.country.code
if BLOCKED[country] and not ALLOWED_FOR_PARTNERS[country] then
  return { allowed = false, error = "country " .. country .. " is not allowed for new accounts" }
end
return { data = { ["geo_rule.checked"] = true } }
"""
"""Its line 14 indexes a field that is nil when the input has no geo data."""
CLAIMS_ENRICHER = """\
-- Adds the user's groups and tenant to the token's claims.
local claims = {}
claims.sub = context.user_id
claims.tenant = context.tenant

local groups = {}
local memberships = context.memberships

for _, m in pairs(memberships) do
  groups[#groups + 1] = m.group
end
claims.groups = groups
return { data = claims }
"""
"""Its line 9 walks memberships, which a service account's token request lacks."""
RISK_SCORER = """\
-- Sums the earlier layer's risk and blocks high scores.
local THRESHOLD = 0.80
local score = 0
for key, value in pairs(context.prev) do
  if type(value) == "number" and key:sub(-5) == "_risk" then
    score = score + value
  end
end
if score > THRESHOLD then
  local message = string.format("risk score %.2f above threshold %.2f", score, THRESHOLD)
  return { allowed = false, error = message }
end
return { data = { risk_score = score } }
"""
"""Its THRESHOLD is what the sample what-if's candidate raises."""
NOTIFIER = """\
-- {about}
local started = helpers.now()
local payload = {{ email = context.email, ip = context.ip }}
helpers.log("{name}: " .. payload.email)
http_post("https://hooks.example.test/{name}", payload)
return {{ data = {{ ["{name}.checked"] = true, took = helpers.now() - started }} }}
"""
"""Its line 5 calls a function the sandbox does not have (the sample's fallback error)."""
ABOUT = {
    "disposable_email": "Blocks sign-ups from disposable email domains.",
    "ip_denylist": "Blocks addresses on the deny list (tor exit nodes, known abuse).",
    "velocity_check": "Blocks bursts of sign-ups from one address.",
    "signup_audit": "Records the sign-up in the audit log.",
    "welcome_webhook": "Tells the mailer to send the welcome mail.",
    "crm_sync": "Copies the new account to the CRM.",
    "role_mapper": "Maps directory groups to roles.",
    "tenant_claims": "Adds the tenant's own claims.",
}


def sample_source(script: str) -> str:
    """The sample text of one of the sample pipelines' scripts."""
    if script == "geo_rule":
        return GEO_RULE
    if script == "claims_enricher":
        return CLAIMS_ENRICHER
    if script == "risk_scorer":
        return RISK_SCORER
    return NOTIFIER.format(name=script, about=ABOUT.get(script, "A sample script."))
