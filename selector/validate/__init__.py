"""Checking a caseload against the contract (pure: tables in, a normalised caseload out)."""

from .caseload import Caseload, contact_summary, validate, with_warnings

__all__ = ["Caseload", "contact_summary", "validate", "with_warnings"]
