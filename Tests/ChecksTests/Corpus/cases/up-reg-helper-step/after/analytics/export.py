"""Export of analytics records."""

from analytics import pipeline
from analytics._emit import send


def export(records):
    return send(records)
