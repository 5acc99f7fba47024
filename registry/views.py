"""The admin console blueprint (``/admin``): sign-in and setup links, staff (list,
search, detail, edit, photo, status), credentials (issue, suspend, reinstate,
revoke, the printable card), live-code enrolment, signing keys, official channels,
assignments (letters of introduction), the audit log, and accounts.

Views parse and bound the form, call a registry service, commit, and redirect or
render. Every view but sign-in, sign-out and the setup link is guarded by
``require_role``; the role table is the one in the issue: ``admin`` everything,
``issuer`` staff and credentials, ``reviewer`` reads the registry. The dashboard and
the report screens need the reports, so they live in ``verify.admin_reports``.
"""

from __future__ import annotations

import hashlib
import io
import json
import math
from datetime import datetime, time, timedelta
from typing import Any

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    has_request_context,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from markupsafe import Markup
from PIL import Image, ImageOps, UnidentifiedImageError
from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session
from werkzeug.wrappers import Response

from keys import service as key_service
from keys.models import KeyPurpose, SigningKey
from registry import accounts, audit, credentials, qr
from registry import assignments as assignment_service
from registry import channels as channel_service
from registry import livecode as livecode_service
from registry import staff as staff_service
from registry.auth import (
    ALL_ROLES,
    actor_name,
    current_admin,
    no_store,
    require_role,
    safe_next,
    sign_in,
    sign_out,
)
from registry.cards import card_context
from registry.errors import N_, ValidationError
from registry.models import (
    CREDENTIAL_TRANSITIONS,
    STAFF_TRANSITIONS,
    AuditEntry,
    Credential,
    CredentialKind,
    CredentialStatus,
    Staff,
    StaffStatus,
)
from registry.models_admin import AccountStatus, AdminRole, AdminUser
from registry.models_lookup import ChannelKind
from registry.normalize import clean_text, fold_name, parse_email, parse_phone
from registry.queries import staff_photo as load_photo
from registry.web import VN_TZ, base_url, db, limiter, master_key, now

bp = Blueprint("admin", __name__, url_prefix="/admin")
bp.after_request(no_store)

ISSUERS = (AdminRole.ADMIN, AdminRole.ISSUER)
ADMINS = (AdminRole.ADMIN,)
PAGE_SIZE = 50  # rows per page of the staff list and the audit log
MAX_PAGE = 10_000
MAX_QUERY = 100  # a search box, not a document
MAX_REASON = 500
MAX_FIELD = 200
MAX_PHOTO_UPLOAD = 5 * 1024 * 1024  # a phone photo; the stored one is far smaller
MAX_PHOTO_PIXELS = 40_000_000  # refuses decompression bombs before decoding
PHOTO_BOX = (480, 640)  # 3:4 portrait, sharp on the card at 300 dpi and on a phone
PHOTO_QUALITY = 85
LOGIN_RATE = "20 per minute"  # per IP, on top of the per-account lockout

NAV: list[tuple[str, Any, tuple[AdminRole, ...]]] = [
    ("admin_reports.dashboard", _l("Dashboard"), ALL_ROLES),
    ("admin.staff_list", _l("Staff"), ALL_ROLES),
    ("admin.assignments_list", _l("Assignments"), ALL_ROLES),
    ("admin_reports.report_queue", _l("Reports"), (AdminRole.ADMIN, AdminRole.REVIEWER)),
    ("admin.channels_list", _l("Official channels"), ALL_ROLES),
    ("admin.keys", _l("Keys"), ADMINS),
    ("admin.audit_log", _l("Audit log"), ADMINS),
    ("admin.accounts_list", _l("Accounts"), ADMINS),
]


# How the console names each state word (the words themselves stay in data-status).
STATUS_LABELS: dict[str, Any] = {
    "active": _l("active"),
    "suspended": _l("suspended"),
    "departed": _l("departed"),
    "valid": _l("valid"),
    "revoked": _l("revoked"),
    "retired": _l("retired"),
    "pending": _l("waiting for setup"),
    "disabled": _l("disabled"),
    "new": _l("new"),
    "reviewing": _l("reviewing"),
    "confirmed": _l("confirmed"),
    "not_impersonation": _l("not impersonation"),
    "duplicate": _l("duplicate"),
}


@bp.app_context_processor
def _admin_globals() -> dict[str, Any]:
    # templates also render outside requests (the CLI's printable card)
    if not has_request_context() or not request.path.startswith("/admin"):
        return {}
    user = current_admin()
    nav = []
    if user is not None:
        for endpoint, label, roles in NAV:
            if user.role in roles and endpoint in current_app.view_functions:
                nav.append((url_for(endpoint), label, request.endpoint == endpoint))
    return {
        "admin_user": user,
        "admin_nav": nav,
        "may_issue": user is not None and user.role in ISSUERS,
        "status_labels": STATUS_LABELS,
    }


def _form(name: str, max_len: int = MAX_FIELD) -> str:
    """A form field, bounded: a longer value is refused, not cut."""
    value = request.form.get(name, "")
    if len(value) > max_len:
        raise ValidationError(
            N_("{field} is longer than {max_len} characters"), field=name, params={"field": name, "max_len": max_len}
        )
    return value


def _confirmed() -> None:
    if request.form.get("confirm") != "yes":
        raise ValidationError(_("Tick the confirmation box to go ahead."), field="confirm")


def _reason() -> str | None:
    text = clean_text(_form("reason", MAX_REASON), field="reason", max_len=MAX_REASON, required=False)
    return text or None


def _page() -> int:
    raw = request.args.get("page", "1")
    if not raw.isdigit() or not 1 <= int(raw) <= MAX_PAGE:
        return 1
    return int(raw)


# ---------------------------------------------------------------- sign-in


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(LOGIN_RATE, methods=["POST"])
def login() -> Response | tuple[str, int] | str:
    nxt = safe_next(request.values.get("next"))
    if request.method == "GET":
        if current_admin() is not None:
            return redirect(nxt or url_for("admin_reports.dashboard"))
        return render_template("admin/login.html", next=nxt, error=None, username="")
    username = _form("username", 200)
    session = db()
    try:
        user = accounts.authenticate(
            session,
            master_key(),
            username,
            _form("password", accounts.MAX_PASSWORD),
            _form("code", 32),
            now=now(),
            client=request.remote_addr or "",
        )
    except accounts.AuthenticationError:
        session.commit()  # the failure count and its audit entry are what makes lockout work
        return render_template("admin/login.html", next=nxt, error=True, username=username[:64]), 401
    session.commit()
    sign_in(user)
    return redirect(nxt or url_for("admin_reports.dashboard"))


@bp.post("/logout")
def logout() -> Response:
    user = current_admin()
    if user is not None:
        audit.append(db(), actor=user.username, action="auth.logout", target=user.username, now=now())
        db().commit()
    sign_out()
    flash(_("You are signed out."))
    return redirect(url_for("admin.login"))


@bp.route("/setup/<token>", methods=["GET", "POST"])
@limiter.limit(LOGIN_RATE, methods=["POST"])
def setup(token: str) -> Response | tuple[str, int] | str:
    session = db()
    user = accounts.setup_account_for(session, token, now=now())
    uri = accounts.otpauth_uri(master_key(), user)
    error = None
    if request.method == "POST":
        password = _form("password", accounts.MAX_PASSWORD)
        if password != _form("password2", accounts.MAX_PASSWORD):
            error = _("The two passwords differ.")
        else:
            try:
                accounts.complete_setup(
                    session, master_key(), token, password=password, code=_form("code", 32), now=now()
                )
            except ValidationError as exc:
                error = _setup_error(exc)
            else:
                session.commit()
                sign_out()
                flash(_("Your account is ready. Sign in with your password and a code from the app."))
                return redirect(url_for("admin.login"))
    secret = accounts.totp_secret(master_key(), user)
    body = render_template(
        "admin/setup.html",
        user=user,
        qr_svg=_qr_markup(qr.svg(uri)),
        secret=secret,
        error=error,
        min_password=accounts.MIN_PASSWORD,
    )
    return (body, 400) if error else body


def _setup_error(exc: ValidationError) -> str:
    if exc.field == "code":
        return str(_("The code from the authenticator app is not right; try the next one."))
    return str(
        _(
            "The password must have between %(min)d and %(max)d characters.",
            min=accounts.MIN_PASSWORD,
            max=accounts.MAX_PASSWORD,
        )
    )


def _qr_markup(svg: str) -> Markup:
    return Markup(svg)  # noqa: S704 - segno's own SVG of a URI we built


# ---------------------------------------------------------------- my account


@bp.get("/account")
@require_role(*ALL_ROLES)
def my_account() -> str:
    return render_template("admin/account.html")


@bp.post("/account/sign-out-everywhere")
@require_role(*ALL_ROLES)
def sign_out_everywhere() -> Response:
    user = current_admin()
    assert user is not None  # noqa: S101 - require_role
    accounts.sign_out_everywhere(db(), user, actor=user.username, now=now())
    db().commit()
    sign_out()
    flash(_("Every session of your account has ended, on every device."))
    return redirect(url_for("admin.login"))


# ---------------------------------------------------------------- staff


def _staff_query(q: str, status: str) -> Any:
    query = select(Staff)
    if status in {s.value for s in StaffStatus}:
        query = query.where(Staff.status == StaffStatus(status))
    q = q.strip()
    if q:
        conditions = [Staff.code.startswith(q.upper(), autoescape=True)]
        folded = fold_name(q)
        if folded:
            conditions.append(Staff.name_folded.contains(folded, autoescape=True))
        phone = parse_phone(q)
        if phone:
            conditions.append(Staff.phone == phone)
        email = parse_email(q)
        if email:
            conditions.append(Staff.email == email)
        query = query.where(or_(*conditions))
    return query


@bp.get("/staff")
@require_role(*ALL_ROLES)
def staff_list() -> str:
    q = request.args.get("q", "")[:MAX_QUERY]
    status = request.args.get("status", "")[:16]
    page = _page()
    session = db()
    query = _staff_query(q, status)
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    people = list(session.scalars(query.order_by(Staff.code).limit(PAGE_SIZE).offset((page - 1) * PAGE_SIZE)))
    return render_template(
        "admin/staff_list.html",
        people=people,
        q=q,
        status=status,
        statuses=list(StaffStatus),
        page=page,
        pages=max(1, math.ceil(total / PAGE_SIZE)),
        total=total,
    )


def _staff_fields() -> dict[str, str]:
    """The staff form, each field bounded; the form is shown again on a bad one."""
    fields = {name: request.form.get(name, "") for name in ("code", "name", "title", "unit", "phone", "email")}
    for name, value in fields.items():
        if len(value) > MAX_FIELD:
            raise ValidationError(
                N_("{field} is longer than {max_len} characters"),
                field=name,
                params={"field": name, "max_len": MAX_FIELD},
            )
    return fields


@bp.route("/staff/new", methods=["GET", "POST"])
@require_role(*ISSUERS)
def staff_new() -> Response | tuple[str, int] | str:
    fields = {"code": "", "name": "", "title": "", "unit": "", "phone": "", "email": ""}
    if request.method == "POST":
        try:
            fields = _staff_fields()
            data = staff_service.validate_staff(**fields)
        except ValidationError as exc:
            return render_template("admin/staff_form.html", staff=None, fields=fields, error=exc), 400
        person = staff_service.add_staff(db(), data, actor=actor_name(), now=now())
        db().commit()
        flash(_("Staff member %(code)s added.", code=person.code))
        return redirect(url_for("admin.staff_detail", code=person.code))
    return render_template("admin/staff_form.html", staff=None, fields=fields, error=None)


@bp.get("/staff/<code>")
@require_role(*ALL_ROLES)
def staff_detail(code: str) -> str:
    person = staff_service.get_staff(db(), code[:64])
    creds = credentials.list_credentials(db(), staff_code=person.code)
    return render_template(
        "admin/staff_detail.html",
        staff=person,
        creds=creds,
        max_days=credentials.MAX_DAYS,
        default_days=credentials.DEFAULT_DAYS,
        transitions=_staff_actions(person.status),
    )


def _staff_actions(status: StaffStatus) -> list[tuple[str, Any]]:
    labels = {
        StaffStatus.ACTIVE: _l("Reinstate"),
        StaffStatus.SUSPENDED: _l("Suspend"),
        StaffStatus.DEPARTED: _l("Record departure"),
    }
    return [(to.value, labels[to]) for to in StaffStatus if to in STAFF_TRANSITIONS[status]]


@bp.route("/staff/<code>/edit", methods=["GET", "POST"])
@require_role(*ISSUERS)
def staff_edit(code: str) -> Response | tuple[str, int] | str:
    person = staff_service.get_staff(db(), code[:64])
    fields = {
        "code": person.code,
        "name": person.name,
        "title": person.title,
        "unit": person.unit,
        "phone": person.phone or "",
        "email": person.email or "",
    }
    if request.method == "POST":
        try:
            fields = {**_staff_fields(), "code": person.code}
            data = staff_service.validate_staff(**fields)
        except ValidationError as exc:
            return render_template("admin/staff_form.html", staff=person, fields=fields, error=exc), 400
        staff_service.update_staff(db(), person, data, actor=actor_name(), now=now())
        db().commit()
        flash(_("Saved."))
        return redirect(url_for("admin.staff_detail", code=person.code))
    return render_template("admin/staff_form.html", staff=person, fields=fields, error=None)


@bp.get("/staff/<code>/photo")
@require_role(*ALL_ROLES)
def staff_photo(code: str) -> Response:
    found = load_photo(db(), code[:64], include_departed=True)  # the console keeps every record
    if found is None:
        abort(404)
    return Response(found[0], mimetype=found[1])


def normalize_photo(data: bytes) -> bytes:
    """A staff photo as the card shows it: orientation applied, fitted into
    PHOTO_BOX, re-encoded as JPEG, so no EXIF (GPS, camera, date) survives. Raise
    ValidationError for anything that is not a reasonable JPEG, PNG or WebP photo."""
    if not data:
        raise ValidationError(_("Choose a photo file."), field="photo")
    if len(data) > MAX_PHOTO_UPLOAD:
        raise ValidationError(_("The photo is larger than 5 MB."), field="photo")
    try:
        with Image.open(io.BytesIO(data)) as img:
            if img.format not in ("JPEG", "PNG", "WEBP"):
                raise ValidationError(_("The photo must be JPEG, PNG or WebP."), field="photo")
            if img.width * img.height > MAX_PHOTO_PIXELS:
                raise ValidationError(_("The photo has too many pixels."), field="photo")
            img.load()
            oriented = ImageOps.exif_transpose(img)
            rgb = oriented.convert("RGB")
            rgb.thumbnail(PHOTO_BOX, Image.Resampling.LANCZOS)
            out = io.BytesIO()
            rgb.save(out, format="JPEG", quality=PHOTO_QUALITY, optimize=True)
    except (UnidentifiedImageError, OSError, Image.DecompressionBombError, ValueError) as exc:
        raise ValidationError(_("The file is not a readable image."), field="photo") from exc
    return out.getvalue()


def set_staff_photo(session: Session, person: Staff, data: bytes, *, actor: str, at: datetime) -> None:
    """Store the cleaned photo and audit the change (the photo's digest, not the photo)."""
    cleaned = normalize_photo(data)
    staff_service.set_photo(person, cleaned, "image/jpeg")
    person.updated_at = at
    session.flush()
    audit.append(
        session,
        actor=actor,
        action="staff.photo",
        target=person.code,
        details={"sha256": hashlib.sha256(cleaned).hexdigest(), "bytes": len(cleaned)},
        now=at,
    )


@bp.post("/staff/<code>/photo")
@require_role(*ISSUERS)
def staff_photo_upload(code: str) -> Response:
    person = staff_service.get_staff(db(), code[:64])
    upload = request.files.get("photo")
    data = upload.stream.read(MAX_PHOTO_UPLOAD + 1) if upload is not None else b""
    set_staff_photo(db(), person, data, actor=actor_name(), at=now())
    db().commit()
    flash(_("Photo saved."))
    return redirect(url_for("admin.staff_detail", code=person.code))


@bp.post("/staff/<code>/status")
@require_role(*ISSUERS)
def staff_status(code: str) -> Response:
    to_raw = _form("to", 16)
    try:
        to = StaffStatus(to_raw)
    except ValueError:
        raise ValidationError(N_("unknown status"), field="to") from None
    _confirmed()
    person = staff_service.change_status(db(), code[:64], to, actor=actor_name(), now=now(), reason=_reason())
    db().commit()
    flash(_("%(code)s is now %(status)s.", code=person.code, status=STATUS_LABELS[person.status.value]))
    return redirect(url_for("admin.staff_detail", code=person.code))


# ---------------------------------------------------------------- credentials


@bp.post("/staff/<code>/credentials")
@require_role(*ISSUERS)
def credential_issue(code: str) -> Response:
    raw_days = _form("days", 8).strip() or str(credentials.DEFAULT_DAYS)
    if not raw_days.isdigit():
        raise ValidationError(_("Days must be a whole number."), field="days")
    _confirmed()
    cred = credentials.issue_credential(
        db(),
        master_key(),
        staff_code=code[:64],
        base_url=base_url(),
        now=now(),
        actor=actor_name(),
        days=int(raw_days),
    )
    db().commit()
    flash(_("Credential issued. Print the card and hand it over."))
    return redirect(url_for("admin.credential_detail", credential_id=cred.id))


@bp.get("/credentials/<credential_id>")
@require_role(*ALL_ROLES)
def credential_detail(credential_id: str) -> str:
    cred = credentials.get_credential(db(), credential_id[:64])
    labels = {
        CredentialStatus.VALID: _l("Reinstate"),
        CredentialStatus.SUSPENDED: _l("Suspend"),
        CredentialStatus.REVOKED: _l("Revoke"),
    }
    actions = [(to.value, labels[to]) for to in CredentialStatus if to in CREDENTIAL_TRANSITIONS[cred.status]]
    return render_template(
        "admin/credential_detail.html",
        cred=cred,
        url=credentials.verification_url(base_url(), cred.token),
        actions=actions,
    )


@bp.post("/credentials/<credential_id>/status")
@require_role(*ISSUERS)
def credential_status(credential_id: str) -> Response:
    try:
        to = CredentialStatus(_form("to", 16))
    except ValueError:
        raise ValidationError(N_("unknown status"), field="to") from None
    _confirmed()
    cred = credentials.change_status(
        db(), credential_id[:64], to, actor=actor_name(), now=now(), reason=_reason(), kind=CredentialKind.STAFF
    )
    db().commit()
    flash(_("The credential is now %(status)s.", status=STATUS_LABELS[cred.status.value]))
    return redirect(url_for("admin.credential_detail", credential_id=cred.id))


@bp.get("/credentials/<credential_id>/card")
@require_role(*ISSUERS)
def credential_card(credential_id: str) -> str:
    cred = credentials.get_credential(db(), credential_id[:64])
    if cred.kind is not CredentialKind.STAFF:
        abort(404)
    ctx = card_context(db(), cred, inline_photo=False)
    if cred.staff.photo_mime:
        ctx["photo_src"] = url_for("admin.staff_photo", code=cred.staff.code)
    return render_template("registry/card.html", standalone=False, **ctx)


# ---------------------------------------------------------------- live code


@bp.get("/staff/<code>/live-code")
@require_role(*ISSUERS)
def livecode(code: str) -> str:
    person = staff_service.get_staff(db(), code[:64])
    return render_template(
        "admin/livecode.html", staff=person, enrolled=livecode_service.is_enrolled(db(), person.code), enrolment=None
    )


@bp.post("/staff/<code>/live-code")
@require_role(*ISSUERS)
def livecode_enrol(code: str) -> str:
    """Enrol (or replace) the staff member's authenticator; the QR is shown once."""
    person = staff_service.get_staff(db(), code[:64])
    _confirmed()
    enrolment = livecode_service.enrol(db(), master_key(), person.code, actor=actor_name(), now=now())
    db().commit()
    return render_template(
        "admin/livecode.html",
        staff=person,
        enrolled=True,
        enrolment=enrolment,
        qr_svg=_qr_markup(qr.svg(enrolment.otpauth_uri)),
    )


# ---------------------------------------------------------------- keys


@bp.get("/keys")
@require_role(*ADMINS)
def keys() -> str:
    all_keys = key_service.list_keys(db())
    counts = dict(db().execute(select(Credential.key_id, func.count()).group_by(Credential.key_id)).all())
    return render_template("admin/keys.html", keys=all_keys, counts=counts, root=KeyPurpose.ROOT)


@bp.post("/keys/rotate")
@require_role(*ADMINS)
def keys_rotate() -> Response:
    _confirmed()
    new, old = key_service.rotate_key(db(), master_key(), now=now())
    audit.append(
        db(),
        actor=actor_name(),
        action="key.rotate",
        target=new.kid,
        details={"retired": old.kid if old else None},
        now=now(),
    )
    db().commit()
    flash(_("New signing key %(kid)s is active; the previous one keeps verifying.", kid=new.kid))
    return redirect(url_for("admin.keys"))


@bp.post("/keys/<kid>/revoke")
@require_role(*ADMINS)
def keys_revoke(kid: str) -> Response:
    key: SigningKey = key_service.get_key(db(), kid[:64])
    if _form("confirm_kid", 64).strip() != key.kid:
        raise ValidationError(_("Type the key id exactly to confirm the revocation."), field="confirm_kid")
    reason = _reason() or "compromised"
    key_service.revoke_key(db(), key.kid, now=now(), reason=reason)
    audit.append(db(), actor=actor_name(), action="key.revoke", target=key.kid, details={"reason": reason}, now=now())
    db().commit()
    flash(_("Key %(kid)s is revoked: everything it signed now fails verification.", kid=key.kid))
    return redirect(url_for("admin.keys"))


# ---------------------------------------------------------------- audit log


def _day(value: str, field: str) -> datetime | None:
    value = value.strip()[:10]
    if not value:
        return None
    try:
        day = datetime.strptime(value, "%Y-%m-%d").date()
    except ValueError:
        raise ValidationError(_("Dates are written yyyy-mm-dd."), field=field) from None
    return datetime.combine(day, time.min, tzinfo=VN_TZ)


@bp.get("/audit")
@require_role(*ADMINS)
def audit_log() -> str:
    actor = request.args.get("actor", "")[:64].strip()
    action = request.args.get("action", "")[:64].strip()
    start = _day(request.args.get("from", ""), "from")
    end = _day(request.args.get("to", ""), "to")
    query = select(AuditEntry)
    if actor:
        query = query.where(AuditEntry.actor == actor)
    if action:
        query = query.where(
            or_(AuditEntry.action == action, AuditEntry.action.startswith(action.rstrip(".") + ".", autoescape=True))
        )
    if start is not None:
        query = query.where(AuditEntry.at >= start)
    if end is not None:
        query = query.where(AuditEntry.at < end + timedelta(days=1))
    page = _page()
    session = db()
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    entries = list(
        session.scalars(query.order_by(AuditEntry.seq.desc()).limit(PAGE_SIZE).offset((page - 1) * PAGE_SIZE))
    )
    actors = list(session.scalars(select(AuditEntry.actor).distinct().order_by(AuditEntry.actor).limit(200)))
    return render_template(
        "admin/audit.html",
        entries=entries,
        actors=actors,
        f={
            "actor": actor,
            "action": action,
            "from": request.args.get("from", "")[:10],
            "to": request.args.get("to", "")[:10],
        },
        page=page,
        pages=max(1, math.ceil(total / PAGE_SIZE)),
        total=total,
        report=audit.verify_chain(session) if request.args.get("verify") == "1" else None,
        details_text=_details_text,
    )


def _details_text(details: dict[str, Any]) -> str:
    """An entry's details as readable JSON (Vietnamese kept); the template escapes it."""
    return json.dumps(details, ensure_ascii=False, sort_keys=True, default=str)


# ---------------------------------------------------------------- accounts


def _accounts_page(link: tuple[AdminUser, str] | None = None) -> str:
    """The account list, with a freshly made setup link to hand over when there is one."""
    return render_template(
        "admin/accounts.html",
        users=accounts.list_accounts(db()),
        roles=list(AdminRole),
        link=link,
        statuses=AccountStatus,
    )


@bp.get("/accounts")
@require_role(*ADMINS)
def accounts_list() -> str:
    return _accounts_page()


def _setup_url(token: str) -> str:
    return base_url() + url_for("admin.setup", token=token)


@bp.post("/accounts")
@require_role(*ADMINS)
def accounts_create() -> str:
    role = accounts.parse_role(_form("role", 16))
    user = accounts.create_account(
        db(), master_key(), username=_form("username", 64), role=role, password=None, actor=actor_name(), now=now()
    )
    token = accounts.create_setup_link(db(), user, actor=actor_name(), now=now())
    db().commit()
    return _accounts_page((user, _setup_url(token)))


@bp.post("/accounts/<username>/status")
@require_role(*ADMINS)
def account_status(username: str) -> Response:
    user = accounts.get_account(db(), username)
    try:
        to = AccountStatus(_form("to", 16))
    except ValueError:
        raise ValidationError(N_("unknown status"), field="to") from None
    if to is AccountStatus.PENDING:
        raise ValidationError("use the reset button to send an account back to setup", field="to")
    me = current_admin()
    if me is not None and me.id == user.id:
        raise ValidationError(_("You cannot change the status of your own account."), field="to")
    accounts.change_status(db(), user, to, actor=actor_name(), now=now())
    db().commit()
    flash(_("Account %(name)s is now %(status)s.", name=user.username, status=STATUS_LABELS[user.status.value]))
    return redirect(url_for("admin.accounts_list"))


@bp.post("/accounts/<username>/reset")
@require_role(*ADMINS)
def account_reset(username: str) -> str:
    user = accounts.get_account(db(), username)
    _confirmed()
    me = current_admin()
    if me is not None and me.id == user.id:
        raise ValidationError(_("You cannot reset your own account here; ask another admin."), field="username")
    token = accounts.reset_by_link(db(), master_key(), user, actor=actor_name(), now=now())
    db().commit()
    return _accounts_page((user, _setup_url(token)))


# ---------------------------------------------------------------- official channels


@bp.get("/channels")
@require_role(*ALL_ROLES)
def channels_list() -> str:
    return render_template("admin/channels.html", channels=channel_service.list_channels(db()), kinds=list(ChannelKind))


def _channel_kind(raw: str) -> ChannelKind:
    try:
        return ChannelKind(raw)
    except ValueError:
        raise ValidationError("kind must be email, phone, domain or url", field="kind") from None


@bp.post("/channels")
@require_role(*ADMINS)
def channels_add() -> Response:

    channel = channel_service.add_channel(
        db(),
        kind=_channel_kind(_form("kind", 16)),
        value=_form("value", 500),
        label=_form("label", 200),
        actor=actor_name(),
        now=now(),
    )
    db().commit()
    flash(_("%(value)s is now an official channel.", value=channel.value))
    return redirect(url_for("admin.channels_list"))


@bp.post("/channels/remove")
@require_role(*ADMINS)
def channels_remove() -> Response:

    _confirmed()
    record = channel_service.remove_channel(
        db(), kind=_channel_kind(_form("kind", 16)), value=_form("value", 500), actor=actor_name(), now=now()
    )
    db().commit()
    flash(_("%(value)s is no longer an official channel.", value=record.value))
    return redirect(url_for("admin.channels_list"))


# ---------------------------------------------------------------- assignments (letters of introduction)


@bp.get("/assignments")
@require_role(*ALL_ROLES)
def assignments_list() -> str:
    code = request.args.get("staff", "")[:32].strip()
    rows = assignment_service.list_assignments(db(), staff_code=code or None)[: PAGE_SIZE * 4]
    return render_template("admin/assignments.html", rows=rows, staff=code)


@bp.route("/staff/<code>/assignments", methods=["GET", "POST"])
@require_role(*ISSUERS)
def assignment_issue(code: str) -> Response | str:
    person = staff_service.get_staff(db(), code[:64])
    if request.method == "GET":
        return render_template(
            "admin/assignment_form.html",
            staff=person,
            default_days=assignment_service.DEFAULT_DAYS,
            max_days=assignment_service.MAX_DAYS,
        )
    raw_days = _form("days", 8).strip() or str(assignment_service.DEFAULT_DAYS)
    if not raw_days.isdigit():
        raise ValidationError(_("Days must be a whole number."), field="days")
    channels = [c for c in (_form("channels", 2000).splitlines()) if c.strip()]
    _confirmed()
    assignment = assignment_service.issue_assignment(
        db(),
        master_key(),
        staff_code=person.code,
        agency=_form("agency"),
        agency_domain=_form("agency_domain", 253) or None,
        purpose=_form("purpose"),
        channels=[c.strip() for c in channels],
        days=int(raw_days),
        base_url=base_url(),
        now=now(),
        actor=actor_name(),
    )
    db().commit()
    flash(_("Assignment issued. Send the letter link to the staff member."))
    return redirect(url_for("admin.assignment_detail", assignment_id=assignment.credential_id))


@bp.get("/assignments/<assignment_id>")
@require_role(*ALL_ROLES)
def assignment_detail(assignment_id: str) -> str:
    assignment = assignment_service.get_assignment(db(), assignment_id[:64])
    cred = assignment.credential
    labels = {
        CredentialStatus.VALID: _l("Reinstate"),
        CredentialStatus.SUSPENDED: _l("Suspend"),
        CredentialStatus.REVOKED: _l("Revoke"),
    }
    url = credentials.verification_url(base_url(), cred.token)
    return render_template(
        "admin/assignment_detail.html",
        a=assignment,
        cred=cred,
        number=assignment_service.letter_number(assignment),
        url=url,
        letter_url=url + "/letter",
        actions=[(to.value, labels[to]) for to in CredentialStatus if to in CREDENTIAL_TRANSITIONS[cred.status]],
    )


@bp.post("/assignments/<assignment_id>/status")
@require_role(*ISSUERS)
def assignment_status(assignment_id: str) -> Response:
    try:
        to = CredentialStatus(_form("to", 16))
    except ValueError:
        raise ValidationError(N_("unknown status"), field="to") from None
    _confirmed()
    assignment = assignment_service.change_status(
        db(), assignment_id[:64], to, actor=actor_name(), now=now(), reason=_reason()
    )
    db().commit()
    flash(_("The assignment is now %(status)s.", status=STATUS_LABELS[assignment.credential.status.value]))
    return redirect(url_for("admin.assignment_detail", assignment_id=assignment.credential_id))
