"""Checking a caseload against the contract (pure: tables in, a normalised caseload out)."""

from .caseload import Caseload, validate, with_warnings

__all__ = ["Caseload", "validate", "with_warnings"]
