"""numpy's large arrays on ordinary pages while numerics run: huge pages cost them more than
they give."""

import contextlib
import importlib


@contextlib.contextmanager
def small_pages():
    """numpy asks the kernel for transparent huge pages for every array of 4 MiB or more; where
    the kernel compacts memory to find one at the first touch (THP defrag `madvise`, a common
    default), fresh arrays cost system time far beyond their arithmetic (2048^3 fp16 with
    numerics: 0.6-1.0 s of system CPU, 0.05 s on small pages), and operands, accumulators and
    check blocks are mostly touched a few times each. numpy's switch for it is private (numpy
    1.26: numpy.core, 2.x: numpy._core); without one, nothing changes."""
    switch = None
    for module in ("numpy._core.multiarray", "numpy.core.multiarray"):
        with contextlib.suppress(ImportError, AttributeError):
            switch = importlib.import_module(module)._set_madvise_hugepage
            break
    if switch is None:
        yield
        return
    previous = switch(False)
    try:
        yield
    finally:
        switch(previous)
