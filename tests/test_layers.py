"""Imports flow one way: spec -> components -> mapping -> engine -> report -> api -> studies -> cli.

A module may import its own package and any package of a lower layer, never a higher one (imports
under `if TYPE_CHECKING:` are annotations only and do not count). A new top-level package gets a
layer here first.
"""

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "simulator"

LAYERS = {
    "errors": 0,
    "spec": 1,
    "tech": 1,
    "components": 2,
    "numerics": 2,
    "mapping": 3,
    "engine": 4,
    "report": 5,
    "system": 5.5,  # systems of chips: the chip's and the links' runs, composed
    "api": 6,
    "plots": 6,
    "sweep": 7.2,  # sweeps run serving points
    "serving": 7,
    "schema": 7.5,  # the file schemas: specs of every layer, sweeps included
    "cli": 8,
    "__init__": 9,
}
"""Top-level package or module of simulator/ -> its layer (higher imports lower)."""


def _runtime_imports(tree: ast.Module) -> list[str]:
    """Top-level packages of simulator/ named by `from simulator... import` outside
    `if TYPE_CHECKING:` blocks (`from simulator import tech` names tech)."""
    skipped = {
        id(inner)
        for node in ast.walk(tree)
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test)
        for inner in ast.walk(node)
    }
    targets = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and id(node) not in skipped and node.module:
            parts = node.module.split(".")
            if parts[0] == "simulator":
                targets += [parts[1]] if len(parts) > 1 else [alias.name for alias in node.names]
    return targets


def _top(relative: Path) -> str:
    """simulator/spec/units.py -> spec, simulator/api.py -> api, simulator/__init__.py -> __init__."""
    return relative.parts[0].removesuffix(".py")


MODULES = sorted(PACKAGE.rglob("*.py"))


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_a_module_imports_only_its_own_layer_or_lower(path):
    own = _top(path.relative_to(PACKAGE))
    assert own in LAYERS, f"simulator/{own} has no layer in tests/test_layers.py"
    for target in _runtime_imports(ast.parse(path.read_text())):
        assert target in LAYERS, f"simulator.{target} has no layer"
        assert target == own or LAYERS[target] < LAYERS[own], (
            f"{path.relative_to(PACKAGE)} ({own}) imports simulator.{target}: upward"
        )
