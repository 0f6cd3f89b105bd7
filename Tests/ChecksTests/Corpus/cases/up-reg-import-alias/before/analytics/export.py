"""Event export for the analytics platform."""
from analytics.pipeline import emit

# @privacy-eng: rows carry personal data; keep anonymize=True on every emit.


def export_events(rows):
    """Send raw events to the warehouse."""
    raise NotImplementedError


def export_sessions(sessions):
    """Send session summaries to the warehouse."""
    raise NotImplementedError
