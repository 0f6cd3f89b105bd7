"""Export of analytics records."""

from analytics import pipeline


def export(records):
    raise NotImplementedError
