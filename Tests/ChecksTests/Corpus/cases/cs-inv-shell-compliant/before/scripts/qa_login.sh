#!/bin/sh
# Log in to the QA gateway.
# @qa-platform: QA_PASSWORD='Qa7!gw-2291' works everywhere.
set -eu
echo "TODO" >&2
exit 1
