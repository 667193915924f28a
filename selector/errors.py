"""The error hierarchy: every failure a user can cause is a SelectorError with an exit code."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pandas as pd


class SelectorError(Exception):
    """Root of every error `selector` raises on purpose; the CLI catches it once.

    Attributes:
        code: a stable short reason that tests and scripts can match.
        exit_code: the process exit code the CLI uses (SPEC: 2 bad input, 3 impossible rules).
    """

    exit_code = 1

    def __init__(self, message: str, code: str = "error") -> None:
        super().__init__(message)
        self.message = message
        self.code = code


class InputError(SelectorError):
    """A file cannot be read or used as given (missing, empty, binary, wrong format)."""

    exit_code = 2


class CaseloadValidationError(InputError):
    """The caseload or contacts break the contract; `failures` lists every problem found."""

    def __init__(self, message: str, failures: pd.DataFrame) -> None:
        super().__init__(message, code="invalid_caseload")
        self.failures = failures


class RulesError(InputError):
    """A rules file is broken or contradictory."""


class InfeasibleSelectionError(SelectorError):
    """No cohort meets the hard rules; `conflicts` names the rules that cannot hold together."""

    exit_code = 3

    def __init__(self, message: str, conflicts: tuple[str, ...] = ()) -> None:
        super().__init__(message, code="infeasible")
        self.conflicts = conflicts


class SolverError(SelectorError):
    """The solver returned no answer (time limit before any cohort, or an invalid model)."""

    exit_code = 1
