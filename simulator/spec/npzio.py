"""Read a user's .npz arrays once, at the boundary: a file that is not an .npz, or holds object,
text or non-finite arrays, is a one-line SpecError naming the file (and array)."""

import zipfile
from pathlib import Path

import numpy as np

from simulator.errors import SpecError


def load_arrays(path: Path) -> dict[str, np.ndarray]:
    """Every array of the .npz at `path`, each numeric (bool, int or float) with finite values."""
    try:
        with np.load(path, allow_pickle=False) as data:
            arrays = {name: data[name] for name in data.files}
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as error:
        reason = " ".join(str(error).split())[:200] or type(error).__name__
        raise SpecError(f"{path}: not a readable .npz of numeric arrays: {reason}") from None
    if not isinstance(arrays, dict):  # np.load of a plain .npy gives one array
        raise SpecError(f"{path}: not an .npz archive")
    for name, array in arrays.items():
        if not isinstance(array, np.ndarray):  # a zip member that is not a .npy array
            raise SpecError(f"{path}: member {name!r} is not a numpy array")
        if array.dtype.kind not in "biuf":
            raise SpecError(f"{path}: array {name!r} holds {array.dtype} values, not numbers")
        if array.dtype.kind == "f" and not np.all(np.isfinite(array)):
            raise SpecError(f"{path}: array {name!r} holds infinite or NaN values")
    return arrays
