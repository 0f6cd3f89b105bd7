"""Export of analytics records."""

from analytics import pipeline

ANONYMIZE = True


def export(records):
    return pipeline.emit(records, anonymize=ANONYMIZE)
