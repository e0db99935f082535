"""Landing drops validation's refused rows from the file's Arrow table: by zero-copy slices when they are
few, by a filter when they are many; the rows kept and their order are the same either way."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest

from payrecon.ingestion import landing
from payrecon.ingestion.landing import without_rows


def _table(n: int) -> pa.Table:
    return pa.table({"line_no": pa.array(np.arange(n), pa.int64()), "ref": pa.array([f"r{i}" for i in range(n)])})


@pytest.mark.parametrize(
    "positions",
    [[], [0], [9], [0, 9], [3, 4, 5], [5, 2, 5], list(range(10)), [1, 3, 5, 7]],
)
def test_the_rows_left_are_every_other_row_in_order(positions: list[int]) -> None:
    table = _table(10)
    out = without_rows(table, np.asarray(positions, dtype=np.int64))
    assert out.column("line_no").to_pylist() == [i for i in range(10) if i not in set(positions)]
    assert out.schema == table.schema


def test_a_few_refused_rows_are_sliced_around_without_copying(monkeypatch: pytest.MonkeyPatch) -> None:
    table = _table(1000)
    out = without_rows(table, np.asarray([10, 500]))
    assert out.num_rows == 998
    # the kept rows still live in the original buffers: nothing was copied
    original = table.column("ref").chunk(0).buffers()[2].address
    assert all(chunk.buffers()[2].address == original for chunk in out.column("ref").chunks)


def test_many_refused_rows_are_filtered_into_one_chunk(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(landing, "SLICE_AROUND_MAX", 3)
    table = _table(10)
    out = without_rows(table, np.asarray([1, 2, 3, 8]))
    assert out.column("line_no").to_pylist() == [0, 4, 5, 6, 7, 9]
    assert out.column("ref").num_chunks == 1
