"""How a run's seed is made, so that nobody can choose or foresee the draw alone.

- `random`: drawn from the operating system's secure random source when the run starts, and
  recorded (the default): nobody knows it before the run, and the run can be repeated with it.
- `phrase`: derived from a phrase together with the caseload's and the rules' SHA-256, so that
  a phrase given after the list is fixed (by the inspectors, or public numbers drawn later, as
  RFC 3797 does) fixes a draw that neither side could choose or foresee, and anyone can check.
- `given`: fixed by the user, for tests and for repeating a run; anyone with the list, the rules
  and the seed can then work out the draw in advance.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from typing import Any

SEED_LIMIT = 2**31  # the solver takes a 31-bit seed
SEED_SOURCES = ("random", "phrase", "given")


def random_seed() -> int:
    """A seed from the operating system's secure random source."""
    return secrets.randbelow(SEED_LIMIT)


def rules_sha256(rules: dict[str, Any]) -> str:
    """The SHA-256 of the rules as plain data (keys sorted, no spaces): the same rules give the
    same hash however a file wrote them."""
    return hashlib.sha256(json.dumps(rules, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


def seed_from_phrase(phrase: str, caseload_sha256: str, rules_hash: str) -> int:
    """The seed a phrase gives with this caseload and these rules: the first 8 bytes of
    SHA-256("phrase" LF caseload SHA-256 LF rules SHA-256), as a number, modulo 2^31.

    >>> seed_from_phrase("14 27 31 40 45 / 2026-12-03", "ab" * 32, "cd" * 32)
    1967925459
    """
    digest = hashlib.sha256(f"{phrase}\n{caseload_sha256}\n{rules_hash}".encode()).digest()
    return int.from_bytes(digest[:8], "big") % SEED_LIMIT
