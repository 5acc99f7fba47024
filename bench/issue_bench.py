"""Bulk issuance: N credentials, each signed, rendered as a QR PNG and stored, one
transaction per credential (as an admin issuing cards would). Prints credentials/s.

    .venv/bin/python bench/issue_bench.py [--count 1000] [--database URL]

Without --database it uses a fresh SQLite file (the embedded default).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from app import create_app  # noqa: E402
from keys import root as key_root  # noqa: E402
from keys import service as key_service  # noqa: E402
from keys.contract import verification_url  # noqa: E402
from registry import qr  # noqa: E402
from registry.credentials import service as credentials  # noqa: E402
from registry.platform.clock import now  # noqa: E402
from registry.platform.config import master_key  # noqa: E402
from registry.staff.service import add_staff, validate_staff  # noqa: E402

BASE_URL = "https://xacminh.thiduakhenthuong.vn"  # 35 characters


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--count", type=int, default=1000)
    parser.add_argument("--database")
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="chinhdanh-bench-"))
    url = args.database or f"sqlite:///{tmp / 'bench.sqlite3'}"
    app = create_app(
        {
            "DATABASE_URL": url,
            "INSTANCE_PATH": str(tmp / "instance"),
            "PUBLIC_BASE_URL": BASE_URL,
            "CHINHDANH_MASTER_KEY": "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=",
            "SECRET_KEY": "bench",
        }
    )
    with app.app_context():
        from alembic import command

        from registry.platform.cli import alembic_config

        command.upgrade(alembic_config(), "heads")
        session = app.extensions["chinhdanh.sessionmaker"]()
        if not key_service.list_keys(session):
            key_service.generate_key(session, master_key(), now=now())
            key_root.new_root(session, now=now())  # its private key is not needed here: dropped
        run = int(time.time())
        codes = [f"B{run % 100000:05d}-{i:05d}" for i in range(args.count)]
        for code in codes:
            add_staff(
                session,
                validate_staff(
                    code=code,
                    name="Tôn Nữ Thị Phương Thảo",
                    title="Phóng viên",
                    unit="Trung tâm Thông tin - Truyền thông",
                ),
                actor="bench",
                now=now(),
            )
        session.commit()
        timings = []
        png_bytes = 0
        started = time.perf_counter()
        for code in codes:
            t0 = time.perf_counter()
            cred = credentials.issue_credential(
                session, master_key(), staff_code=code, base_url=BASE_URL, now=now(), actor="bench"
            )
            png_bytes += len(qr.png(verification_url(BASE_URL, cred.token)))
            session.commit()
            timings.append(time.perf_counter() - t0)
        elapsed = time.perf_counter() - started
        info = qr.describe(verification_url(BASE_URL, cred.token))
        session.close()
    print(f"database: {url.split(':')[0]}")
    print(
        f"issued {args.count} credentials (sign + QR PNG + database) in {elapsed:.2f} s: "
        f"{args.count / elapsed:.0f} credentials/s"
    )
    print(
        f"per credential: median {statistics.median(timings) * 1000:.2f} ms, "
        f"p99 {sorted(timings)[int(len(timings) * 0.99) - 1] * 1000:.2f} ms, PNG {png_bytes // args.count} bytes"
    )
    print(
        f"typical card QR: URL {info['url_length']} chars, version {info['version']}-{info['error']}, "
        f"{info['modules']}x{info['modules']} modules"
    )


if __name__ == "__main__":
    main()
