"""QR codes decode to exactly the verification URL; the card prints at ID-1 size."""

from __future__ import annotations

import io
import re

import zxingcpp
from factories import BASE_URL, add_person, issue
from PIL import Image

from keys.contract import verification_url
from registry import qr


def decode(png: bytes) -> list[str]:
    return [r.text for r in zxingcpp.read_barcodes(Image.open(io.BytesIO(png)))]


def test_png_decodes_to_exact_url(session, master, signing_key):
    add_person(session)
    cred = issue(session, master)
    url = verification_url(BASE_URL, cred.token)
    assert decode(qr.png(url)) == [url]


def test_qr_is_version_19_or_lower_at_m_or_better(session, master, signing_key):
    assert len(BASE_URL) == 35
    add_person(session, name="Tôn Nữ Thị Phương Thảo")  # a long name with many diacritics
    cred = issue(session, master)
    info = qr.describe(verification_url(BASE_URL, cred.token))
    assert int(info["version"]) <= 19
    assert info["error"] in ("M", "Q", "H")


def test_cli_writes_png_and_svg(runner, session, signing_key, tmp_path):
    add_person(session)
    png, svg = tmp_path / "card.png", tmp_path / "card.svg"
    result = runner.invoke(args=["credential", "issue", "TTTT-001", "--json", "--png", str(png), "--svg", str(svg)])
    assert result.exit_code == 0, result.output
    import json

    url = json.loads(result.stdout)["url"]
    assert decode(png.read_bytes()) == [url]
    text = svg.read_text()
    assert text.startswith("<svg")
    side = int(qr.describe(url)["modules"]) + 2 * qr.QR_BORDER
    assert f'viewBox="0 0 {side} {side}"' in text


def test_card_is_id1_with_a_35mm_qr(app, runner, session, signing_key, tmp_path):
    add_person(session, name="Nguyễn Văn <b>Đức</b>")
    result = runner.invoke(args=["credential", "issue", "TTTT-001", "--json"])
    import json

    cred_id = json.loads(result.stdout)["id"]
    out = tmp_path / "card.html"
    result = runner.invoke(args=["credential", "card", cred_id, "--html", str(out)])
    assert result.exit_code == 0, result.output
    html = out.read_text()
    assert "width: 85.6mm" in html and "height: 54mm" in html
    qr_width = re.search(r"\.card-qr \{ width: (\d+(?:\.\d+)?)mm", html)
    assert qr_width and float(qr_width.group(1)) >= 35
    assert "Nguyễn Văn &lt;b&gt;Đức&lt;/b&gt;" in html  # escaped
    assert "<svg" in html and "Phóng viên" in html
