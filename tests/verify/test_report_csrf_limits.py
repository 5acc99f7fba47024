"""Issue 13: on the /report form, CSRF protection reads the body only within the
route's own limits (40 parts, three evidence files and the form), never with the
app's looser defaults first."""

from __future__ import annotations

import io
import re

import pytest
from helpers_admin import must

pytestmark = pytest.mark.parametrize("app", [{"WTF_CSRF_ENABLED": True}], indirect=True)


def test_too_many_parts_are_refused_before_the_csrf_check_reads_them(client):
    data = {f"field{i}": "x" for i in range(100)}  # our form has 20 fields; CSRF's parse would allow 1000
    resp = client.post("/report", data=data, content_type="multipart/form-data")
    assert resp.status_code == 413
    # the same body on a route without those limits gets the CSRF answer, not 413
    assert client.post("/admin/login", data=data, content_type="multipart/form-data").status_code == 400


def test_a_form_with_its_token_still_goes_through_the_check(client):
    page = client.get("/report").get_data(as_text=True)
    token = must(re.search(r'name="csrf_token" value="([^"]+)"', page)).group(1)
    data = {"csrf_token": token, "claimed_name": "Nguyễn Văn Đức", "channel": "phone", "phone": "0987000111"}
    data["request_text"] = "Xin phí"
    data["reporter_agency"] = "Sở Nội vụ"
    data["reporter_contact"] = "Trần Văn B"
    data["evidence"] = (io.BytesIO(b""), "")
    resp = client.post("/report", data=data, content_type="multipart/form-data")
    assert resp.status_code == 303, resp.get_data(as_text=True)[:3000]  # reached the route and stored
    assert b"CSRF" not in resp.data
    missing = client.post("/report", data={"claimed_name": "x"}, content_type="multipart/form-data")
    assert missing.status_code == 400 and b"CSRF" in missing.data
