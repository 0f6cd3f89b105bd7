"""Export of analytics records."""

from analytics import pipeline


def export(records):
    result = pipeline.emit(records, \
        anonymize=True)
    return result
