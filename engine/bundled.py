"""The bundled auth pipelines (engine/pipelines) used by the demo, the tests and the benchmark.

Triggers and what their inputs do (``metadata`` may carry ``user_id`` and ``request_ip``):

``before_signup`` (blocking, fails open): disposable_email, ip_denylist, velocity_check and
geo_rule run in layer 0, risk_scorer (sums every ``*_risk`` value of ``context.prev``, blocks at
70 or more) in layer 1.

- allowed: ``{"email": "ana@example.com", "ip": "81.2.69.160", "country": "DE",
  "attempts_last_hour": 1}``
- blocked: email at a disposable domain (``mailinator.com``, ``yopmail.com``, ...); ``ip``
  starting ``203.0.113.`` or equal to ``198.51.100.66``; ``attempts_last_hour`` over 20;
  ``country`` ``"KP"``; a high risk score, e.g. ``country`` ``"T1"`` (50) with
  ``attempts_last_hour`` 11 to 20 (40).
- script error (span ``error``, trigger still allowed): ``email`` not a string (e.g. ``42``),
  ``attempts_last_hour`` a string (e.g. ``"12"``), ``ip`` not a string.
- limit hit (span ``error`` naming the limit): ``stress`` = ``"loop"`` (instruction budget),
  ``"memory"`` (memory limit) or ``"pattern"`` (pattern too complex); on a loaded machine the
  first two may reach their deadline first.
- moderate risk: ``ip`` malformed (30), ``email`` with ``+`` (10) or four digits (15),
  ``country`` ``"XX"`` (20), missing ``country`` (10) or ``ip`` (10).

``before_signin`` (blocking): signin_ip_denylist (fails closed: a non-string ``ip`` blocks) and
signin_velocity in layer 0, signin_risk in layer 1; same inputs as above.

``after_signup`` (async): welcome_email then audit_log; any input is accepted.

``token_build`` (enrichment): claims_enricher (``roles`` list, ``plan`` free|pro|enterprise,
``email_verified``) then scope_builder; returns ``roles``, ``tier``, ``email_verified`` and
``scope``. ``roles`` that is not a list of strings (e.g. ``"admin"`` or ``[1]``) is a script
error.
"""

from __future__ import annotations

from pathlib import Path


def bundled_pipelines_dir() -> Path:
    """Return the folder of the bundled pipelines so the demo and tests can load them (beside
    this module: pipetrace installs as files, never as a zip)."""
    return Path(__file__).parent / "pipelines"
