"""Money movement for the marketplace."""

__version__ = "5.2.0"
