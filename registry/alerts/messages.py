"""The alerts' wording, in Vietnamese (the staff members' language): what happened,
when (Viet Nam time), and what to do. Plain text. Nothing here ever names who
reported or checked beyond an agency's own name on its own check."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from keys.contract import VN_TZ

SIGNATURE = (
    "Trung tâm Thông tin - Truyền thông\n"
    "Ban Thi đua - Khen thưởng Trung ương\n"
    "(Thư tự động từ hệ thống xác minh cán bộ; vui lòng không trả lời thư này.)"
)
IF_NOT_YOU = (
    "Nếu không phải anh/chị, có thể ai đó đang mạo danh anh/chị. Hãy báo ngay cho Trung tâm "
    "qua các đầu mối liên hệ chính thức (đường dây nóng, hộp thư chính thức), không dùng số điện "
    "thoại hay địa chỉ do người lạ cung cấp."
)


@dataclass(frozen=True, slots=True)
class Mail:
    subject: str
    body: str


def _at(moment: datetime) -> str:
    return moment.astimezone(VN_TZ).strftime("%H:%M ngày %d/%m/%Y")


def _mail(subject: str, name: str, *paragraphs: str) -> Mail:
    """Every alert's frame: the greeting, the paragraphs, the Centre's signature."""
    return Mail(subject, "\n\n".join([f"Kính gửi anh/chị {name},", *paragraphs, SIGNATURE]))


def wrong_live_code(name: str, code: str, *, count: int, first: datetime, last: datetime) -> Mail:
    when = _at(last) if count == 1 else f"từ {_at(first)} đến {_at(last)}"
    return _mail(
        f"[Cảnh báo] Mã xác minh của cán bộ {code} bị nhập sai {count} lần",
        name,
        f"Hệ thống xác minh của Trung tâm vừa ghi nhận {count} lần nhập sai mã xác minh trực tiếp "
        f"(mã 6 chữ số) cho mã cán bộ {code} của anh/chị, {when}.",
        "Một cơ quan đã hỏi người gọi điện cho họ mã xác minh của anh/chị và mã đó không đúng. "
        "Nếu anh/chị vừa đọc mã cho một cơ quan và đọc nhầm, không cần làm gì thêm.",
        IF_NOT_YOU,
        "Mỗi giờ Trung tâm gửi anh/chị nhiều nhất một thư loại này, kèm số lần nhập sai.",
    )


@dataclass(frozen=True, slots=True)
class ReportFacts:
    """What an impostor said of themselves, as a report records it (never the reporter)."""

    reference: str
    at: datetime
    matched: Sequence[str]  # which of the person's details the report names: "số điện thoại", ...
    claimed_name: str | None
    phone: str | None
    email: str | None
    channel: str


def report_names_you(name: str, code: str, facts: ReportFacts) -> Mail:
    claimed = [
        f"- Họ tên tự xưng: {facts.claimed_name}" if facts.claimed_name else "",
        f"- Số điện thoại đối tượng dùng: {facts.phone}" if facts.phone else "",
        f"- Email đối tượng dùng: {facts.email}" if facts.email else "",
        f"- Hình thức liên hệ: {facts.channel}",
    ]
    return _mail(
        f"[Cảnh báo] Một báo cáo mạo danh nêu thông tin của anh/chị ({facts.reference})",
        name,
        f"Trung tâm vừa nhận một báo cáo mạo danh (số {facts.reference}, lúc {_at(facts.at)}) "
        f"có nêu {' và '.join(facts.matched)} của anh/chị (mã cán bộ {code}).",
        "Người bị nghi mạo danh đã xưng:\n" + "\n".join(line for line in claimed if line),
        "Trung tâm đang xem xét báo cáo này. " + IF_NOT_YOU,
    )


@dataclass(frozen=True, slots=True)
class Check:
    agency: str
    at: datetime
    verdict: str


def digest(name: str, code: str, day: date, checks: Sequence[Check]) -> Mail:
    lines = [f"- {_at(c.at)}: {c.agency} (kết quả: {c.verdict})" for c in checks]
    return _mail(
        f"Các lượt kiểm tra thẻ của cán bộ {code} ngày {day:%d/%m/%Y}",
        name,
        f"Ngày {day:%d/%m/%Y}, {len(checks)} lượt kiểm tra thẻ hoặc giấy giới thiệu của anh/chị "
        f"(mã cán bộ {code}) trên hệ thống xác minh có ghi tên cơ quan (tên do người kiểm tra tự nhập):",
        "\n".join(lines),
        "Nếu anh/chị không làm việc với cơ quan nào trong danh sách vào ngày đó, có thể ai đó đang "
        "dùng thẻ của anh/chị. " + IF_NOT_YOU,
    )
