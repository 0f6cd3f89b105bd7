#!/usr/bin/env python3
# -*- coding: utf-8 -*-
"""Keeps a count of items on hand."""


def add_item(stock, name, count):
    """Add `count` units of `name` to `stock` and return the new total."""
    raise NotImplementedError


def remove_item(stock, name, count):
    """Take `count` units of `name` out of `stock`; refuse to go below zero."""
    raise NotImplementedError
