#!/bin/sh
# Runs the module self-checks.
set -eu
python3 -m py_compile src/inventory.py src/report.py
echo "ok"
