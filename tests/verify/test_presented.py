"""Reading what an officer presented: a bare token, a URL of this service, or a URL
of another site (the ``foreign_site`` verdict). Pure, shared with the client."""

from __future__ import annotations

import pytest

from keys.errors import MalformedTokenError
from verify.core.claims import Presented, origin, read_presented

OWN = origin("https://xacminh.thiduakhenthuong.vn")
T = "eyJhbGciOiJFZERTQSJ9.eyJzdWIiOiJ4In0.c2ln"


@pytest.mark.parametrize(
    "text",
    [
        T,
        f"  {T}  ",
        f"https://xacminh.thiduakhenthuong.vn/v/{T}",
        f"https://xacminh.thiduakhenthuong.vn/v/{T}?lang=en#top",
        f"HTTPS://XacMinh.ThiDuaKhenThuong.vn./v/{T}",
        f"https://xacminh.thiduakhenthuong.vn:443/v/{T}",
        f"//xacminh.thiduakhenthuong.vn/v/{T}",
        f"xacminh.thiduakhenthuong.vn/v/{T}",
        f"/v/{T}",
    ],
)
def test_own_origin_and_bare_tokens_give_the_token(text):
    assert read_presented(text, own_origin=OWN) == Presented(T)


@pytest.mark.parametrize(
    ("text", "host"),
    [
        (f"https://xacminh-thiduakhenthuong.vn.evil.example/v/{T}", "xacminh-thiduakhenthuong.vn.evil.example"),
        (f"https://xacminh.thiduakhenthuong.vn.evil.example/v/{T}", "xacminh.thiduakhenthuong.vn.evil.example"),
        (f"http://xacminh.thiduakhenthuong.vn/v/{T}", "http://xacminh.thiduakhenthuong.vn"),
        (f"https://xacminh.thiduakhenthuong.vn:8443/v/{T}", "https://xacminh.thiduakhenthuong.vn:8443"),
        (f"https://user@xacminh.thiduakhenthuong.vn/v/{T}", "https://user@xacminh.thiduakhenthuong.vn"),
        (f"https://evil.example\\@xacminh.thiduakhenthuong.vn/v/{T}", "evil.example\\@xacminh.thiduakhenthuong.vn"),
        (f"https://xacminh.thiduakhenthuong.vn\\@evil.example/v/{T}", "xacminh.thiduakhenthuong.vn\\@evil.example"),
        (f"//evil.example/v/{T}", "evil.example"),
        (f"evil.example/v/{T}", "evil.example"),
        (f"evil.example:8080/v/{T}", "evil.example"),
        ("ftp://xacminh.thiduakhenthuong.vn/v/x", "ftp://xacminh.thiduakhenthuong.vn"),
        ("https://evil.example/", "evil.example"),
        ("https://evil.example/verify?token=abc", "evil.example"),
    ],
)
def test_another_origin_is_foreign_whatever_it_carries(text, host):
    presented = read_presented(text, own_origin=OWN)
    assert presented == Presented("", foreign_host=host)


@pytest.mark.parametrize(
    "text", ["http://[/v/abc", "https://host:abc/v/x", "https://host:99999/v/x", "javascript:alert(1)", "http:"]
)
def test_unparsable_urls_are_malformed(text):
    with pytest.raises(MalformedTokenError):
        read_presented(text, own_origin=OWN)


def test_origin_normalises_case_default_ports_and_trailing_dots():
    assert origin("HTTPS://Example.VN.:443/x") == "https://example.vn"
    assert origin("http://127.0.0.1:5000/") == "http://127.0.0.1:5000"
    assert origin("https://[::1]:8443") == "https://[::1]:8443"
    with pytest.raises(MalformedTokenError):
        origin("example.vn")
