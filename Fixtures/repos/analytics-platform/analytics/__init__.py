"""Batch exports from the product warehouse to the analytics lake."""

__version__ = "3.14.0"
