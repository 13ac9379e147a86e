"""The three errors accsim raises for bad input, each a one-line message a user can act on."""


class AccsimError(Exception):
    """Base of every error accsim reports to a user (the CLI prints it without a traceback)."""


class SpecError(AccsimError):
    """A YAML file, inline spec or override is malformed: names the file, key path and line."""


class CapacityError(AccsimError):
    """Something does not fit where the mapping puts it (a tile in a buffer, a tensor in DRAM)."""


class UnsupportedError(AccsimError):
    """An op or precision a unit cannot run: names the unit, the op and what it supports."""
