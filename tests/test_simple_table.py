"""The tables written piece by piece (grade's table, impact's units) lay out as tabulate's "simple" format does."""
from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st
from tabulate import tabulate

from engine.rendering.render import SimpleTable

CELL = st.text(alphabet=st.sampled_from(list("abc xyzĐđƯươạếỹ0123456789.,;→-")), max_size=12).map(str.strip)


@settings(max_examples=200, deadline=None)
@given(st.integers(min_value=1, max_value=5).flatmap(
    lambda width: st.tuples(st.lists(CELL.filter(bool), min_size=width, max_size=width),
                            st.lists(st.lists(CELL, min_size=width, max_size=width), min_size=1, max_size=6))))
def test_a_table_measured_then_written_is_tabulates_simple_table(table):
    names, rows = table
    simple = SimpleTable(names)
    for row in rows:
        simple.observe(row)
    written = simple.head() + "".join(simple.row(row) for row in rows)
    assert written == tabulate(rows, headers=names, tablefmt="simple", disable_numparse=True) + "\n"
