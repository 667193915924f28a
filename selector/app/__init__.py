"""The application layer: every use case once, as functions taking typed requests and returning
typed results. The command line, the web page and batch runs call these and nothing below them
(apart from the contract).

One module per use case: loading (reading, profiling), selection, replace, consent, auditing,
verify, week (the web page's week of calls), samples and batch.

This face imports nothing itself: each name is loaded from its module when first used (PEP 562),
so that `selector --help` costs no pandas and `select` no audit, batch or web machinery.
"""

from __future__ import annotations

import importlib
from typing import Any

from .. import __version__
from ..contract import stops

# Where each name of the face lives: a module (relative to this package), or a module and the
# name it has there. No module of this package may share a name with the face (importing
# `.load` would make `app.load` the module, not the function).
_FROM: dict[str, str | tuple[str, str]] = {
    "InputError": "..contract.errors", "SelectorError": "..contract.errors",
    "DEFAULT_RULES": "..contract.rules", "Rules": "..contract.rules",
    "LOTTERY_WORK": "..contract.defaults",
    "DEFAULT_MAPPING_TOML": "..io.mapping", "ReadOptions": "..io.options",
    "in_words": "..report.content", "dimension_name": ("..report.content", "label"), "kept_claim": "..report.content",
    "rule_in_words": "..report.content", "slack_claim": "..report.content", "dropped_in_words": "..report.content",
    "every_rule": "..report.content",
    "seed_sentence": "..report.chances", "draw_sentence": "..report.chances",
    **dict.fromkeys(("foreseen_sentence", "only_filling", "only_cohort", "nothing_drawn", "freed_word",
                     "lottery_sentence"), "..report.chances"),
    "time_shown": "..report.words", "SHOWN_ZONE": "..report.words", "listed": "..contract.failures",
    "SelectionParams": "..solve", "Solution": "..solve", "Chances": "..solve.lottery",
    "handle_stop_signals": ("..stopping", "install"), "Caseload": "..validate",
    "unpack_run_zip": "..io.folders", "READ_OPTION_FILES": "..io.options",
    **dict.fromkeys(("AuditRequest", "AuditResult", "audit", "audit_of_run"), ".auditing"),
    **dict.fromkeys(("BatchItem", "RunMany", "kept_columns_said", "plan_batch", "rules_files_said", "run_batch",
                     "run_batch_group", "run_batch_item", "scenario_groups"), ".batch"),
    **dict.fromkeys(("CHASE_AFTER_DAYS", "ConsentRequest", "ConsentResult", "ConsentStatus", "cohort_complete",
                     "consent_state", "consent_status", "record_consent"), ".consent"),
    **dict.fromkeys(("Profile", "Progress", "Sources", "default_rules_toml", "defaults_left_out_said", "describe",
                     "load", "profile", "profile_of", "read_rules", "too_few", "write_failures", "write_profile_page"),
                    ".loading"),
    **dict.fromkeys(("ReplaceRequest", "ReplaceResult", "SAID_NO", "WAITING", "decline", "id_key", "replace_in_run"),
                    ".replace"),
    **dict.fromkeys(("write_annex_sample", "write_sample"), ".samples"),
    **dict.fromkeys(("VerifyRequest", "Verification", "verify_run"), ".verify"),
    **dict.fromkeys(("SelectRequest", "SelectResult", "choose", "select", "write_run"), ".selection"),
    **dict.fromkeys(("Call", "Offer", "Week", "calls", "carry_on", "history", "offer", "record_call", "released_calls",
                     "rules_in_words", "score_sentence", "start_week", "undo", "week_zip"), ".week"),
}


def version() -> str:
    """selector's version."""
    return __version__


def __getattr__(name: str) -> Any:
    """A name of the face, imported from its module on first use (then kept here)."""
    try:
        where = _FROM[name]
    except KeyError:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}") from None
    module, attribute = (where, name) if isinstance(where, str) else where
    # A stop waits for the import to finish: raised inside a library's C extension while it is
    # being set up (pandas, NumPy, OR-Tools), it could leave it half made and crash the process
    # before the stop's line (a SIGHUP 0.2 s in ended with SIGSEGV and no line, under load).
    with stops.held():
        value = getattr(importlib.import_module(module, __name__), attribute)
    globals()[name] = value
    return value


__all__ = sorted([*_FROM, "version"])


def __dir__() -> list[str]:
    return __all__
