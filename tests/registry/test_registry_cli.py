"""The registry's command line: every command with --json prints exactly one JSON
object; errors go to stderr with a non-zero exit; CSV import is all or nothing."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select, update

from keys.models import SigningKey
from registry.audit.models import AuditEntry
from registry.staff.models import Staff


def run_json(runner, *args):
    result = runner.invoke(args=[*args, "--json"])
    assert result.exit_code == 0, result.output
    lines = [line for line in result.stdout.splitlines() if line.strip()]
    assert len(lines) == 1, result.stdout
    return json.loads(lines[0])


def add(runner, code="TTTT-001", name="Nguyễn Văn Đức", **extra):
    args = [
        "staff",
        "add",
        "--code",
        code,
        "--name",
        name,
        "--title",
        "Phóng viên",
        "--unit",
        "Trung tâm Thông tin - Truyền thông",
        "--phone",
        extra.get("phone", "0912 345 678"),
        "--email",
        extra.get("email", "Duc.NV@TDKT.gov.vn"),
    ]
    return run_json(runner, *args)


def test_keys_commands(runner, tmp_path):
    generated = run_json(runner, "keys", "generate")
    assert generated["state"] == "active"
    rotated = run_json(runner, "keys", "rotate")
    assert rotated["retired"]["kid"] == generated["kid"]
    listed = run_json(runner, "keys", "list")
    assert [k["state"] for k in listed["keys"]] == ["retired", "active"]
    revoked = run_json(runner, "keys", "revoke", generated["kid"])
    assert revoked["state"] == "revoked"
    root = run_json(runner, "keys", "root", "generate", "--out", str(tmp_path / "root.key"))
    assert run_json(runner, "keys", "root", "show")["thumbprint"] == root["thumbprint"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["keys", "revoke", "-_Xy0"], "no key"),
        (["credential", "revoke", "-abc"], "no credential"),
        (["credential", "suspend", "--json", "-_q"], "no credential"),
        (["credential", "card", "-abc", "--html", "card.html"], "no credential"),
        (["assignment", "revoke", "-abc"], "no assignment"),
        (["assignment", "letter", "-abc", "--pdf", "x.pdf"], "no assignment"),
    ],
)
def test_ids_starting_with_a_dash_are_ids_not_options(runner, args, message):
    """Thumbprints and jtis are base64url: one in 32 starts with "-" (a CI run met one)."""
    run_json(runner, "keys", "generate")
    result = runner.invoke(args=args)
    assert result.exit_code == 1, result.output
    assert message in result.output and "No such option" not in result.output


def test_revoking_a_key_whose_id_starts_with_a_dash(runner, session):
    kid = run_json(runner, "keys", "generate")["kid"]
    dashed = "-_" + kid[2:]
    session.execute(update(SigningKey).where(SigningKey.kid == kid).values(kid=dashed))
    session.commit()
    assert run_json(runner, "keys", "revoke", dashed)["state"] == "revoked"


def test_staff_lifecycle_and_credential_commands(runner, session):
    run_json(runner, "keys", "generate")
    person = add(runner)
    assert person["email"] == "duc.nv@tdkt.gov.vn" and person["phone"] == "+84912345678"
    first = run_json(runner, "credential", "issue", "TTTT-001", "--days", "30")
    assert set(first) == {"id", "token", "url", "expires_at"}
    assert first["url"].endswith("/v/" + first["token"])
    second = run_json(runner, "credential", "issue", "tttt-001")
    listed = run_json(runner, "credential", "list", "--staff", "TTTT-001")["credentials"]
    assert {c["id"]: c["status"] for c in listed} == {first["id"]: "revoked", second["id"]: "valid"}
    assert run_json(runner, "credential", "suspend", second["id"], "--reason", "lost card")["status"] == "suspended"
    assert run_json(runner, "credential", "reinstate", second["id"])["status"] == "valid"
    assert run_json(runner, "staff", "suspend", "TTTT-001", "--reason", "under review")["status"] == "suspended"
    assert run_json(runner, "staff", "reinstate", "TTTT-001")["status"] == "active"
    assert run_json(runner, "staff", "depart", "TTTT-001")["status"] == "departed"
    assert run_json(runner, "credential", "revoke", second["id"])["status"] == "revoked"
    assert run_json(runner, "staff", "list")["staff"][0]["status"] == "departed"
    actions = session.scalars(select(AuditEntry.action).order_by(AuditEntry.seq)).all()
    assert actions.count("credential.issue") == 2 and "staff.depart" in actions
    assert run_json(runner, "audit", "verify")["ok"] is True


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["staff", "suspend", "NOPE-1"], "no staff member"),
        (["credential", "revoke", "doesnotexist"], "no credential"),
        (["credential", "issue", "NOPE-1"], "no staff member"),
        (["staff", "add", "--code", "x", "--name", "A", "--title", "T", "--unit", "U"], "staff code"),
        (["staff", "add", "--code", "AB-1", "--name", "A", "--title", "T", "--unit", "U", "--phone", "12"], "phone"),
        (["staff", "add", "--code", "AB-1", "--name", "A", "--title", "T", "--unit", "U", "--email", "a@"], "email"),
        (["staff", "add", "--code", "AB-1", "--name", "A" * 201, "--title", "T", "--unit", "U"], "name"),
        (["keys", "revoke", "nokid"], "no key"),
        (["credential", "issue", "TTTT-001", "--days", "0"], "0"),
    ],
)
def test_errors_go_to_stderr_with_nonzero_exit(runner, args, message):
    run_json(runner, "keys", "generate")
    add(runner)
    result = runner.invoke(args=[*args, "--json"])
    assert result.exit_code != 0
    assert result.stdout.strip() == "" or "Usage" in result.output
    assert message in result.output


def test_transitions_refused(runner):
    run_json(runner, "keys", "generate")
    add(runner)
    cred = run_json(runner, "credential", "issue", "TTTT-001")
    run_json(runner, "credential", "revoke", cred["id"])
    result = runner.invoke(args=["credential", "reinstate", cred["id"]])
    assert result.exit_code == 1 and "invalid_transition" in result.output
    run_json(runner, "staff", "depart", "TTTT-001")
    result = runner.invoke(args=["credential", "issue", "TTTT-001"])
    assert result.exit_code == 1 and "departed" in result.output


GOOD_CSV = """code,name,title,unit,phone,email
TTTT-001,Nguyễn Văn Đức,Phóng viên,Trung tâm Thông tin - Truyền thông,0912 345 678,duc@tdkt.gov.vn
TTTT-002,Trần Thị Minh Hằng,Biên tập viên,Trung tâm Thông tin - Truyền thông,+84 987 654 321,
"""


def test_csv_import_is_idempotent(runner, session, tmp_path):
    path = tmp_path / "staff.csv"
    path.write_text("\ufeff" + GOOD_CSV, encoding="utf-8")
    assert run_json(runner, "staff", "import", str(path))["created"] == ["TTTT-001", "TTTT-002"]
    again = run_json(runner, "staff", "import", str(path))
    assert again == {"created": [], "updated": [], "unchanged": ["TTTT-001", "TTTT-002"]}
    path.write_text(GOOD_CSV.replace("Biên tập viên", "Thư ký tòa soạn"), encoding="utf-8")
    assert run_json(runner, "staff", "import", str(path))["updated"] == ["TTTT-002"]
    assert session.scalar(select(func.count()).select_from(Staff)) == 2


def test_csv_import_writes_nothing_and_names_each_bad_row(runner, session, tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text(
        GOOD_CSV
        + "TTTT-003,Lê Quang Huy,Phóng viên ảnh,Trung tâm,not a phone,huy@tdkt.gov.vn\n"
        + "TTTT-001,Trùng Mã,Phóng viên,Trung tâm,,\n"
        + "TTTT-004,Thiếu cột\n",
        encoding="utf-8",
    )
    result = runner.invoke(args=["staff", "import", str(path), "--json"])
    assert result.exit_code == 1
    assert "line 4" in result.output and "phone" in result.output
    assert "line 5" in result.output and "repeats line 2" in result.output
    assert "line 6" in result.output and "columns" in result.output
    assert "line 2:" not in result.output
    assert session.scalar(select(func.count()).select_from(Staff)) == 0


@pytest.mark.parametrize(
    "content",
    ["", "name,code\nA,B\n", b"\xff\xfe\x00garbage"],
)
def test_csv_import_refuses_bad_files(runner, session, tmp_path, content):
    path = tmp_path / "x.csv"
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    result = runner.invoke(args=["staff", "import", str(path)])
    assert result.exit_code == 1
    assert session.scalar(select(func.count()).select_from(Staff)) == 0


def test_demo_prints_a_valid_url(runner, client):
    result = runner.invoke(args=["demo", "--json"])
    assert result.exit_code == 0, result.output
    url = json.loads(result.stdout.strip().splitlines()[-1])["url"]
    token = url.rsplit("/v/", 1)[1]
    assert client.get(f"/v/{token}", headers={"Accept": "application/json"}).json["verdict"] == "valid"
    again = runner.invoke(args=["demo", "--json"])
    assert again.exit_code == 0, again.output


def test_staff_added_with_a_photo_keeps_no_metadata(runner, session, tmp_path):
    """The command line cleans a photo as the console does: re-encoded, EXIF gone."""
    import io

    from helpers_admin import jpeg_with_exif
    from PIL import Image

    photo = tmp_path / "photo.jpg"
    photo.write_bytes(jpeg_with_exif((1200, 1600)))
    args = ["staff", "add", "--code", "TTTT-009", "--name", "Lê Văn Ảnh", "--title", "T", "--unit", "U"]
    assert run_json(runner, *args, "--photo", str(photo))["has_photo"] is True
    person = session.scalars(select(Staff).where(Staff.code == "TTTT-009")).one()
    assert person.photo_mime == "image/jpeg"
    with Image.open(io.BytesIO(person.photo)) as img:
        assert img.size == (480, 640)
        assert not img.getexif()
    entries = session.scalars(select(AuditEntry.action).where(AuditEntry.target == "TTTT-009")).all()
    assert entries == ["staff.add"]
