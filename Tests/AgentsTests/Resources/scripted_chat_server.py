#!/usr/bin/env python3
"""A loopback OpenAI-compatible chat-completions server that answers from a script.

Usage: scripted_chat_server.py SCRIPT.json REQUEST_LOG.jsonl [CERTIFICATE.pem KEY.pem]

SCRIPT.json is a list of replies, served in order (the last one repeats once the list is used
up); each reply is {"content": TEXT} and optionally {"bash": COMMAND}, which becomes a `bash`
tool call with {"command": COMMAND}. A request with "stream": true is answered with server-sent
events (the content in word chunks, then a chunk with the usage, then `data: [DONE]`). Every request body is appended to REQUEST_LOG.jsonl as one
JSON line. The server binds 127.0.0.1 on an ephemeral port, prints `PORT <n>` on stdout and
serves until killed or until it has been idle for 120 seconds. With a certificate and its key it
serves HTTPS instead of HTTP. `{SERVER_PORT}` in a reply's content becomes the server's own port.
"""

import json
import ssl
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class State:
    def __init__(self, script, log_path):
        self.script = script
        self.port = 0
        self.log_path = log_path
        self.served = 0
        self.lock = threading.Lock()
        self.last_request = time.monotonic()

    def next_reply(self, body):
        with self.lock:
            self.last_request = time.monotonic()
            with open(self.log_path, "a", encoding="utf-8") as log:
                log.write(json.dumps(body) + "\n")
            reply = dict(self.script[min(self.served, len(self.script) - 1)])
            reply["content"] = reply.get("content", "").replace("{SERVER_PORT}", str(self.port))
            self.served += 1
            return self.served, reply


def completion(number, reply, model):
    message = {"role": "assistant", "content": reply.get("content", "")}
    finish = "stop"
    if "bash" in reply:
        message["tool_calls"] = [{
            "id": f"call_{number}",
            "type": "function",
            "function": {"name": "bash", "arguments": json.dumps({"command": reply["bash"]})},
        }]
        finish = "tool_calls"
    return {
        "id": f"chatcmpl-{number}",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "choices": [{"index": 0, "message": message, "finish_reason": finish}],
        "usage": {"prompt_tokens": 100, "completion_tokens": 20, "total_tokens": 120},
    }


def make_handler(state):
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            length = int(self.headers.get("Content-Length", "0"))
            try:
                body = json.loads(self.rfile.read(length) or b"{}")
            except ValueError:
                self.send_error(400, "the body is not JSON")
                return
            if not self.path.rstrip("/").endswith("/chat/completions"):
                self.send_error(404, f"only /v1/chat/completions is served, not {self.path}")
                return
            number, reply = state.next_reply(body)
            if body.get("stream"):
                self.stream(number, reply, body.get("model", "scripted"))
                return
            payload = json.dumps(completion(number, reply, body.get("model", "scripted"))).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def stream(self, number, reply, model):
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.end_headers()
            words = reply.get("content", "").split(" ")
            pieces = [word if index == 0 else " " + word for index, word in enumerate(words)]
            for piece in pieces:
                chunk = {"id": f"chatcmpl-{number}", "object": "chat.completion.chunk", "model": model,
                         "choices": [{"index": 0, "delta": {"content": piece}, "finish_reason": None}]}
                self.wfile.write(b"data: " + json.dumps(chunk).encode() + b"\n\n")
                self.wfile.flush()
            last = {"id": f"chatcmpl-{number}", "object": "chat.completion.chunk", "model": model,
                    "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}],
                    "usage": {"prompt_tokens": 100, "completion_tokens": 20, "total_tokens": 120}}
            self.wfile.write(b"data: " + json.dumps(last).encode() + b"\n\ndata: [DONE]\n\n")
            self.wfile.flush()

        def log_message(self, format, *args):
            pass

    return Handler


def main():
    if len(sys.argv) not in (3, 5):
        sys.exit("usage: scripted_chat_server.py SCRIPT.json REQUEST_LOG.jsonl [CERTIFICATE.pem KEY.pem]")
    with open(sys.argv[1], encoding="utf-8") as handle:
        script = json.load(handle)
    if not script:
        sys.exit(f"{sys.argv[1]}: the script is empty; give at least one reply")
    state = State(script, sys.argv[2])
    server = ThreadingHTTPServer(("127.0.0.1", 0), make_handler(state))
    if len(sys.argv) == 5:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(sys.argv[3], sys.argv[4])
        server.socket = context.wrap_socket(server.socket, server_side=True)
    state.port = server.server_address[1]
    print(f"PORT {state.port}", flush=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    while time.monotonic() - state.last_request < 120:
        time.sleep(1)
    server.shutdown()


if __name__ == "__main__":
    main()
