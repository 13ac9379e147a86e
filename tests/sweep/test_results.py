"""Consolidating a sweep's journal: the table written equals the one pandas' own fill gives."""

import json

import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from simulator.sweep.results import STALL_PREFIX, _columns, _storable, consolidate, journal_path

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
    df = consolidate(output, parameters, {})
    pd.testing.assert_frame_equal(df, expected)
    written = output.with_name("expected.csv")
    _storable(expected).to_csv(written, index=False)
    assert output.read_bytes() == written.read_bytes()
