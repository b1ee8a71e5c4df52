"""Canary secrets for the redaction tests: an input full of them, pipelines that leak them
every way a script can, and a search of what a store holds."""

from __future__ import annotations

import base64
from pathlib import Path

from pipetrace.store import Repository
from pipetrace.store.sql import Statement

HELPER_SECRET = "cnry-helper-secret-7e7e"
OUTPUT_SECRET = "cnry-output-apikey-9d9d"
VISIBLE = "cnry-visible@example.com"
"""Not a secret: the search must find it, or it proves nothing."""

BASIC = base64.b64encode(b"cnryBasicUser:cnryBasicPass88").decode()
JWT = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJjbnJ5LWp3dCJ9.Y25yeS1qd3Qtc2lnbmF0dXJl"

SIGNUP = {
    "email": VISIBLE,
    "password": "cnry-password-k3v9",
    "newPassword": "cnry-newpassword-p2x1",
    "confirm_password": "cnry-confirm-a8d2",
    "passwd": "cnry-passwd-11aa",
    "pwd": "cnry-pwd-22bb",
    "headers": {
        "Authorization": "Bearer cnryAuthzHeader7Qw2",
        "Cookie": "sid=cnry-cookie-77ab; theme=dark",
        "X-Api-Key": "cnry-xapikey-55de",
        "X-Forwarded-Proto": "https",
    },
    "mfa": {"otp": "cnry-otp-913370", "totp_code": "cnry-totp-4421"},
    "card": {"pin": "cnry-pin-8642", "cvc": "cnry-cvc-44dd", "number": "4242 4242 4242 4242"},
    "private_key": "cnry-privatekey-33cc",
    "session_id": "cnry-sessionid-55ee",
    "account": {
        "providers": [
            {"name": "github", "oauth": {"access_token": "cnry-access-66ff"}},
            {"name": "google", "credentials": {"refresh_token": "cnry-refresh-77aa"}},
        ]
    },
    "redirect": "https://app.example/cb?state=ok&token=cnryQueryToken66ff",
    "upstream": "postgres://cnryUrlUser:cnryUrlPass77@db.example:5432/auth",
    "card_on_file": 4000056655665556,
    "note": f"paid with 5555 5555 5555 4444, id token {JWT}, header Basic {BASIC}",
}

SHAPED = [
    "cnryQueryToken66ff",
    "cnryUrlUser",
    "cnryUrlPass77",
    "4242 4242 4242 4242",
    "4242424242424242",
    "4000056655665556",
    "5555 5555 5555 4444",
    "eyJzdWIiOiJjbnJ5LWp3dCJ9",
    "Y25yeS1qd3Qtc2lnbmF0dXJl",
    BASIC,
    "cnryAuthzHeader7Qw2",
]


def _values(value: object) -> list[str]:
    """Every string or number in a JSON-like value, as text."""
    if isinstance(value, dict):
        return [text for item in value.values() for text in _values(item)]
    if isinstance(value, list):
        return [text for item in value for text in _values(item)]
    return [str(value)] if isinstance(value, str | int) else []


CANARIES = sorted(
    {v for v in _values(SIGNUP) if "cnry" in v and v != VISIBLE}
    | set(SHAPED)
    | {HELPER_SECRET, OUTPUT_SECRET}
)

MANIFEST = """
[triggers.before_signup]
failure = "open"

[triggers.before_signin]
failure = "closed"

[[scripts]]
id = "leaky"
trigger = "before_signup"
file = "leaky.lua"

[[scripts]]
id = "crasher"
trigger = "before_signup"
file = "crasher.lua"

[[scripts]]
id = "blocker"
trigger = "before_signup"
file = "blocker.lua"
depends_on = ["leaky"]

[[scripts]]
id = "closed"
trigger = "before_signin"
file = "crasher.lua"
"""

LEAKY = """
local c = context
helpers.log("user password is " .. c.password .. " and new " .. c.newPassword)
helpers.log("helper gave " .. helpers.secret("stripe"))
print("card", c.card.number, c.card_on_file, c.note)
helpers.log("auth " .. c.headers.Authorization .. " cookie " .. c.headers.Cookie)
helpers.trace("lookup " .. c.session_id, function() end)
pcall(helpers.trace, "otp " .. c.mfa.otp, function() error("inner " .. c.private_key) end)
return {data = {
  api_key = "cnry-output-apikey-9d9d",
  password = c.confirm_password,
  nested = {refresh_token = c.account.providers[2].credentials.refresh_token},
  copied = c.pwd,
  echo = {c.passwd, c.redirect, c.upstream},
  ["key " .. c.mfa.totp_code] = true,
  stripe = helpers.secret("stripe"),
  email = c.email,
}}
"""

CRASHER = 'error("crashed with " .. context.card.cvc .. " " .. helpers.secret("stripe"))\n'

BLOCKER = """
return {allowed = false,
        error = "blocked: pin " .. context.card.pin .. ", key " .. context.headers["X-Api-Key"]}
"""


def write_pipelines(folder: Path) -> Path:
    """The leaking pipelines: every way a script can put a secret into its trace."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "pipelines.toml").write_text(MANIFEST)
    (folder / "leaky.lua").write_text(LEAKY)
    (folder / "crasher.lua").write_text(CRASHER)
    (folder / "blocker.lua").write_text(BLOCKER)
    return folder


def leaked(stored: bytes | str, canaries: list[str] = CANARIES) -> list[str]:
    """The canaries found in what a store holds (raw file bytes or rows as text)."""
    data = stored.encode() if isinstance(stored, str) else stored
    return [c for c in canaries if c.encode() in data]


def sqlite_bytes(path: Path) -> bytes:
    """The raw bytes of a SQLite store: its file and, while it is open, its write-ahead log."""
    wal = Path(f"{path}-wal")
    return path.read_bytes() + (wal.read_bytes() if wal.exists() else b"")


def stored_rows(repo: Repository) -> str:
    """Every stored trace and span row, as text, however the backend keeps them."""
    rows = [
        *repo.backend.query(Statement("SELECT * FROM pipeline_traces")),
        *repo.backend.query(Statement("SELECT * FROM pipeline_spans")),
    ]
    return "\n".join(repr(tuple(row)) for row in rows)
