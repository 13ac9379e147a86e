"""The three errors accsim raises for bad input, each a one-line message a user can act on."""


class AccsimError(Exception):
    """Base of every error accsim reports to a user (the CLI prints it without a traceback)."""


class SpecError(AccsimError):
    """A YAML file, inline spec or override is malformed: names the file, key path and line."""


class CapacityError(AccsimError):
    """Something does not fit where the mapping puts it (a tile in a buffer, a tensor in DRAM)."""


class UnsupportedError(AccsimError):
    """An op or precision a unit cannot run: names the unit, the op and what it supports."""


def expect(value, kinds: type | tuple, what: str) -> None:
    """A library call's argument of the kind it reads, else a one-line UnsupportedError naming
    the argument, the kinds it takes and what came (a str where a Report goes; True is no number)."""
    kinds = kinds if isinstance(kinds, tuple) else (kinds,)
    if not isinstance(value, kinds) or (isinstance(value, bool) and bool not in kinds):
        names = " or ".join(kind.__name__ for kind in kinds)
        raise UnsupportedError(f"{what}: expected {names}, got {type(value).__name__}")
