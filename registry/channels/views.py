"""The console's list of the Centre's official channels; admins add and remove them."""

from __future__ import annotations

from flask import render_template
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from registry.accounts.auth import ADMINS, ALL_ROLES, actor_name, require_role
from registry.channels import service as channels
from registry.channels.models import ChannelKind
from registry.platform import forms
from registry.platform.clock import now
from registry.platform.console import admin as bp
from registry.platform.console import done
from registry.platform.db import db

MAX_KIND = 16
MAX_VALUE_INPUT = 500


def _channel() -> tuple[ChannelKind, str]:
    """The channel the form names: its kind, and its value as typed (the service
    normalises it)."""
    return forms.word(ChannelKind, forms.field("kind", MAX_KIND), name="kind"), forms.field("value", MAX_VALUE_INPUT)


@bp.get("/channels")
@require_role(*ALL_ROLES)
def channels_list() -> str:
    return render_template("admin/channels.html", channels=channels.list_channels(db()), kinds=list(ChannelKind))


@bp.post("/channels")
@require_role(*ADMINS)
def channels_add() -> Response:
    kind, value = _channel()
    label = forms.field("label", channels.MAX_LABEL)
    channel = channels.add_channel(db(), kind=kind, value=value, label=label, actor=actor_name(), now=now())
    return done(_("%(value)s is now an official channel.", value=channel.value), "admin.channels_list")


@bp.post("/channels/remove")
@require_role(*ADMINS)
def channels_remove() -> Response:
    forms.confirmed()
    kind, value = _channel()
    record = channels.remove_channel(db(), kind=kind, value=value, actor=actor_name(), now=now())
    return done(_("%(value)s is no longer an official channel.", value=record.value), "admin.channels_list")
