"""Export of analytics records."""

from analytics import pipeline


def export(records):
    return pipeline.emit(records, anonymize=False)  # not anonymize=True
