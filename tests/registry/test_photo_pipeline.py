"""Issue 13: one photo pipeline for the command line and the console. A phone photo
carrying GPS coordinates in its EXIF, added with ``staff add --photo``, is stored and
served (publicly, on every card) without any metadata, byte for byte what the
console makes of the same file."""

from __future__ import annotations

import io
import json

from conftest import add_person
from helpers_admin import cheap_argon2, make_admin, sign_in_client  # noqa: F401 - fixture
from PIL import ExifTags, Image
from sqlalchemy import select

from registry.accounts.models import AdminRole
from registry.staff.models import Staff

LATITUDE = (21.0, 1.0, 30.5)  # somewhere in Hà Nội: what must not leak


def phone_photo() -> bytes:
    img = Image.new("RGB", (1200, 1600), (180, 140, 90))
    exif = Image.Exif()
    exif[ExifTags.Base.Make] = "SecretCam"
    exif[ExifTags.Base.Orientation] = 1
    gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
    gps[ExifTags.GPS.GPSLatitudeRef] = "N"
    gps[ExifTags.GPS.GPSLatitude] = LATITUDE
    gps[ExifTags.GPS.GPSLongitudeRef] = "E"
    gps[ExifTags.GPS.GPSLongitude] = (105.0, 51.0, 2.25)
    buf = io.BytesIO()
    img.save(buf, format="JPEG", exif=exif.tobytes())
    return buf.getvalue()


def no_metadata(data: bytes) -> None:
    assert data[:3] == b"\xff\xd8\xff"
    assert b"Exif" not in data and b"SecretCam" not in data
    with Image.open(io.BytesIO(data)) as img:
        assert img.format == "JPEG" and img.size == (480, 640)
        exif = img.getexif()
        assert not exif and not exif.get_ifd(ExifTags.IFD.GPSInfo)
        assert "exif" not in img.info and "icc_profile" not in img.info


def test_cli_photo_with_gps_is_stored_and_served_without_exif(app, runner, session, master, tmp_path):
    original = phone_photo()
    with Image.open(io.BytesIO(original)) as img:  # the file really carries the coordinates
        assert img.getexif().get_ifd(ExifTags.IFD.GPSInfo)[ExifTags.GPS.GPSLatitude] == LATITUDE
    path = tmp_path / "phone.jpg"
    path.write_bytes(original)
    args = ["staff", "add", "--code", "TTTT-077", "--name", "Lê Văn Ảnh", "--title", "T", "--unit", "U"]
    result = runner.invoke(args=[*args, "--photo", str(path), "--json"])
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["has_photo"] is True
    stored = session.scalars(select(Staff.photo).where(Staff.code == "TTTT-077")).one()
    no_metadata(stored)
    served = app.test_client().get("/api/v1/staff/TTTT-077/photo")
    assert served.status_code == 200 and served.mimetype == "image/jpeg"
    assert served.data == stored
    no_metadata(served.data)

    # the console, given the same file, makes the same bytes: one pipeline
    add_person(session, code="TTTT-078")
    user, _ = make_admin(session, master, AdminRole.ISSUER, "issuer-ann")
    console = sign_in_client(app.test_client(), user)
    upload = console.post(
        "/admin/staff/TTTT-078/photo",
        data={"photo": (io.BytesIO(original), "phone.jpg")},
        content_type="multipart/form-data",
    )
    assert upload.status_code == 302
    session.expire_all()
    assert session.scalars(select(Staff.photo).where(Staff.code == "TTTT-078")).one() == stored


def test_cli_refuses_a_file_that_is_not_a_photo(runner, session, tmp_path):
    path = tmp_path / "not-a-photo.jpg"
    path.write_bytes(b"\xff\xd8\xff" + b"\x00" * 200)
    args = ["staff", "add", "--code", "TTTT-079", "--name", "Lê Văn Ảnh", "--title", "T", "--unit", "U"]
    result = runner.invoke(args=[*args, "--photo", str(path)])
    assert result.exit_code == 1
    assert result.stderr.strip() == "error (invalid_input): The file is not a readable image."
    assert session.scalars(select(Staff).where(Staff.code == "TTTT-079")).first() is None
