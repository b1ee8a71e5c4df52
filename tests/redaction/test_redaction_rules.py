"""The redaction rules: which keys are secret, which shapes are masked, how a trace's known
secrets are masked in its text, and the `[redact]` table of pipelines.toml."""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

import pytest

from pipetrace.engine import Engine, EngineError, PipelineError, load_pipelines
from pipetrace.engine.redaction import KeyRules, Redactor
from pipetrace.engine.redaction.patterns import luhn_valid, mask_patterns

RULES = KeyRules()

# Every name of the report, and every entry of Sentry's default deny list.
SECRET_KEYS = [
    "password", "newPassword", "confirm_password", "Authorization", "access_token",
    "refreshToken", "id_token", "Cookie", "Set-Cookie", "X-Api-Key", "otp", "totp_code", "pin",
    "passwd", "pwd", "private_key", "cvc", "cvv2", "session_id", "sessionId", "client_secret",
    "PASSWORD", "Api.Key", "x_api_key", "XSRF-TOKEN", "X-CSRFToken", "AWSAccessKeyId",
    "card_number", "mfa_code_otp", "code_verifier", "user.pin", "auth",
    # Sentry's DEFAULT_DENYLIST
    "passwd", "secret", "api_key", "apikey", "credentials", "mysql_pwd", "privatekey", "token",
    "session", "csrftoken", "sessionid", "x_csrftoken", "x_forwarded_for", "set_cookie",
    "cookie", "authorization", "aiohttp_session", "connect.sid", "csrf_token", "csrf", "_csrf",
    "_csrf_token", "PHPSESSID", "_session", "symfony", "user_session", "_xsrf",
]  # fmt: skip
PLAIN_KEYS = [
    "email", "ip", "country", "author", "shipping", "typing", "mapping", "hotpot", "inside",
    "sidebar", "passenger", "compass", "attempts_last_hour", "device", "fingerprint",
    "risk_score", "description", "keyboard", "pinned", "spinner",
]  # fmt: skip


@pytest.mark.parametrize("key", SECRET_KEYS)
def test_secret_keys_are_found_whatever_their_case_and_separators(key: str) -> None:
    assert RULES.is_secret(key)


@pytest.mark.parametrize("key", PLAIN_KEYS)
def test_words_that_merely_contain_a_short_name_are_not_secret(key: str) -> None:
    assert not RULES.is_secret(key)


def test_a_folder_adds_keys_and_words_and_keeps_names() -> None:
    rules = KeyRules.configured(
        keys=["member_number"], words=["ssn"], keep=["session_count", "pin"]
    )
    assert rules.is_secret("memberNumber") and rules.is_secret("old-member-number-2")
    assert rules.is_secret("ssn") and rules.is_secret("user_ssn") and rules.is_secret("SSNLast4")
    assert not rules.is_secret("lessnotes")
    assert not rules.is_secret("session_count") and not rules.is_secret("SessionCount")
    assert not rules.is_secret("pin") and not rules.is_secret("card_pin")
    assert rules.is_secret("session") and rules.is_secret("password")


def secret_name(name: str) -> bool:
    return RULES.is_secret(name)


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        ("card 4242 4242 4242 4242.", "card [REDACTED]."),
        ("4242-4242-4242-4242", "[REDACTED]"),
        ("card 4242424242424242 5 times", "card [REDACTED] 5 times"),
        ("amex 378282246310005", "amex [REDACTED]"),
        ("paid 4242 4242 4242 4242 2031", "paid [REDACTED] 2031"),
        ("Authorization: Bearer abc.DEF-123_x", "Authorization: Bearer [REDACTED]"),
        ("id eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.sig-Nat_ure", "id [REDACTED]"),
        ("postgres://bob:s3cret@db:5432/x", "postgres://[REDACTED]@db:5432/x"),
        ("https://x/cb?state=1&token=abc&key=k1&sig=zz#f",
         "https://x/cb?state=1&token=[REDACTED]&key=[REDACTED]&sig=[REDACTED]#f"),
        ("retry password=hunter2 user=ana", "retry password=[REDACTED] user=ana"),
        ("X-Amz-Signature=abc&X-Amz-Credential=AKIA", "X-Amz-Signature=[REDACTED]&"
         "X-Amz-Credential=[REDACTED]"),
        (f"Basic {base64.b64encode(b'ana:pw').decode()}", "Basic [REDACTED]"),
    ],
)  # fmt: skip
def test_secret_shapes_are_masked(text: str, masked: str) -> None:
    assert mask_patterns(text, secret_name) == masked


@pytest.mark.parametrize(
    "text",
    [
        "4242 4242 4242 4241",  # fails the Luhn check
        "trace 0af7651916cd43dd8448eb211c80319c",
        "sha 3782822463100052b56d37112def8945e29dd5a1f377ffd60740ef1df9c6b8675d984bd",
        "started 1717000000000000000 ns",  # a timestamp starts with 1
        "v1.4242424242424242",
        "Bearer authentication failed",
        "Basic authentication is off",
        "risk 20 (geo_risk=20) score=7",
        "mailto:ana@example.com https://example.com/a?b=c",
    ],
)
def test_look_alikes_are_kept(text: str) -> None:
    assert mask_patterns(text, secret_name) == text


def test_luhn() -> None:
    assert luhn_valid("4242424242424242") and luhn_valid("79927398713")
    assert not luhn_valid("4242424242424241")


def test_values_under_secret_keys_are_masked_everywhere_else_in_the_trace() -> None:
    scrub = Redactor(KeyRules(), ["helper-secret-1"]).for_trace()
    given = {
        "password": "hunter22",
        "pin": 98765,
        "otp": "12",
        "headers": [{"name": "Cookie", "value": "sid=abc123"}, {"name": "Accept", "value": "*"}],
        "note": "my password is hunter22 and my pin 98765, otp 12",
    }
    assert scrub.redact_keys(given) == ["password", "pin", "otp", "headers.0.value"]
    data = {
        "hunter22": True,
        "pin_copy": 98765,
        "log": ["sent sid=abc123", "used helper-secret-1"],
        "nested": [{"x": "hunter22hunter22"}],
    }
    paths: list[str] = []
    assert (
        scrub.mask(given, paths)["note"]
        == "my password is [REDACTED] and my pin [REDACTED], otp 12"
    )
    assert paths == ["note"]
    assert scrub.mask(data) == {
        "[REDACTED]": True,
        "pin_copy": "[REDACTED]",
        "log": ["sent [REDACTED]", "used [REDACTED]"],
        "nested": [{"x": "[REDACTED][REDACTED]"}],
    }


def test_helpers_secret_hands_scripts_the_engine_s_secrets(tmp_path: Path) -> None:
    (tmp_path / "pipelines.toml").write_text(
        '[triggers.t]\n[[scripts]]\nid = "s"\ntrigger = "t"\nfile = "s.lua"\n'
    )
    (tmp_path / "s.lua").write_text(
        "return {data = {known = helpers.secret('stripe'), unknown = helpers.secret('nope'),"
        " bad = pcall(helpers.secret, 42)}}"
    )
    with Engine(load_pipelines(tmp_path), secrets={"stripe": "sk_live_1"}) as engine:
        outcome = engine.execute_trigger("t", {})
    assert outcome.data == {"known": "sk_live_1", "bad": False}
    with pytest.raises(EngineError, match="secret 'stripe': names and values must be strings"):
        Engine(load_pipelines(tmp_path), secrets={"stripe": 42})  # type: ignore[dict-item]


MANIFEST = '[triggers.t]\n[[scripts]]\nid = "s"\ntrigger = "t"\nfile = "s.lua"\n\n'


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ("[redact]\nkeys = 'ssn'\n", "'keys' must be a list of key names"),
        ("[redact]\nwords = [1]\n", "'words' must be a list of key names"),
        ("[redact]\nkeep = ['--']\n", "'--' in 'keep' has no letter or digit"),
        ("[redact]\nkey = ['ssn']\n", "unknown key 'key'"),
    ],
)  # fmt: skip
def test_a_bad_redact_table_is_refused_in_one_line(
    tmp_path: Path, table: str, message: str
) -> None:
    (tmp_path / "pipelines.toml").write_text(MANIFEST + table)
    (tmp_path / "s.lua").write_text("return")
    with pytest.raises(PipelineError) as refused:
        load_pipelines(tmp_path)
    assert refused.value.message == "pipelines.toml:8: [redact]: " + message


def test_redact_must_be_a_table(tmp_path: Path) -> None:
    (tmp_path / "pipelines.toml").write_text("redact = 1\n" + MANIFEST)
    (tmp_path / "s.lua").write_text("return")
    with pytest.raises(PipelineError, match=r"^pipelines.toml:1: \[redact\] must be a table$"):
        load_pipelines(tmp_path)


def test_the_redact_table_sets_the_rules(tmp_path: Path) -> None:
    (tmp_path / "pipelines.toml").write_text(
        MANIFEST + "[redact]\nkeys = ['member_number']\nwords = ['ssn']\nkeep = ['pin']\n"
    )
    (tmp_path / "s.lua").write_text("return")
    rules = load_pipelines(tmp_path).redaction
    assert rules.is_secret("memberNumber") and rules.is_secret("user_ssn")
    assert not rules.is_secret("pin") and rules.is_secret("password")


def test_a_secret_is_masked_before_a_lua_error_is_cut_to_the_attribute_cap(tmp_path: Path) -> None:
    (tmp_path / "pipelines.toml").write_text(MANIFEST + "[limits]\nmax_attribute_bytes = 50\n")
    (tmp_path / "s.lua").write_text('error(string.rep("x", 40) .. context.password)')
    traces: list[Any] = []

    class Keep:
        def submit(self, record: Any) -> None:
            traces.append(record)

    with Engine(load_pipelines(tmp_path), sink=Keep()) as engine:
        engine.execute_trigger("t", {"password": "cut-here-secret-0123456789"})
        assert engine.flush(10)
    script = traces[0].spans[1]
    assert script.attributes["lua.error"] == "x" * 40 + "[REDACTED]"
    assert "cut-here" not in str(script)


def test_why_an_input_was_refused_is_masked_too(tmp_path: Path) -> None:
    (tmp_path / "pipelines.toml").write_text(MANIFEST)
    (tmp_path / "s.lua").write_text("return")
    traces: list[Any] = []

    class Keep:
        def submit(self, record: Any) -> None:
            traces.append(record)

    with Engine(load_pipelines(tmp_path), sink=Keep()) as engine:
        engine.execute_trigger("t", {"note": {4242424242424242: "a card number as a key"}})
        assert engine.flush(10)
    (trace,) = traces
    assert "4242424242424242" not in str(trace)
    assert trace.spans[0].attributes["input.refused"] == trace.status_message
