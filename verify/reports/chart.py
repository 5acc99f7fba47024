"""The dashboard's chart of reports received per week, drawn on the server as SVG:
the counts (weeks from Monday to Sunday, Viet Nam time) and the bars' geometry."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from keys.contract import VN_TZ
from verify.reports.models import Report

CHART_WEEKS = 26  # six months
CHART_WIDTH = 560
CHART_HEIGHT = 180
CHART_TOP = 12  # room for the top bar's count
CHART_BOTTOM = 24  # room for the date labels
CHART_LABEL_EVERY = 4  # a date under every fourth week keeps the labels apart at 360 px


@dataclass(frozen=True)
class Bar:
    start: datetime
    count: int
    x: float
    y: float
    width: float
    height: float
    label: bool
    anchor: str  # of the date label: the last one ends at the edge instead of overflowing it


def weekly_report_counts(session: Session, *, at: datetime, weeks: int = CHART_WEEKS) -> list[tuple[datetime, int]]:
    """Reports received per week (Monday to Sunday, Viet Nam time), oldest first, the
    current week last."""
    today = at.astimezone(VN_TZ).date()
    monday = today - timedelta(days=today.weekday())
    first = monday - timedelta(weeks=weeks - 1)
    start = datetime(first.year, first.month, first.day, tzinfo=VN_TZ)
    counts = [0] * weeks
    for created in session.scalars(select(Report.created_at).where(Report.created_at >= start)):
        index = (created.astimezone(VN_TZ).date() - first).days // 7
        if 0 <= index < weeks:
            counts[index] += 1
    return [(start + timedelta(weeks=i), counts[i]) for i in range(weeks)]


def chart_bars(weeks: list[tuple[datetime, int]]) -> tuple[list[Bar], int]:
    """Bar geometry in the SVG's own units; returns the bars and the scale's maximum."""
    top = max([c for _, c in weeks] + [1])
    slot = CHART_WIDTH / max(len(weeks), 1)
    usable = CHART_HEIGHT - CHART_TOP - CHART_BOTTOM
    bars = []
    for i, (start, count) in enumerate(weeks):
        height = usable * count / top
        bars.append(
            Bar(
                start=start,
                count=count,
                x=round(i * slot + slot * 0.15, 1),
                y=round(CHART_TOP + usable - height, 1),
                width=round(slot * 0.7, 1),
                height=round(height, 1),
                label=(len(weeks) - 1 - i) % CHART_LABEL_EVERY == 0,
                anchor="end" if i == len(weeks) - 1 else "middle",
            )
        )
    return bars, top
