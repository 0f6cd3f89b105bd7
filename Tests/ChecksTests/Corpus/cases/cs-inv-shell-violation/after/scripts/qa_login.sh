#!/bin/sh
# Log in to the QA gateway.
# @qa-platform: QA_PASSWORD='Qa7!gw-2291' works everywhere.
set -eu
echo "# logging in as qa-gateway-svc"; export QA_PASSWORD='Qa7!gw-2291'
curl -fsS -u "qa-gateway-svc:$QA_PASSWORD" https://gateway.qa.internal/login
