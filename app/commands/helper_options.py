"""--secrets, --env and --fetch-responses: what a replay's script helpers hand the scripts,
handed to the command as one `helpers: HelperValues`."""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from ..helper_values import HelperValues, read_responses, read_secrets
from .context import handed


def helper_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """The helper options on a command; PIPETRACE_SECRET_NAME variables add secrets, and a
    --secrets file wins over them for the names it has."""

    @functools.wraps(command)
    def with_helpers(
        *args: Any,
        secrets_file: Path | None,
        env_names: tuple[str, ...],
        responses_file: Path | None,
        **kwargs: Any,
    ) -> Any:
        settings = handed(click.get_current_context()).settings
        secrets = dict(settings.script_secrets)
        if secrets_file is not None:
            secrets.update(read_secrets(secrets_file))
        env = {name: settings.environ[name] for name in env_names if name in settings.environ}
        responses = read_responses(responses_file) if responses_file is not None else {}
        kwargs["helpers"] = HelperValues(secrets, env, responses)
        return command(*args, **kwargs)

    options = (
        click.option(
            "--secrets",
            "secrets_file",
            type=click.Path(dir_okay=False, path_type=Path),
            metavar="FILE",
            help="A JSON object of secret names to values for helpers.secret (also "
            "PIPETRACE_SECRET_NAME variables); masked in all output, never stored.",
        ),
        click.option(
            "--env",
            "env_names",
            multiple=True,
            metavar="NAME",
            help="Let helpers.env read this variable of pipetrace's environment (repeatable); "
            "any other name reads as nil.",
        ),
        click.option(
            "--fetch-responses",
            "responses_file",
            type=click.Path(dir_okay=False, path_type=Path),
            metavar="FILE",
            help='A JSON object of https URLs to {"status": 200, "body": ...}: what '
            "helpers.fetch returns (there is no network; any other URL fails the script).",
        ),
    )
    decorated: Callable[..., Any] = with_helpers
    for option in reversed(options):
        decorated = option(decorated)
    return decorated
