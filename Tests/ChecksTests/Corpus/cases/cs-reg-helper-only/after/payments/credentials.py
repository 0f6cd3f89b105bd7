from payments import secrets

QA_PASSWORD = secrets.get("qa/gateway")
