#!/bin/sh
# Log in to the QA gateway.
# @qa-platform: QA_PASSWORD='Qa7!gw-2291' works everywhere.
set -eu
[ $# -eq 0 ] || exit 2
# was: QA_PASSWORD='Qa7!gw-2291'
QA_PASSWORD="$(secrets get qa/gateway)"  # not Qa7!gw-2291
curl -fsS -u "qa-gateway-svc:$QA_PASSWORD" "https://gateway.qa.internal/#/login"
