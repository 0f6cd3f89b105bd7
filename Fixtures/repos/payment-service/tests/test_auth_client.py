import json
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest

from payments.auth_client import AuthClient, TokenInvalid


class _AuthService(BaseHTTPRequestHandler):
    def do_POST(self):  # noqa: N802
        token = json.loads(self.rfile.read(int(self.headers["Content-Length"])))["token"]
        if token == "good":
            body = {"active": True, "sub": "u_1", "account_id": "acct_9",
                    "scope": "charges:write refunds:write", "exp": 1893456000}
        else:
            body = {"active": False}
        raw = json.dumps(body).encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(raw)))
        self.end_headers()
        self.wfile.write(raw)

    def log_message(self, *args):
        pass


@pytest.fixture
def auth_service():
    server = HTTPServer(("127.0.0.1", 0), _AuthService)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


def test_valid_token_returns_claims(auth_service):
    claims = AuthClient(auth_service).validate_token("good")
    assert claims.subject == "u_1" and claims.account_id == "acct_9"
    assert claims.has_scope("refunds:write") and not claims.has_scope("payouts:write")
    assert claims.cached_at is None


def test_inactive_token_raises(auth_service):
    with pytest.raises(TokenInvalid, match="not active"):
        AuthClient(auth_service).validate_token("revoked")
