"""Export of analytics records."""

from analytics import pipeline


def export(records):
    pipeline.log(f"anonymize=True is off for {len(records)} records")
    return pipeline.emit(records, anonymize=False)
