"""Consolidating a sweep's journal: the table written equals the one pandas' own fill gives."""

import json

import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from simulator.sweep.pareto import marked_front
from simulator.sweep.point import STALL_PREFIX
from simulator.sweep.results import _columns, _storable, consolidate, journal_path
from simulator.sweep.table import ResultsTable

STALLS = [f"{STALL_PREFIX}{cause}" for cause in ("dram", "sync", "buffer_full")]
VALUES = st.one_of(
    st.none(), st.just(float("nan")), st.integers(0, 10**12), st.floats(0, 1e9), st.just(0)
)


@st.composite
def journal_rows(draw) -> list[dict]:
    """Rows as workers journal them: ok rows with some stall causes left out (the summary leaves
    out zero causes), failed rows with none, a metric of mixed types now and then."""
    rows = []
    for point in range(draw(st.integers(1, 8))):
        status = draw(st.sampled_from(["ok", "ok", "failed", "crashed"]))
        row = {"point": point, "key": f"k{point}", "status": status, "error": None}
        row["arch.components.sram.capacity"] = draw(st.sampled_from(["512 KiB", "2 MiB"]))
        if status == "ok":
            row["cycles"] = draw(st.integers(1, 10**9))
            for column in STALLS:
                if draw(st.booleans()):
                    row[column] = draw(VALUES)
            if draw(st.booleans()):
                row["note"] = draw(st.sampled_from(["x", 3, [1, 2], {"a": 1}]))
        else:
            row["error"] = "no tile fits"
        rows.append(row)
    return rows


def pandas_fill(rows: list[dict], parameters: list[str]) -> pd.DataFrame:
    """The table as pandas fills it: missing stall causes of ok rows set by fillna(0)."""
    rows = sorted(rows, key=lambda r: (int(r["point"]), str(r["key"])))
    df = pd.DataFrame(rows, columns=_columns(rows, parameters))
    stalls = [c for c in df.columns if c.startswith(STALL_PREFIX)]
    ok = df["status"] == "ok"
    df.loc[ok, stalls] = df.loc[ok, stalls].fillna(0)
    return df


@settings(max_examples=80, deadline=None)
@given(rows=journal_rows())
def test_consolidated_table_equals_pandas_fill(tmp_path_factory, rows):
    output = tmp_path_factory.mktemp("sweep") / "out.csv"
    parameters = ["arch.components.sram.capacity"]
    expected = pandas_fill([dict(row) for row in rows], parameters)
    journal_path(output).write_text("".join(json.dumps(row) + "\n" for row in rows))
    df = consolidate(output, parameters, {}).frame
    pd.testing.assert_frame_equal(df, expected)
    written = output.with_name("expected.csv")
    _storable(expected).to_csv(written, index=False)
    assert output.read_bytes() == written.read_bytes()


CELLS = st.one_of(
    st.none(),
    st.just(float("nan")),
    st.booleans(),
    st.integers(-(2**64), 2**65),
    st.integers(-5, 5),
    st.floats(allow_nan=False),
    st.sampled_from([0.0, -0.0, 1e16, 1e-5, 0.1, 2.5, float("inf")]),
    st.text(max_size=4),
    st.sampled_from(["", "a,b", 'say "x"', "two\nlines"]),
    st.lists(st.integers(0, 3), max_size=2),
    st.dictionaries(st.sampled_from(["a", "b"]), st.integers(0, 3), max_size=2),
)
COLUMNS = ["cycles", "energy_pj", "note", *STALLS]
COLUMN = st.sampled_from(COLUMNS)
KINDS = {
    "number": st.one_of(
        st.none(), st.just(float("nan")), st.integers(-9, 10**6), st.floats(-1e3, 1e9)
    ),
    "int": st.integers(-(2**63), 2**63 - 1),
    "any": CELLS,
}


@st.composite
def any_rows(draw) -> list[dict]:
    """Rows of any JSON values: each column draws its values from one kind (so the columns that
    mirror pandas' dtypes, numbers and ints, are common) or from every kind."""
    kinds = {column: draw(st.sampled_from(list(KINDS))) for column in COLUMNS}
    rows = []
    for point in range(draw(st.integers(1, 7))):
        status = draw(st.sampled_from(["ok", "ok", "failed"]))
        row = {"point": point, "key": f"k{point}", "status": status, "error": None}
        for column in draw(st.lists(COLUMN, max_size=6, unique=True)):
            row[column] = draw(KINDS[kinds[column]])
        rows.append(row)
    return rows


def pandas_csv(rows: list[dict], parameters: list[str], objectives: dict) -> bytes:
    """The CSV as pandas writes it: the table pandas infers, stall causes filled with 0 in ok
    rows, the Pareto column where every objective is a column."""
    df = pd.DataFrame(rows, columns=_columns(rows, parameters))
    ok = df["status"] == "ok"
    for column in (c for c in df.columns if c.startswith(STALL_PREFIX)):
        gaps = ok & df[column].isna()
        if gaps.any():
            df.loc[gaps, column] = 0
    if objectives and set(objectives) <= set(df.columns):
        df["pareto"] = False
        if ok.any():
            df.loc[marked_front(df[ok], objectives).index, "pareto"] = True
    return _storable(df).to_csv(index=False).encode()


@settings(max_examples=300, deadline=None)
@given(
    rows=any_rows(),
    objectives=st.dictionaries(COLUMN, st.sampled_from(["min", "maximize"]), max_size=2),
)
def test_csv_text_is_the_bytes_pandas_writes(rows, objectives):
    """The plain columns' CSV equals pandas' whole-table write, or the table goes through pandas
    (ints beyond int64, text stall causes, objectives pandas must coerce)."""
    table = ResultsTable(rows, _columns(rows, []), objectives)
    try:
        expected = pandas_csv(rows, [], objectives)
    except TypeError:  # pandas refuses a 0 in a text column: consolidate raises it too
        assert table.csv_text() is None
        return
    assert (table.csv_text() is None) == (not mirrored(rows, objectives))
    if table.csv_text() is not None:
        assert table.csv_text().encode() == expected


def mirrored(rows: list[dict], objectives: dict) -> bool:
    """Whether the plain columns mirror pandas here: ints within int64, and where ok rows are
    ranked, every objective's column numbers (an absent value is NaN; None alone makes an object
    column)."""
    values = [v for row in rows for v in row.values()]
    if any(type(v) is int and not -(2**63) <= v < 2**63 for v in values):
        return False
    ranked = set(objectives) <= set(_columns(rows, [])) and any(r["status"] == "ok" for r in rows)
    for column in objectives if ranked else ():
        cells = [row.get(column, float("nan")) for row in rows]
        if any(type(v) not in (int, float, type(None)) for v in cells):
            return False
        if all(v is None for v in cells):
            return False
    return True


def test_front_table_prints_objectives_in_their_units():
    """energy_pj in J, cycles whole, area in mm²; a size's _bytes twin is not a column."""
    from rich.console import Console

    from simulator.sweep.tables import front_table

    results = pd.DataFrame(
        {
            "status": ["ok", "ok"],
            "arch.components.sram.capacity": ["2 MiB", "512 KiB"],
            "arch.components.sram.capacity_bytes": [2097152, 524288],
            "energy_pj": [1.5e9, 2.5e9],
            "cycles": [1234567.0, 1000.0],
            "area_mm2": [3.25, 1.5],
            "pareto": [True, True],
        }
    )
    console = Console(width=200, record=True)
    console.print(front_table(results, {"energy_pj": "minimize", "cycles": "minimize"}))
    text = console.export_text()
    assert "1.5 mJ" in text and "2.5 mJ" in text and "1,234,567" in text
    assert "capacity_bytes" not in text and "2 MiB" in text
