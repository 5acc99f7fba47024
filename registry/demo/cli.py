"""``flask --app app demo``: the embedded default, ready to try."""

from __future__ import annotations

from typing import Any

import click
from flask import Flask
from flask.cli import with_appcontext

from registry.demo.service import load_demo
from registry.platform.cli import actor, emit, unit_of_work, upgrade_schema
from registry.platform.clock import now
from registry.platform.config import base_url, master_key


@click.command("demo")
@click.option("--json", "as_json", is_flag=True)
@with_appcontext
def demo(as_json: bool) -> None:
    """Embedded default: schema, keys, demo staff and credentials, channels, live codes,
    an assignment; prints a verification URL."""
    upgrade_schema()
    with unit_of_work() as session:
        result = load_demo(session, master_key(), base_url=base_url(), now=now(), actor=actor())
        emit(as_json, result, lambda: _demo_text(result))


def _demo_text(result: dict[str, Any]) -> str:
    lines = ["demo data ready.", f"root key thumbprint (pin it in the offline client): {result['root_thumbprint']}"]
    for enrolled in result["live_codes"]:
        lines.append(f"live code of {enrolled['staff_code']} (add to an authenticator app): {enrolled['otpauth_uri']}")
    lines.append(f"letter of introduction: {result['assignment']['letter_url']}")
    lines.append("verify a demo card: " + result["url"])
    return "\n".join(lines)


def register_cli(app: Flask) -> None:
    app.cli.add_command(demo)
