"""Lookup latency over the real HTTP path, small registry versus large.

Run A: a database with 1,000 staff and the official channels, no reports. Run B: a
second database with 100,000 staff plus 250,000 reports naming 1,000,000 identifiers
(a phone, an email, a bank account and a social link each; 60 % confirmed). Both get
the same mix of lookups through the Flask WSGI stack (``GET /api/v1/lookup``: routing,
input parsing, the service's queries, JSON), interleaved request by request so that
other load on the machine weighs on both alike; p50/p99 and the B/A ratios printed.

    .venv/bin/python bench/lookup_bench.py                       # SQLite in a temp dir
    .venv/bin/python bench/lookup_bench.py --database-url postgresql+psycopg://…/bench

The database given (and its sibling ``<name>_small`` for run A, created if missing)
is emptied first, every table dropped: never point it at one you need. Kept out of the
test suite: seeding takes a minute or two.
"""

from __future__ import annotations

import argparse
import base64
import os
import random
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import insert, text  # noqa: E402
from sqlalchemy.pool import NullPool  # noqa: E402

from app import create_app, load_models  # noqa: E402
from registry.platform.db import dispose_engines, make_engine  # noqa: E402

SMALL_STAFF = 1_000
LARGE_STAFF = 100_000
REPORTS = 250_000
IDENTIFIERS_PER_REPORT = 4  # phone, email, account, link: 1,000,000 identifiers
CONFIRMED_SHARE = 0.6
BATCH = 10_000
WARMUP = 200
REQUESTS = 4_500
MAX_RATIO = 1.5
KIND_NAMES = ["phone 0…", "phone 84…", "email", "code", "name", "reported phone", "reported email", "lookalike", "site"]
KINDS = len(KIND_NAMES)  # acceptance: large-run p50 and p99 within 1.5x of the small run's

FAMILY = ["Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Huỳnh", "Phan", "Vũ", "Võ", "Đặng", "Bùi", "Đỗ", "Hồ", "Ngô"]
MIDDLE = ["Văn", "Thị", "Đức", "Minh", "Quang", "Thu", "Hữu", "Ngọc", "Thanh", "Xuân"]
GIVEN = [
    "An", "Bình", "Chi", "Dũng", "Đức", "Giang", "Hà", "Hải", "Hằng", "Hiếu", "Hoa", "Hùng", "Huy", "Hương",
    "Khánh", "Lan", "Linh", "Long", "Mai", "Nam", "Nga", "Ngân", "Nhung", "Phong", "Phúc", "Phương", "Quân",
    "Sơn", "Tâm", "Thảo", "Thắng", "Trang", "Trung", "Tú", "Tuấn", "Vân", "Việt", "Vinh", "Yến", "Đạt",
]  # fmt: skip
MOBILE_PREFIXES = ["90", "91", "93", "94", "96", "97", "98"]  # staff: Viet Nam mobile ranges
REPORTED_PREFIXES = ["32", "33", "34", "35", "36", "37", "38", "39"]  # impostors: other ranges
NOW = datetime(2026, 11, 20, 3, 0, tzinfo=UTC)


def staff_name(i: int) -> str:
    """A unique name per index (so a name lookup returns one person in both runs)."""
    a, rest = i % len(FAMILY), i // len(FAMILY)
    b, rest = rest % len(MIDDLE), rest // len(MIDDLE)
    c, d = rest % len(GIVEN), rest // len(GIVEN) % len(GIVEN)
    return f"{FAMILY[a]} {MIDDLE[b]} {GIVEN[d]} {GIVEN[c]}"


def staff_phone(i: int) -> str:
    return f"+84{MOBILE_PREFIXES[i % len(MOBILE_PREFIXES)]}{i:07d}"


def reported_phone(i: int) -> str:
    return f"+84{REPORTED_PREFIXES[i % len(REPORTED_PREFIXES)]}{i:07d}"


def staff_rows(start: int, stop: int) -> list[dict[str, Any]]:
    from keys.text import fold_name
    from registry.staff.models import StaffStatus

    rows = []
    for i in range(start, stop):
        name = staff_name(i)
        rows.append(
            {
                "code": f"TTTT-{i:06d}",
                "name": name,
                "name_folded": fold_name(name),
                "title": "Phóng viên",
                "unit": "Trung tâm Thông tin - Truyền thông",
                "phone": staff_phone(i),
                "email": f"cb{i:06d}@tdkt.gov.vn",
                "status": StaffStatus.ACTIVE,
                "created_at": NOW,
                "updated_at": NOW,
            }
        )
    return rows


def insert_batches(conn: Any, table: Any, rows_for: Any, total: int, start: int = 0) -> None:
    for lo in range(start, total, BATCH):
        conn.execute(insert(table), rows_for(lo, min(total, lo + BATCH)))


def report_rows(start: int, stop: int) -> list[dict[str, Any]]:
    from verify.reports.models import ReportChannel, ReportStatus

    rows = []
    for i in range(start, stop):
        when = NOW - timedelta(minutes=i)
        confirmed = (i % 10) < CONFIRMED_SHARE * 10
        rows.append(
            {
                "id": i + 1,
                "reference": f"BC-2026-{i + 1:06d}",
                "year": 2026,
                "seq": i + 1,
                "status": ReportStatus.CONFIRMED if confirmed else ReportStatus.NEW,
                "channel": ReportChannel.PHONE,
                "request_text": "Đề nghị viết bài giới thiệu điển hình tiên tiến, yêu cầu chuyển phí",
                "occurred_at": when,
                "reporter_agency": "Sở Nội vụ",
                "reporter_contact": "vanthu@snv.gov.vn",
                "language": "vi",
                "source": "form",
                "created_at": when,
                "updated_at": when,
            }
        )
    return rows


def identifier_rows(start: int, stop: int) -> list[dict[str, Any]]:
    from verify.reports.models import IdentifierKind

    rows = []
    for i in range(start, stop):
        for kind, value in (
            (IdentifierKind.PHONE, reported_phone(i)),
            (IdentifierKind.EMAIL, f"mao.danh.{i}@gmail.com"),
            (IdentifierKind.ACCOUNT, f"{1_000_000_000 + i}"),
            (IdentifierKind.LINK, f"facebook.com/mao.danh.{i}"),
        ):
            rows.append({"report_id": i + 1, "kind": kind, "value": value})
    return rows


def queries(staff_count: int, rng: random.Random) -> list[str]:
    """The same mix in both runs: each lookup kind, found and not found."""
    out = []
    for n in range(REQUESTS + WARMUP):
        i = rng.randrange(staff_count)
        r = rng.randrange(REPORTS)
        e164 = staff_phone(i)
        kind = n % KINDS
        if kind == 0:
            out.append("0" + e164[3:6] + " " + e164[6:9] + " " + e164[9:])  # 0912 345 678
        elif kind == 1:
            out.append(e164[1:])  # 84912345678
        elif kind == 2:
            out.append(f"CB{i:06d}@TDKT.gov.vn")
        elif kind == 3:
            out.append(f"tttt-{i:06d}")
        elif kind == 4:
            from keys.text import fold_name

            out.append(fold_name(staff_name(i)).title())  # without diacritics
        elif kind == 5:
            out.append("0" + reported_phone(r)[3:])  # a reported number (run B)
        elif kind == 6:
            out.append(f"mao.danh.{r}@gmail.com")
        elif kind == 7:
            out.append(f"trungtam.tdkt.{r}@gmail.com")  # unknown, with a warning
        else:
            out.append("https://thiduakhenthuongvn.org.vn/tin-tuc")
    return out


def percentile(ordered: list[float], q: float) -> float:
    """Nearest-rank percentile of an ascending list."""
    return ordered[max(0, int(len(ordered) * q + 0.5) - 1)]


def measure(clients: dict[str, Any], qs: dict[str, list[str]]) -> dict[str, dict[str, float]]:
    """Send both runs' lookups interleaved (A, B, then B, A, ...), so that whatever else
    the machine is doing weighs on both runs alike; returns stats per run."""
    names = list(clients)
    for name in names:
        for q in qs[name][:WARMUP]:
            assert clients[name].get("/api/v1/lookup", query_string={"q": q}).status_code == 200, q
    samples: dict[str, list[float]] = {n: [] for n in names}
    answers: dict[str, dict[str, int]] = {n: {} for n in names}
    by_kind: dict[str, dict[int, list[float]]] = {n: {} for n in names}
    for n in range(WARMUP, WARMUP + REQUESTS):
        for name in names if n % 2 else reversed(names):
            q = qs[name][n]
            t0 = time.perf_counter()
            resp = clients[name].get("/api/v1/lookup", query_string={"q": q})
            elapsed = (time.perf_counter() - t0) * 1000
            assert resp.status_code == 200, (q, resp.get_json())
            samples[name].append(elapsed)
            by_kind[name].setdefault(n % KINDS, []).append(elapsed)
            answer = resp.get_json()["answer"]
            answers[name][answer] = answers[name].get(answer, 0) + 1
    out = {}
    for name in names:
        ordered = sorted(samples[name])
        per_kind = {k: sorted(v) for k, v in sorted(by_kind[name].items())}
        print(
            f"  run {name} p50/p99 per query kind (ms): "
            + "; ".join(
                f"{KIND_NAMES[k]} {statistics.median(v):.1f}/{percentile(v, 0.99):.1f}" for k, v in per_kind.items()
            )
        )
        out[name] = {
            "p50": statistics.median(ordered),
            "p99": percentile(ordered, 0.99),
            "mean": statistics.fmean(ordered),
            **{f"n_{k}": v for k, v in sorted(answers[name].items())},
        }
    return out


def reset_and_migrate(url: str) -> None:
    sys.path.insert(0, str(ROOT / "tests"))
    from conftest import migrate, reset_schema

    engine = make_engine(url)
    reset_schema(engine)
    engine.dispose()
    migrate(url)


def second_database(url: str, suffix: str, tmp: Path) -> str:
    """The URL of a sibling database for run A (created on PostgreSQL if missing)."""
    if url.startswith("sqlite"):
        return f"sqlite:///{tmp / f'bench{suffix}.sqlite3'}"
    base, _, name = url.rpartition("/")
    sibling = f"{name}{suffix}"
    admin = make_engine(f"{base}/postgres", poolclass=NullPool)
    with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        exists = conn.execute(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": sibling}).first()
        if not exists:
            conn.execute(text(f'CREATE DATABASE "{sibling}"'))
    admin.dispose()
    return f"{base}/{sibling}"


def build(url: str, tmp: Path, *, staff: int, reports: int) -> Any:
    """A migrated database with ``staff`` staff, ``reports`` reports (four identifiers
    each) and the official channels; returns the app serving it."""
    from registry.channels import service as channels
    from registry.channels.models import ChannelKind
    from registry.staff.models import Staff
    from verify.reports.models import Report, ReportIdentifier

    reset_and_migrate(url)
    app = create_app(
        {
            "DATABASE_URL": url,
            "INSTANCE_PATH": str(tmp / "instance"),
            "CHINHDANH_MASTER_KEY": base64.b64encode(bytes(32)).decode(),
            "SECRET_KEY": "bench-only",
            "RATELIMIT_ENABLED": False,
            "PUBLIC_BASE_URL": "https://xacminh.thiduakhenthuong.vn",
        }
    )
    session = app.extensions["chinhdanh.sessionmaker"]()
    for kind, value, label in (
        (ChannelKind.EMAIL, "dienhinhtientien.tdkt@gmail.com", "Hộp thư nhận bài"),
        (ChannelKind.PHONE, "024 3823 4567", "Đường dây nóng"),
        (ChannelKind.DOMAIN, "tdkt.gov.vn", "Tên miền"),
        (ChannelKind.URL, "https://thiduakhenthuongvn.org.vn", "Cổng thông tin"),
    ):
        channels.add_channel(session, kind=kind, value=value, label=label, actor="bench", now=NOW)
    session.commit()
    session.close()
    engine = app.extensions["chinhdanh.engine"]
    t0 = time.perf_counter()
    with engine.begin() as conn:
        insert_batches(conn, Staff.__table__, staff_rows, staff)
        if reports:
            insert_batches(conn, Report.__table__, report_rows, reports)
            insert_batches(conn, ReportIdentifier.__table__, identifier_rows, reports)
    # A steady state, as in production: statistics fresh and the bulk load vacuumed, so
    # PostgreSQL's autovacuum does not compete with the measured requests for the CPU.
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM ANALYZE" if engine.dialect.name == "postgresql" else "ANALYZE"))
    with engine.connect() as conn:
        counted = [
            conn.execute(text(f"SELECT count(*) FROM {t}")).scalar_one()  # noqa: S608  fixed table names
            for t in ("staff", "reports", "report_identifiers")
        ]
    print(
        f"seeded {counted[0]:,} staff, {counted[1]:,} reports, {counted[2]:,} report identifiers "
        f"in {time.perf_counter() - t0:.1f} s"
    )
    return app


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL"))
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="lookup-bench-"))
    url_b = args.database_url or f"sqlite:///{tmp / 'bench.sqlite3'}"
    url_a = second_database(url_b, "_small", tmp)
    print(f"database: {url_b.rsplit('@', 1)[-1]} (run B), {url_a.rsplit('@', 1)[-1]} (run A)")
    load_models()
    apps = {
        "A": build(url_a, tmp / "a", staff=SMALL_STAFF, reports=0),
        "B": build(url_b, tmp / "b", staff=LARGE_STAFF, reports=REPORTS),
    }
    rng = random.Random(20261122)
    qs = {"A": queries(SMALL_STAFF, rng), "B": queries(LARGE_STAFF, rng)}
    stats = measure({name: app.test_client() for name, app in apps.items()}, qs)
    for name in ("A", "B"):
        print_run(name, stats[name])
    small, large = stats["A"], stats["B"]
    p50_ratio, p99_ratio = large["p50"] / small["p50"], large["p99"] / small["p99"]
    verdict = "within" if max(p50_ratio, p99_ratio) <= MAX_RATIO else "OUTSIDE"
    print(f"ratio B/A: p50 {p50_ratio:.2f}x, p99 {p99_ratio:.2f}x ({verdict} {MAX_RATIO}x)")
    for app in apps.values():
        dispose_engines(app)
    return 0 if verdict == "within" else 1


def print_run(name: str, stats: dict[str, float]) -> None:
    counts = ", ".join(f"{k[2:]} {int(v)}" for k, v in stats.items() if k.startswith("n_"))
    print(
        f"run {name}: {REQUESTS} lookups, p50 {stats['p50']:.2f} ms, p99 {stats['p99']:.2f} ms, "
        f"mean {stats['mean']:.2f} ms ({counts})"
    )


if __name__ == "__main__":
    sys.exit(main())
