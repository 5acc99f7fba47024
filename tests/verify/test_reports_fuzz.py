"""Property tests: whatever arrives, intake answers 201 or a 4xx with a field, never
a 500; the identifier normalisers never raise and are idempotent."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from helpers_reports import valid_report
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from verify.errors import ValidationError
from verify.reports.identifiers import normalize_account, normalize_identifiers, normalize_link
from verify.reports.validation import ALL_FIELDS, validate_report

pytestmark = pytest.mark.fuzz

NOW = datetime(2026, 11, 20, tzinfo=UTC)
values = st.one_of(
    st.none(),
    st.text(max_size=300),
    st.integers(min_value=-(10**20), max_value=10**20),
    st.floats(allow_nan=True),
    st.booleans(),
    st.lists(st.text(max_size=5), max_size=3),
    st.dictionaries(st.text(max_size=5), st.text(max_size=5), max_size=2),
)
field_names = st.one_of(st.sampled_from(ALL_FIELDS), st.text(min_size=1, max_size=20))


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(field_names, values, max_size=8))
def test_validation_raises_only_field_errors(overrides: dict[str, Any]) -> None:
    raw = valid_report(**overrides)
    try:
        data = validate_report(raw, now=NOW, strict=True)
    except ValidationError as exc:
        assert exc.code and exc.field and exc.message
        return
    assert data.request_text and data.reporter_agency and data.reporter_contact


@settings(max_examples=500, deadline=None)
@given(st.text(max_size=600))
def test_normalisers_never_raise_and_are_stable(text: str) -> None:
    account = normalize_account(text)
    if account is not None:
        assert normalize_account(account) == account
    link = normalize_link(text)
    if link is not None:
        assert normalize_link(link) == link
    normalize_identifiers(phone=text, email=text, account=text, link=text)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.dictionaries(field_names, values, max_size=6))
def test_api_never_answers_500(client: Any, overrides: dict[str, Any]) -> None:
    try:
        body = valid_report(**overrides)
        resp = client.post("/api/v1/reports", json=body)
    except ValueError:  # the float NaN cannot even be sent as JSON
        return
    assert resp.status_code in (201, 400), resp.get_data(as_text=True)
    if resp.status_code == 400:
        assert resp.get_json()["error"]["field"]
