"""Issue 13: admins' browsers never render an uploaded evidence file. The report page
shows an image decoded and drawn again on the server (PNG, bounded, no metadata);
the original is only a download (attachment, nosniff, sandboxed). Every read of a
report's personal data or of its evidence is audited: who, which report, which
file, never what was read."""

from __future__ import annotations

import io
import re
import struct
from typing import Any

import pytest
from helpers_admin import cheap_argon2, make_admin, sign_in_client  # noqa: F401 - fixture
from helpers_reports import _chunk, form_data, pdf, png_bomb
from PIL import ExifTags, Image
from sqlalchemy import select

from registry.accounts.models import AdminRole
from registry.audit.models import AuditEntry
from verify.errors import EvidenceError
from verify.reports.display import DISPLAY_BOX, display_image
from verify.reports.models import Report
from verify.reports.triage import READ_ACTIONS

pytestmark = pytest.mark.usefixtures("cheap_argon2")

CONTACT = "Trần Thị Lan, 0239 385 5555"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def png_chunks(data: bytes) -> list[bytes]:
    assert data.startswith(PNG_SIGNATURE)
    kinds, at = [], len(PNG_SIGNATURE)
    while at < len(data):
        (length,) = struct.unpack(">I", data[at : at + 4])
        kinds.append(data[at + 4 : at + 8])
        at += 12 + length
    return kinds


def gps_photo(size: tuple[int, int] = (3000, 2000)) -> bytes:
    img = Image.new("RGB", size, (200, 30, 30))
    exif = Image.Exif()
    exif[ExifTags.Base.Make] = "EvidenceCam"
    gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
    gps[ExifTags.GPS.GPSLatitudeRef] = "N"
    gps[ExifTags.GPS.GPSLatitude] = (18.0, 20.0, 41.0)
    out = io.BytesIO()
    img.save(out, "JPEG", exif=exif.tobytes(), icc_profile=b"\x00" * 128, comment=b"<script>alert(1)</script>")
    return out.getvalue()


def png_with_text() -> bytes:
    """A PNG carrying a text chunk of HTML: what a polyglot hides for a sniffing browser."""
    buf = io.BytesIO()
    Image.new("RGBA", (40, 30), (0, 90, 200, 128)).save(buf, "PNG")
    raw = buf.getvalue()
    iend = raw.rindex(b"IEND") - 4
    text_chunk: bytes = _chunk(b"tEXt", b"Comment\x00<html><script>alert(1)</script>")
    return raw[:iend] + text_chunk + raw[iend:]


def test_display_image_draws_a_bounded_png_without_metadata():
    original = gps_photo()
    shown = display_image(original)
    assert set(png_chunks(shown)) == {b"IHDR", b"IDAT", b"IEND"}  # no eXIf, iCCP, tEXt, ...
    assert b"EvidenceCam" not in shown and b"script" not in shown
    with Image.open(io.BytesIO(shown)) as img:
        assert img.format == "PNG" and img.size == (1600, 1067)
        assert max(img.size) <= max(DISPLAY_BOX)
        assert not img.getexif() and img.info.get("icc_profile") is None
        with Image.open(io.BytesIO(original)) as source:
            assert img.convert("RGB").getpixel((800, 500)) == source.convert("RGB").getpixel((1500, 937))
    texty = display_image(png_with_text())
    assert b"script" not in texty and set(png_chunks(texty)) == {b"IHDR", b"IDAT", b"IEND"}
    with Image.open(io.BytesIO(texty)) as img:
        assert img.mode == "RGBA" and img.size == (40, 30)  # transparency kept, small images not enlarged


@pytest.mark.parametrize("data", [pdf(), png_bomb(), b"<html>not an image</html>", b""])
def test_display_image_refuses_what_is_not_a_bounded_image(data):
    with pytest.raises(EvidenceError) as caught:
        display_image(data)
    assert caught.value.status == 422 and caught.value.code == "corrupt_file"


def submit(client: Any, files: list[Any]) -> str:
    data = form_data(reporter_contact=CONTACT)
    data["evidence"] = files
    resp = client.post("/report?lang=vi", data=data, content_type="multipart/form-data")
    assert resp.status_code == 303, resp.get_data(as_text=True)[:500]
    found = re.search(r"/report/(BC-\d{4}-\d+)", resp.headers["Location"])
    assert found is not None
    return found.group(1)


def reads(session: Any, reference: str) -> list[tuple[str, str, dict[str, Any]]]:
    session.expire_all()
    query = select(AuditEntry).where(AuditEntry.target == reference, AuditEntry.action.in_(READ_ACTIONS))
    return [(e.actor, e.action, e.details) for e in session.scalars(query.order_by(AuditEntry.seq))]


def test_report_page_shows_reencoded_images_and_audits_every_read(app, client, session, master):
    original = gps_photo((1200, 900))
    ref = submit(client, [(io.BytesIO(original), "anh-chup.jpg"), (io.BytesIO(pdf()), "thu.pdf")])
    report = session.scalars(select(Report).where(Report.reference == ref)).one()
    image_id, pdf_id = (f.public_id for f in report.files)
    assert reads(session, ref) == []
    user, _ = make_admin(session, master, AdminRole.REVIEWER, "rev-chi")
    console = sign_in_client(app.test_client(), user)

    page = console.get(f"/admin/reports/{ref}").get_data(as_text=True)
    assert CONTACT in page
    raw_url, view_url = f"/admin/reports/{ref}/files/{image_id}", f"/admin/reports/{ref}/files/{image_id}/view"
    assert re.findall(r'<img src="([^"]+)"', page) == [view_url]  # the page never points an <img> at the raw file
    assert f'href="{raw_url}"' in page and f'href="/admin/reports/{ref}/files/{pdf_id}"' in page

    shown = console.get(view_url)
    assert shown.status_code == 200 and shown.mimetype == "image/png"
    assert shown.headers["Content-Disposition"] == 'inline; filename="evidence.png"'
    assert shown.data != original and b"EvidenceCam" not in shown.data and b"Exif" not in shown.data
    with Image.open(io.BytesIO(shown.data)) as img:
        assert img.size == (1200, 900) and not img.getexif()

    for url, mime, name in (
        (raw_url, "image/jpeg", "anh-chup.jpg"),
        (f"/admin/reports/{ref}/files/{pdf_id}", "application/pdf", "thu.pdf"),
    ):
        raw = console.get(url)
        assert raw.status_code == 200 and raw.mimetype == mime
        assert raw.headers["Content-Disposition"] == f"attachment; filename={name}"
        assert raw.headers["X-Content-Type-Options"] == "nosniff"
        assert "sandbox" in raw.headers["Content-Security-Policy"]
        assert raw.headers["Cache-Control"] == "no-store"
    assert console.get(raw_url).data == original  # the original, byte for byte, as a download

    no_preview = console.get(f"/admin/reports/{ref}/files/{pdf_id}/view")
    assert no_preview.status_code == 404

    assert reads(session, ref) == [
        ("rev-chi", "report.view", {}),
        ("rev-chi", "report.evidence_view", {"file": image_id}),
        ("rev-chi", "report.evidence_download", {"file": image_id}),
        ("rev-chi", "report.evidence_download", {"file": pdf_id}),
        ("rev-chi", "report.evidence_download", {"file": image_id}),
    ]  # the PDF, which has no preview, was not read by the refused /view
    everything = " ".join(str(e.details) + e.target for e in session.scalars(select(AuditEntry)))
    assert "Trần Thị Lan" not in everything and "0239" not in everything  # the personal data itself never


def test_reads_by_someone_refused_are_not_recorded_as_reads(app, client, session, master):
    ref = submit(client, [(io.BytesIO(gps_photo((64, 48))), "a.jpg")])
    assert app.test_client().get(f"/admin/reports/{ref}").status_code == 302  # signed out: sent to sign in
    issuer, _ = make_admin(session, master, AdminRole.ISSUER, "issuer-ann")
    assert sign_in_client(app.test_client(), issuer).get(f"/admin/reports/{ref}").status_code == 403
    assert reads(session, ref) == []


def test_command_line_reads_of_reporters_contacts_are_audited(app, client, session, tmp_path):
    refs = [submit(client, []) for _ in range(2)]
    runner = app.test_cli_runner()
    assert runner.invoke(args=["reports", "list"]).exit_code == 0  # no contact shown: nothing recorded
    listed = runner.invoke(args=["reports", "list", "--json"])
    assert listed.exit_code == 0 and CONTACT in listed.stdout
    out = tmp_path / "all.csv"
    assert runner.invoke(args=["reports", "export", "--format", "csv", "-o", str(out)]).exit_code == 0
    assert CONTACT in out.read_text(encoding="utf-8")
    session.expire_all()
    query = select(AuditEntry).where(AuditEntry.action.in_(("report.list", "report.export"))).order_by(AuditEntry.seq)
    entries = [(e.actor.startswith("cli:"), e.action, e.target, e.details) for e in session.scalars(query)]
    assert entries == [
        (True, "report.list", "2 reports", {"references": refs[::-1]}),
        (True, "report.export", "2 reports", {"count": 2, "first": refs[0], "last": refs[1]}),
    ]
