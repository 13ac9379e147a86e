"""The three errors accsim raises for bad input, each a one-line message a user can act on."""

import re


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


_CONSONANT_SOUND = (
    "uint",
    "uni",
    "usa",
    "use",
    "usu",
    "uti",
    "ura",
    "ure",
    "uri",
    "eu",
    "one",
    "once",
)
"""Words starting with a vowel letter but a consonant sound: a uint8, a unit, a oneDNN kernel."""

_LETTER_NAMES = re.compile(r"[A-Z]{2,}(?![a-z])|[^\Waeiouy\d_]+(?=\d)|[A-Za-z](?![A-Za-z])")
"""Words read letter by letter: initialisms (SRAM, HBM), vowelless type names before a width
(fp16, bf16) and single letters (x, M)."""


def a_or_an(word) -> str:
    """`word` after its indefinite article, chosen by sound: an energy, an alloc, an fp16, an SRAM,
    an 8 x 8, an 18 x 4, but a size, a uint8, a bf16 and a 110."""
    text = str(word)
    head = text.lstrip("'\"`(").replace(",", "")
    digits = re.match(r"\d*", head).group()
    if digits:  # eight..., eleven or eighteen (thousand, million, ...)
        vowel = digits[0] == "8" or (digits[:2] in ("11", "18") and len(digits) % 3 == 2)
    elif _LETTER_NAMES.match(head):  # eff, aitch, ell, em, en, ess, ex ... sound a vowel first
        vowel = head[0].lower() in "aefhilmnorsx"
    else:
        lower = head.lower()
        vowel = lower[:1] in ("a", "e", "i", "o", "u") and not lower.startswith(_CONSONANT_SOUND)
    return f"{'an' if vowel else 'a'} {text}"
