"""The demo's data: Centre staff with realistic names and units, the Centre's
official channels, and one letter of introduction.

The email address is the one the Board names in its letter on advanced examples
(seed 000) as the official mailbox for submissions. The phone number, mail domain and
web address are illustrative values for the embedded demo, not the Centre's real ones.
The letter sends editor TTTT-002 to the Department of Home Affairs of Khánh Hòa
(whose own letter, seed 001, asks its agencies to send advanced examples to the
Board's Special Issue)."""

from __future__ import annotations

from registry.channels.models import ChannelKind

UNIT = "Trung tâm Thông tin - Truyền thông, Ban Thi đua - Khen thưởng Trung ương"
DEMO_STAFF = [
    ("TTTT-001", "Nguyễn Văn Đức", "Phóng viên", UNIT, "0912 345 678", "duc.nv@tdkt.gov.vn"),
    (
        "TTTT-002",
        "Trần Thị Minh Hằng",
        "Biên tập viên, Đặc san Thi đua Khen thưởng",
        UNIT,
        "0987 654 321",
        "hang.ttm@tdkt.gov.vn",
    ),
    ("TTTT-003", "Lê Quang Huy", "Phóng viên ảnh", UNIT, "0903 111 222", "huy.lq@tdkt.gov.vn"),
    ("TTTT-004", "Phạm Thu Trang", "Phó Giám đốc Trung tâm", UNIT, "024 3843 1234", "trang.pt@tdkt.gov.vn"),
    (
        "TTTT-005",
        "Nguyễn Văn Đức",
        "Cộng tác viên, Trang Thông tin điện tử tổng hợp",
        UNIT,
        "0934 567 890",
        "duc.nv2@tdkt.gov.vn",
    ),
]
DEMO_CHANNELS = [
    (
        ChannelKind.EMAIL,
        "dienhinhtientien.tdkt@gmail.com",
        "Hộp thư nhận bài giới thiệu điển hình tiên tiến của Ban Thi đua - Khen thưởng Trung ương",
    ),
    (ChannelKind.PHONE, "024 3823 4567", "Đường dây nóng Trung tâm Thông tin - Truyền thông (số minh họa)"),
    (ChannelKind.DOMAIN, "tdkt.gov.vn", "Tên miền thư điện tử của Ban Thi đua - Khen thưởng Trung ương (minh họa)"),
    (
        ChannelKind.URL,
        "https://thiduakhenthuongvn.org.vn",
        "Cổng Thông tin điện tử Ban Thi đua - Khen thưởng Trung ương",
    ),
]
DEMO_STAFF_CODE = "TTTT-002"
DEMO_AGENCY = "Sở Nội vụ tỉnh Khánh Hòa"
DEMO_AGENCY_DOMAIN = "khanhhoa.gov.vn"
DEMO_PURPOSE = (
    "Phỏng vấn, viết bài giới thiệu điển hình tiên tiến trong phong trào thi đua yêu nước "
    "của tỉnh Khánh Hòa, đăng trên Đặc san Thi đua Khen thưởng"
)
DEMO_DAYS = 21  # three weeks: the interview, the draft and the agency's review
