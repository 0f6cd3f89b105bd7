#!/bin/sh
# An agent CLI that gives up: an error on stderr and exit status 3.
echo "working on it"
echo "error: model quota exceeded for this key" >&2
exit 3
