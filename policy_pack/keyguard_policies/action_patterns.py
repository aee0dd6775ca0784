"""IAM action patterns, matched the way IAM matches them: `*` stands for any run of characters
(none included), `?` for exactly one, every other character (`[`, `]`, `\\`, `.`...) only for
itself, and letters case-insensitively (ASCII letters only: IAM's action names are ASCII).
The one matcher every rule uses (the catalog's wildcard expansion, the escalation set, what a
document grants); `fnmatch` would read `[...]` as a character class, which IAM does not."""
from __future__ import annotations

import functools
import re

STAR, ONE = "*", "?"
_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")


def fold(text: str) -> str:
    """`text` with ASCII letters lowercased and nothing else changed (`str.lower` would also fold
    letters IAM does not, such as the Kelvin sign into `k`)."""
    return text.lower() if text.isascii() else text.translate(_ASCII_LOWER)


def is_pattern(text: str) -> bool:
    return STAR in text or ONE in text


@functools.lru_cache(maxsize=8192)
def compiled(pattern: str) -> re.Pattern:
    """A regular expression matching a folded name against the folded pattern."""
    return re.compile("".join(".*" if c == STAR else "." if c == ONE else re.escape(c) for c in fold(pattern)),
                      re.DOTALL)


def matches(pattern: str, name: str) -> bool:
    """Whether the whole of `name` matches `pattern`."""
    if STAR not in pattern and ONE not in pattern:
        return fold(pattern) == fold(name)
    return compiled(pattern).fullmatch(fold(name)) is not None


def literal_prefix(pattern: str) -> str:
    """The folded text before the first wildcard: every name the pattern matches starts with it."""
    folded = fold(pattern)
    cut = min((i for i in (folded.find(STAR), folded.find(ONE)) if i != -1), default=len(folded))
    return folded[:cut]
