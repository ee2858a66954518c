"""The column-at-a-time judge (judging.judge_rows) against the plain way: pydantic over each row
on its own. Whatever the cells, both accept the same rows with the same values and reject the
same rows with the same faults, word for word."""

from __future__ import annotations

import csv
import io
import json
from datetime import date
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from services.intake.violator_lists.judging import DEFAULTS, ROW, judge_rows
from services.intake.violator_lists.parsing import ReadRows, read_csv, read_json
from services.intake.violator_lists.schemas import LIST_COLUMNS, RejectedRow
from shared.errors import FieldProblem, field_name

TODAY = date(2026, 11, 30)
RULES = {"CR1964-22", "CR1964-18"}
EXAMPLES = settings(
    max_examples=150,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


def plain_verdicts(
    rows: ReadRows,
) -> tuple[list[tuple[int, dict[str, Any]]], list[RejectedRow]]:
    """Each row validated by pydantic alone, then its rule and its date."""
    problems = {number: list(faults) for number, faults in rows.problems.items()}
    accepted = []
    for index, number in enumerate(rows.numbers):
        try:
            row = {**DEFAULTS, **ROW.validate_python(rows.row(index))}
        except ValidationError as exc:
            problems[number] = [
                FieldProblem(field=field_name(error["loc"] or ["row"]), message=error["msg"])
                for error in exc.errors(include_url=False, include_context=False)
            ]
            continue
        faults = []
        if row["rule"] not in RULES:
            faults.append(
                FieldProblem(field="rule", message=f"'{row['rule']}' is not in the rules catalogue")
            )
        if row["found_on"] > TODAY:
            faults.append(
                FieldProblem(field="found_on", message=f"is after today ({TODAY.isoformat()})")
            )
        if faults:
            problems[number] = faults
        else:
            accepted.append((number, {name: row[name] for name in LIST_COLUMNS}))
    rejected = [
        RejectedRow(row=number, errors=faults) for number, faults in sorted(problems.items())
    ]
    return accepted, rejected


def texts(longest: int) -> st.SearchStrategy[str]:
    """Cells around a text column's limits, and whitespace pydantic and str.strip disagree on."""
    return st.one_of(
        st.sampled_from(
            ["Dr. Ayesha Khan", "", " ", "  padded ", "a\x1f", "\x1ca", "a\xa0", "x" * longest]
        ),
        st.sampled_from(["x" * (longest + 1), " " + "x" * longest, "اردو\u2028"]),
        # NUL refuses a CSV whole, and reading JSON turns it away before judging.
        st.text(st.characters(exclude_characters="\x00", exclude_categories=["Cs"]), max_size=6),
    )


COLUMN_CELLS: dict[str, st.SearchStrategy[str]] = {
    "employee_ref": texts(64),
    "name": texts(200),
    "designation": texts(200),
    "office": texts(200),
    "rule": st.sampled_from(["CR1964-22", "CR1964-18", "CR1964-99", " CR1964-22", ""]),
    "platform": st.sampled_from(["x", "other", "X", " x", "myspace", ""]),
    "finding": texts(2000),
    "found_on": st.sampled_from(
        ["2026-01-01", "2026-11-30", "2026-12-01", "2026-02-30", "20260101", "2026-01-01T00:00:00"]
        + ["30/11/2026", " 2026-01-01", "0000-01-01", "", "２０２６-01-01"]
    ),
    "institution_finding_ref": texts(64),
    "notice_and_reply_on_record": st.sampled_from(
        ["true", "false", "", "TRUE", "yes", "0", "1", "perhaps", " true"]
    ),
}
# JSON rows may hold what CSV cannot: numbers, true and false, null, and keys lists do not have.
JSON_CELLS: st.SearchStrategy[Any] = st.one_of(
    st.none(), st.booleans(), st.integers(-1, 2), st.just(1.0), st.just("x")
)

csv_rows = st.lists(st.fixed_dictionaries(COLUMN_CELLS), max_size=12)


@EXAMPLES
@given(csv_rows)
def test_a_csv_list_is_judged_as_pydantic_judges_each_row(rows: list[dict[str, str]]) -> None:
    buffer = io.StringIO(newline="")
    writer = csv.DictWriter(buffer, fieldnames=LIST_COLUMNS)
    writer.writeheader()
    writer.writerows(rows)
    read = read_csv(buffer.getvalue().encode(), max_rows=100)

    verdicts = judge_rows(read, known_rules=RULES, today=TODAY)

    assert (verdicts.accepted, verdicts.rejected) == plain_verdicts(read)


@EXAMPLES
@given(
    st.lists(
        st.tuples(
            st.fixed_dictionaries(COLUMN_CELLS),
            st.dictionaries(st.sampled_from([*LIST_COLUMNS, "status"]), JSON_CELLS, max_size=2),
            st.sets(st.sampled_from(LIST_COLUMNS), max_size=2),
        ),
        max_size=12,
    )
)
def test_a_json_list_is_judged_as_pydantic_judges_each_row(
    rows: list[tuple[dict[str, str], dict[str, Any], set[str]]],
) -> None:
    objects = [
        {name: value for name, value in {**cells, **other}.items() if name not in left_out}
        for cells, other, left_out in rows
    ]
    _, read = read_json(json.dumps({"batch_key": "k", "rows": objects}).encode(), max_rows=100)

    verdicts = judge_rows(read, known_rules=RULES, today=TODAY)

    assert (verdicts.accepted, verdicts.rejected) == plain_verdicts(read)


def test_a_clean_list_never_needs_pydantic(monkeypatch: Any) -> None:
    """The fast path is the path: a list as an institution's system writes it is judged with
    no row handed to pydantic."""
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer)
    writer.writerow(LIST_COLUMNS)
    for n in range(1, 101):
        writer.writerow(
            [f"EMP-{n}", "Dr. A Khan", "Professor", "" if n % 2 else "Ward 7, DHQ", "CR1964-22"]
            + ["x" if n % 3 else "", "Posted remarks.", "2026-03-01", f"INQ/{n}"]
            + ["true" if n % 5 else ""]
        )
    read = read_csv(buffer.getvalue().encode(), max_rows=1000)

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("a clean row was handed to pydantic")

    monkeypatch.setattr(ROW, "validate_python", refuse)
    verdicts = judge_rows(read, known_rules=RULES, today=TODAY)

    assert len(verdicts.accepted) == 100 and verdicts.rejected == []
    rows = dict(verdicts.accepted)
    assert rows[1]["office"] is None and rows[2]["office"] == "Ward 7, DHQ"
    assert rows[3]["platform"] == "other" and rows[1]["platform"] == "x"
    assert rows[5]["notice_and_reply_on_record"] is False
    assert rows[1]["notice_and_reply_on_record"] is True
    assert rows[1]["found_on"] == date(2026, 3, 1)
