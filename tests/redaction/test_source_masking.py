"""Script sources are stored with what redaction masks in traces masked: literals under
secret-named keys, helpers' secrets and secret shapes; the rest of the code as written."""

from __future__ import annotations

from pipetrace.engine.redaction import KeyRules, Redactor
from pipetrace.engine.redaction.sources import masked_source

SOURCE = """\
local api_key = "sk-live-cnry-1"
local headers = { ["X-Api-Key"] = 'cnry-2', accept = "json" }
if context.token == "not-a-secret-compare" then return nil end
if context.password ~= "also-compared" then helpers.log("Bearer cnryBearer3x") end
local stripe = "cnry-helper-4"
return { data = { card = "4111 1111 1111 1111", member_number = "m-5", note = "kept" } }
"""


def test_literal_secrets_are_masked_and_the_code_is_kept() -> None:
    redactor = Redactor(KeyRules.configured(keys=["member_number"]), ["cnry-helper-4"])
    masked = masked_source(SOURCE, redactor).splitlines()
    assert masked == [
        'local api_key = "[REDACTED]"',
        'local headers = { ["X-Api-Key"] = \'[REDACTED]\', accept = "json" }',
        'if context.token == "not-a-secret-compare" then return nil end',
        'if context.password ~= "also-compared" then helpers.log("Bearer [REDACTED]") end',
        'local stripe = "[REDACTED]"',
        'return { data = { card = "[REDACTED]", member_number = "[REDACTED]", note = "kept" } }',
    ]
