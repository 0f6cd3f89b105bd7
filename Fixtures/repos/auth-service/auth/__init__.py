"""Identity, sessions and account lifecycle for the customer platform."""

__version__ = "2.8.1"
