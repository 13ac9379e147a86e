"""numpy's huge-page advice is off while numerics run, and as it was afterwards."""

import numpy as np
import pytest

from simulator.numerics.pages import small_pages

try:
    from numpy._core.multiarray import _set_madvise_hugepage
except ImportError:  # numpy 1.26
    from numpy.core.multiarray import _set_madvise_hugepage


@pytest.mark.parametrize("before", [True, False])
def test_small_pages_turns_huge_page_advice_off_and_back(before):
    previous = _set_madvise_hugepage(before)
    try:
        with small_pages():
            assert _set_madvise_hugepage(False) is False  # off inside
            assert np.ones((1024, 1024)).sum() == 2**20  # large arrays still work
        assert _set_madvise_hugepage(before) is before  # restored
    finally:
        _set_madvise_hugepage(previous)
