"""selector: choose the tracking cohort for an area SEND inspection."""

__version__ = "0.5.4"
