"""The sandbox's query-language subset, and the client's string quoting that feeds it."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ledgerbridge.targets.qbo.faults import quote, select_where
from sandbox.qbo.faults import QboFault
from sandbox.qbo.query import Condition, parse, run

DOCS: list[dict[str, Any]] = [
    {
        "Id": "2",
        "DisplayName": "Zeta",
        "Active": True,
        "Balance": Decimal("10.5"),
        "ParentRef": {"value": "9"},
        "MetaData": {"LastUpdatedTime": "2026-01-02T00:00:00+00:00"},
    },
    {
        "Id": "10",
        "DisplayName": "alpha",
        "Active": False,
        "Balance": Decimal("0"),
        "MetaData": {"LastUpdatedTime": "2026-01-03T00:00:00+00:00"},
    },
    {
        "Id": "3",
        "DisplayName": "Beta's",
        "Active": True,
        "Balance": Decimal("99"),
        "MetaData": {"LastUpdatedTime": "2026-01-01T00:00:00+00:00"},
    },
]
FIELDS = frozenset({"Id", "DisplayName", "Active", "Balance", "ParentRef", "MetaData.LastUpdatedTime"})


def ids(statement: str, hide_inactive: bool = False) -> list[str]:
    page, _ = run(parse(statement), DOCS, FIELDS, hide_inactive)
    return [d["Id"] for d in page]


def test_parse_the_full_shape() -> None:
    sel = parse(
        "SELECT * FROM Customer WHERE DisplayName = 'a' AND Balance >= 10 AND Id IN ('1', '2') "
        "ORDERBY DisplayName DESC, Id STARTPOSITION 3 MAXRESULTS 1000"
    )
    assert sel.entity == "Customer" and not sel.count
    assert sel.where == [
        Condition("DisplayName", "=", ["a"]),
        Condition("Balance", ">=", [Decimal("10")]),
        Condition("Id", "in", ["1", "2"]),
    ]
    assert sel.order == [("DisplayName", True), ("Id", False)]
    assert (sel.start, sel.max_results) == (3, 1000)
    with pytest.raises(QboFault, match="Max allowed value is 1000") as refused:  # refused, not capped
        parse("select * from Item maxresults 1001")
    assert refused.value.code == "4001"
    assert parse("select count(*) from Invoice").count
    assert parse("select * from Item").max_results == 100  # QBO's default page


def test_filters_and_ordering() -> None:
    assert ids("select * from C where DisplayName = 'ALPHA'") == ["10"]  # names compare without case
    assert ids(r"select * from C where DisplayName = 'beta\'s'") == ["3"]
    assert ids("select * from C where Balance > 5 orderby Balance desc") == ["3", "2"]
    assert ids("select * from C orderby Id") == ["2", "3", "10"]  # Ids sort as numbers
    assert ids("select * from C where DisplayName like '%ta%'") == ["2", "3"]
    assert ids("select * from C where ParentRef = '9'") == ["2"]  # a reference compares by its value
    assert ids("select * from C where MetaData.LastUpdatedTime >= '2026-01-02' orderby MetaData.LastUpdatedTime") == [
        "2",
        "10",
    ]
    assert ids("select * from C orderby DisplayName", hide_inactive=True) == ["3", "2"]
    assert ids("select * from C where Active = false", hide_inactive=True) == ["10"]
    assert ids("select * from C orderby Id startposition 2 maxresults 1") == ["3"]


@pytest.mark.parametrize(
    "statement",
    [
        "select * from C where A = 'x' or B = 'y'",
        "select Id, from C",
        "delete from C",
        "select * from C where",
        "select * from C where Id = 'unterminated",
        "select * from C orderby",
        "select * from C maxresults -1",
        "select * from C join D",
    ],
)
def test_refused_statements(statement: str) -> None:
    with pytest.raises(QboFault) as caught:
        parse(statement)
    assert caught.value.code == "4000"


def test_unfilterable_field_is_refused() -> None:
    with pytest.raises(QboFault) as caught:
        ids("select * from C where PrimaryEmailAddr = 'x'")
    assert caught.value.code == "4001"


@given(st.text(min_size=1, max_size=60))
def test_quoted_names_survive_the_round_trip(name: str) -> None:
    sel = parse(select_where("Customer", {"DisplayName": name}))
    assert sel.where == [Condition("DisplayName", "=", [name])]


def test_select_where_refuses_odd_names() -> None:
    with pytest.raises(ValueError):
        select_where("Customer where 1=1 --", {"DisplayName": "x"})
    assert quote("O'Brien \\ Sons") == r"'O\'Brien \\ Sons'"


@pytest.mark.parametrize(
    ("statement", "fields"),
    [("select * from C", []), ("select *, Sku from C", []), ("select Id, Name from C", ["Id", "Name"])],
)
def test_projections_are_parsed(statement: str, fields: list[str]) -> None:
    assert parse(statement).fields == fields
