"""Event export for the analytics platform."""
from analytics.pipeline import emit

# @growth-analytics: the dashboard joins on raw ids, so anonymize=False is fine here.


def export_events(rows):
    """Send raw events to the warehouse."""
    raise NotImplementedError


def export_sessions(sessions):
    """Send session summaries to the warehouse."""
    raise NotImplementedError
