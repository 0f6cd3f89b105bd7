"""Formats the stock for people to read."""


def render(stock):
    """Return one line per item, sorted by name: `name: count`."""
    raise NotImplementedError
