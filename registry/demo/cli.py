"""``flask --app app demo``: the embedded default, ready to try."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click
from flask import Flask, current_app
from flask.cli import with_appcontext

from keys.root import sealed_roots
from registry.demo.service import demo_root, load_demo, sign_demo_keyset
from registry.platform.cli import actor, emit, unit_of_work, upgrade_schema
from registry.platform.clock import now
from registry.platform.config import base_url, master_key
from registry.signing.rootcli import scrub_freed_space


@click.command("demo")
@click.option("--json", "as_json", is_flag=True)
@with_appcontext
def demo(as_json: bool) -> None:
    """Embedded default: schema, keys, demo staff and credentials, channels, live codes,
    an assignment; prints a verification URL."""
    upgrade_schema()
    root_file = Path(current_app.instance_path) / DEMO_ROOT_FILE
    with unit_of_work() as session:
        exporting = bool(sealed_roots(session))  # an older demo's root, sealed in the database
        private = demo_root(session, master_key(), root_file, actor=actor(), now=now())
        result = load_demo(session, master_key(), base_url=base_url(), now=now(), actor=actor())
        thumbprint = sign_demo_keyset(session, private, issuer=base_url(), actor=actor(), now=now())
        result = {"root_thumbprint": thumbprint, "root_file": str(root_file), **result}
    if exporting:
        scrub_freed_space()
    emit(as_json, result, lambda: _demo_text(result))


DEMO_ROOT_FILE = "root.key"  # the demo keeps its offline root beside its database; a real one never does


def _demo_text(result: dict[str, Any]) -> str:
    lines = [
        "demo data ready.",
        f"root key thumbprint (pin it in the offline client): {result['root_thumbprint']}",
        f"root key file (a real one is kept off the server): {result['root_file']}",
    ]
    for enrolled in result["live_codes"]:
        lines.append(f"live code of {enrolled['staff_code']} (add to an authenticator app): {enrolled['otpauth_uri']}")
    lines.append(f"letter of introduction: {result['assignment']['letter_url']}")
    lines.append("verify a demo card: " + result["url"])
    return "\n".join(lines)


def register_cli(app: Flask) -> None:
    app.cli.add_command(demo)
