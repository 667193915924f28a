"""The application layer: every use case once, as functions taking typed requests and returning
typed results. The command line, the web page and batch runs call these and nothing below them
(apart from the contract).

One module per use case: load (reading, profiling), selection, replace, consent, auditing, week
(the web page's week of calls), samples and batch.
"""

from __future__ import annotations

from .. import __version__
from ..contract.errors import InputError, SelectorError
from ..contract.rules import DEFAULT_RULES, Rules
from ..io.mapping import DEFAULT_MAPPING_TOML
from ..io.options import ReadOptions
from ..report.content import in_words
from ..report.content import label as dimension_name
from ..solve import SelectionParams, Solution
from ..solve.lottery import Chances
from ..solve.settings import LOTTERY_WORK
from ..stopping import install as handle_stop_signals
from ..validate import Caseload
from .auditing import AuditRequest, AuditResult, audit
from .batch import BatchItem, RunMany, plan_batch, run_batch, run_batch_item
from .consent import ConsentRequest, ConsentResult, consent_state, record_consent
from .load import (
    Profile,
    Progress,
    Sources,
    default_rules_toml,
    describe,
    load,
    profile,
    profile_of,
    read_rules,
    write_failures,
    write_profile_page,
)
from .replace import ReplaceRequest, ReplaceResult, decline, replace_in_run
from .samples import write_annex_sample, write_sample
from .selection import SelectRequest, SelectResult, choose, select, write_run
from .week import (
    Call,
    Offer,
    Week,
    calls,
    history,
    offer,
    record_call,
    rules_in_words,
    score_sentence,
    start_week,
    undo,
    week_zip,
)


def version() -> str:
    """selector's version."""
    return __version__


__all__ = [
    "DEFAULT_MAPPING_TOML", "DEFAULT_RULES", "LOTTERY_WORK", "AuditRequest", "AuditResult", "BatchItem", "Call",
    "Caseload", "Chances", "ConsentRequest", "ConsentResult", "InputError", "Offer", "Profile", "Progress",
    "ReadOptions", "ReplaceRequest", "ReplaceResult", "Rules", "RunMany", "SelectRequest", "SelectResult",
    "SelectionParams", "SelectorError", "Solution", "Sources", "Week", "audit", "calls", "choose", "consent_state",
    "decline", "default_rules_toml", "describe", "dimension_name", "handle_stop_signals", "history", "in_words",
    "load", "offer", "plan_batch", "profile", "profile_of", "read_rules", "record_call", "record_consent",
    "replace_in_run", "rules_in_words", "run_batch", "run_batch_item", "score_sentence", "select", "start_week",
    "undo", "version", "week_zip", "write_annex_sample", "write_failures", "write_profile_page", "write_run",
    "write_sample",
]
