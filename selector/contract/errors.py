"""The error hierarchy: every failure a user can cause is a SelectorError with an exit code.

Each error says what is wrong (`message`), where (`where`: a file, row or key, when known) and
how to fix it (`fix`), in the domain's words; front ends add their own hint for a `code` (a
command-line flag, a form field) and catch SelectorError once.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pandas as pd


# How one file's several problems are said: the count, then one problem a line (the page lists them).
PROBLEM_LINE = "\n  - "


def problems_said(source: str, what: str, problems: list[str]) -> str:
    """A file's problems in one message: the one alone, or how many, then one a line.

    >>> problems_said("m.toml", "the mapping", ["line 2: a"]), problems_said("r.toml", "the rules", ["a", "b"])
    ('m.toml: line 2: a', 'r.toml: 2 problems in the rules:\\n  - a\\n  - b')
    """
    if len(problems) == 1:
        return f"{source}: {problems[0]}"
    return f"{source}: {len(problems)} problems in {what}:{PROBLEM_LINE}" + PROBLEM_LINE.join(problems)


class SelectorError(Exception):
    """Root of every error `selector` raises on purpose; the front ends catch it once.

    Attributes:
        message: what is wrong, with where and how to fix it when known.
        code: a stable short reason that tests, scripts and front ends can match.
        where: the file, row, column or key concerned ("" when it is the whole run).
        fix: how to fix it ("" when the message already says).
        exit_code: the process exit code (2 bad input, 3 impossible rules, 1 anything else).
    """

    exit_code = 1

    def __init__(self, message: str, code: str = "error", *, where: str = "", fix: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.where = where
        self.fix = fix

    def explained(self, hint: str | None = None) -> str:
        """The message with how to fix it: a front end's own `hint` (a flag, a field) when it has
        one for this error, else the domain's `fix`."""
        advice = hint or self.fix
        return f"{self.message}\n{advice}" if advice else self.message


class InputError(SelectorError):
    """A file cannot be read or used as given (missing, empty, binary, wrong format)."""

    exit_code = 2


class CaseloadValidationError(InputError):
    """The caseload or contacts break the contract; `failures` lists every problem found."""

    def __init__(self, message: str, failures: pd.DataFrame) -> None:
        super().__init__(message, code="invalid_caseload")
        self.failures = failures


class RulesError(InputError):
    """A rules file is broken or contradictory; `problems` lists every one found (with lines)."""

    def __init__(self, message: str, code: str = "bad_rules", *, problems: tuple[str, ...] = (),
                 where: str = "", fix: str = "") -> None:
        super().__init__(message, code, where=where, fix=fix)
        self.problems = problems or (message,)


class RunRecordError(InputError):
    """A run folder's run.json is missing, damaged or hand-edited into something unusable."""


class InfeasibleSelectionError(SelectorError):
    """No cohort meets the hard rules; `conflicts` names the rules that cannot hold together."""

    exit_code = 3

    def __init__(self, message: str, conflicts: tuple[str, ...] = (), code: str = "infeasible",
                 fix: str = "") -> None:
        super().__init__(message, code=code, fix=fix)
        self.conflicts = conflicts


def cohort_too_large(said: str, most: int, held_back: bool) -> InfeasibleSelectionError:
    """Fewer children can be chosen than the cohort holds (`most` of them), said the same by the
    application before the choice and by the search's own check: with children `held_back`
    (excluded, without a contact, declined) check those; with none, only a smaller cohort helps."""
    if held_back:
        return InfeasibleSelectionError(said, ("cohort size",), code="too_few_candidates",
                                        fix="Choose a smaller cohort, or check the exclude and contact columns.")
    return InfeasibleSelectionError(said, ("cohort size",), code="caseload_too_small",
                                    fix=f"Check that the list is the whole caseload, or choose a cohort of at most "
                                        f"{most}.")


class SolverError(SelectorError):
    """The solver returned no answer (time limit before any cohort, or an invalid model)."""

    exit_code = 1


class Interrupted(BaseException):
    """The user or the system asked the process to stop (Ctrl+C, a polite kill, a closed terminal).

    A BaseException, so that no `except Exception` swallows it: it unwinds every staging folder
    and upload on its way out, and the front end exits 128 + the signal's number.
    """

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum
        # The one line the front end says, when the code stopped knows better than "stopped
        # before finishing" (a server, whose stop is how it ends); None: that general line.
        self.said: str | None = None

    @property
    def exit_code(self) -> int:
        return 128 + self.signum
