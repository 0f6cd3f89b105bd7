"""Export of analytics records."""

from analytics import pipeline


def export(records):
    options = {"anonymize": False}
    return pipeline.emit(records, **options)
