#!/usr/bin/env python3
"""A loopback model server (OpenAI Chat Completions, OpenAI Responses, Anthropic Messages) that
answers from a script.

Usage: scripted_chat_server.py SCRIPT.json REQUEST_LOG.jsonl [CERTIFICATE.pem KEY.pem]

SCRIPT.json is a list of replies, served in order whatever the route (the last one repeats once
the list is used up). A reply is {"content": TEXT} with optionally:
  "bash": COMMAND           a `bash` tool call with {"command": COMMAND};
  "tool_calls": [CALL...]   tool calls, each {"name": NAME, "arguments": OBJECT} or
                            {"name": NAME, "raw": TEXT} (arguments sent as that text, e.g. malformed);
  "refusal": TEXT           the model declines (Chat's `refusal`, Messages' stop_reason `refusal`,
                            a Responses `refusal` part);
  "thinking": TEXT          reasoning before the rest: a Messages `thinking` block with TEXT and a
                            `signature` (streamed as `thinking_delta` word pieces and two
                            `signature_delta` halves), a Responses `reasoning` item (summary TEXT,
                            `encrypted_content`) first in `output`; Chat ignores it;
  "redacted_thinking": DATA a Messages `redacted_thinking` block with DATA, after the thinking.
Reasoning must come back: once served, every thinking block must be in an assistant message of
every later Messages request, and every reasoning item in the `input` of every later Responses
request, unchanged (equal as JSON) and followed by the item (by `id`) that followed it in the
output; a request without them is answered 400 (`invalid_request_error`) without using a reply.
A reply {"error": {"status": N, "message": TEXT}} is answered with that status and the API's
error shape ({"error": {"message": TEXT, "type": "invalid_request_error"}}).
Faults:
  {"status": N, "retry_after": S}   status N (e.g. 429) with `Retry-After: S` (seconds; optional)
                                    and the API's error shape;
  "times": N                        on any reply: it answers N requests in a row (one entry
                                    of the script each);
  {"malformed": true}               status 200, `application/json`, a body cut inside its JSON;
  "stall_seconds": N                on any reply: waits N seconds before the answer's first byte,
                                    or, with "stall_after_events": K on a streamed answer, after
                                    its first K events; then answers as usual;
  "disconnect_mid_stream": true     on any reply: sends the answer's first half (half of a
                                    stream's events) under a `Content-Length` the whole would
                                    exceed, then closes the connection;
  "unframed": true                  on a whole (not streamed) answer: no `Content-Length`, the
                                    answer ends with the connection (over TLS without a
                                    close_notify, as an abrupt peer would).
Routes: POST /v1/chat/completions, /v1/responses, /v1/messages, each in its API's shape. A
request with "stream": true is answered with that API's server-sent events: text in word chunks,
tool-call arguments in two pieces, then the usage (and `data: [DONE]` for Chat). Every request
body is appended to REQUEST_LOG.jsonl as one JSON line. The server binds 127.0.0.1 on an
ephemeral port, prints `PORT <n>` on stdout and serves until killed or until it has been idle
for 120 seconds. With a certificate and its key it serves HTTPS instead of HTTP.
`{SERVER_PORT}` in a reply's content becomes the server's own port.
"""

import base64
import hashlib
import json
import socket
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
        # Reasoning served so far, by route: (block or item, id of the item after it or None).
        self.issued = {"/messages": [], "/responses": []}

    def missing_reasoning(self, suffix, body):
        """Why the request fails to send back what was served (None when it does not)."""
        with self.lock:
            issued = list(self.issued.get(suffix, []))
        if suffix == "/messages":
            blocks = [block for message in body.get("messages", []) if message.get("role") == "assistant"
                      for block in (message.get("content") if isinstance(message.get("content"), list) else [])]
            for block, _ in issued:
                if block not in blocks:
                    return f"messages: the {block['type']} block served earlier is not in an assistant message unchanged (signature included)"
        if suffix == "/responses":
            items = body.get("input", [])
            for item, following in issued:
                if item not in items:
                    return f"input: the reasoning item {item['id']} served earlier is not sent back unchanged"
                index = items.index(item)
                after = items[index + 1] if index + 1 < len(items) else {}
                if following is not None and after.get("id") != following:
                    return f"Item '{item['id']}' of type 'reasoning' was provided without its required following item '{following}'"
        return None

    def remember(self, suffix, answer):
        """Keeps the reasoning of a whole answer, with the id of the item after each."""
        with self.lock:
            if suffix == "/messages":
                self.issued[suffix] += [(block, None) for block in answer["content"] if block["type"] in ("thinking", "redacted_thinking")]
            if suffix == "/responses":
                output = answer["output"]
                self.issued[suffix] += [(item, output[index + 1]["id"] if index + 1 < len(output) else None)
                                        for index, item in enumerate(output) if item["type"] == "reasoning"]

    def next_reply(self, body):
        with self.lock:
            self.last_request = time.monotonic()
            with open(self.log_path, "a", encoding="utf-8") as log:
                log.write(json.dumps(body) + "\n")
            reply = dict(self.script[min(self.served, len(self.script) - 1)])
            reply["content"] = reply.get("content", "").replace("{SERVER_PORT}", str(self.port))
            self.served += 1
            return self.served, reply


USAGE_IN, USAGE_OUT = 100, 20


def calls_of(number, reply):
    """The reply's tool calls as (id, name, arguments text)."""
    calls = []
    if "bash" in reply:
        calls.append((f"call_{number}", "bash", json.dumps({"command": reply["bash"]})))
    for index, call in enumerate(reply.get("tool_calls", [])):
        text = call["raw"] if "raw" in call else json.dumps(call.get("arguments", {}))
        calls.append((f"call_{number}_{index}", call["name"], text))
    return calls


def words(text):
    pieces = text.split(" ")
    return [piece if index == 0 else " " + piece for index, piece in enumerate(pieces)] if text else []


def halves(text):
    middle = len(text) // 2
    return [text[:middle], text[middle:]]


def anthropic_input(text):
    try:
        value = json.loads(text)
    except ValueError:
        return text
    return value


def signature(number, text):
    """A signature-like text for a thinking block: base64 with `+`, `/` and `=` in it."""
    digest = hashlib.sha256(f"{number}:{text}".encode()).digest()
    return base64.b64encode(digest * 3 + b"\xfb\xff").decode()


def thinking_blocks(number, reply):
    blocks = []
    if "thinking" in reply:
        blocks.append({"type": "thinking", "thinking": reply["thinking"], "signature": signature(number, reply["thinking"])})
    if "redacted_thinking" in reply:
        blocks.append({"type": "redacted_thinking", "data": reply["redacted_thinking"]})
    return blocks


def completion(number, reply, model):
    message = {"role": "assistant", "content": reply.get("content", "")}
    finish = "stop"
    calls = calls_of(number, reply)
    if "refusal" in reply:
        message["content"] = None
        message["refusal"] = reply["refusal"]
    if calls:
        message["tool_calls"] = [{"id": id, "type": "function", "function": {"name": name, "arguments": text}} for id, name, text in calls]
        finish = "tool_calls"
    return {
        "id": f"chatcmpl-{number}",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "choices": [{"index": 0, "message": message, "finish_reason": finish}],
        "usage": {"prompt_tokens": USAGE_IN, "completion_tokens": USAGE_OUT, "total_tokens": USAGE_IN + USAGE_OUT},
    }


def chat_events(number, reply, model):
    def chunk(delta, finish=None, **extra):
        body = {"id": f"chatcmpl-{number}", "object": "chat.completion.chunk", "model": model,
                "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}
        body.update(extra)
        return (None, body)
    events = []
    if "refusal" in reply:
        events += [chunk({"refusal": piece}) for piece in words(reply["refusal"])]
    events += [chunk({"content": piece}) for piece in words(reply.get("content", ""))]
    calls = calls_of(number, reply)
    for index, (id, name, text) in enumerate(calls):
        events.append(chunk({"tool_calls": [{"index": index, "id": id, "type": "function", "function": {"name": name, "arguments": ""}}]}))
        events += [chunk({"tool_calls": [{"index": index, "function": {"arguments": piece}}]}) for piece in halves(text)]
    events.append(chunk({}, "tool_calls" if calls else "stop",
                        usage={"prompt_tokens": USAGE_IN, "completion_tokens": USAGE_OUT, "total_tokens": USAGE_IN + USAGE_OUT}))
    return events


def message(number, reply, model):
    content = thinking_blocks(number, reply)
    if reply.get("content") or "refusal" in reply:
        content.append({"type": "text", "text": reply.get("refusal", reply.get("content", ""))})
    calls = calls_of(number, reply)
    for id, name, text in calls:
        content.append({"type": "tool_use", "id": id, "name": name, "input": anthropic_input(text)})
    stop = "refusal" if "refusal" in reply else "tool_use" if calls else "end_turn"
    return {"id": f"msg_{number}", "type": "message", "role": "assistant", "model": model, "content": content,
            "stop_reason": stop, "stop_sequence": None, "usage": {"input_tokens": USAGE_IN, "output_tokens": USAGE_OUT}}


def message_events(number, reply, model):
    whole = message(number, reply, model)
    events = [("message_start", {"type": "message_start", "message": dict(whole, content=[], stop_reason=None,
                                                                          usage={"input_tokens": USAGE_IN, "output_tokens": 1})})]
    calls = calls_of(number, reply)
    index = 0
    for block in thinking_blocks(number, reply):
        if block["type"] == "thinking":
            events.append(("content_block_start", {"type": "content_block_start", "index": index, "content_block": {"type": "thinking", "thinking": ""}}))
            events += [("content_block_delta", {"type": "content_block_delta", "index": index, "delta": {"type": "thinking_delta", "thinking": piece}})
                       for piece in words(block["thinking"])]
            events += [("content_block_delta", {"type": "content_block_delta", "index": index, "delta": {"type": "signature_delta", "signature": piece}})
                       for piece in halves(block["signature"])]
        else:
            events.append(("content_block_start", {"type": "content_block_start", "index": index, "content_block": block}))
        events.append(("content_block_stop", {"type": "content_block_stop", "index": index}))
        index += 1
    text = reply.get("refusal", reply.get("content", ""))
    if text:
        events.append(("content_block_start", {"type": "content_block_start", "index": index, "content_block": {"type": "text", "text": ""}}))
        events += [("content_block_delta", {"type": "content_block_delta", "index": index, "delta": {"type": "text_delta", "text": piece}})
                   for piece in words(text)]
        events.append(("content_block_stop", {"type": "content_block_stop", "index": index}))
        index += 1
    for id, name, arguments in calls:
        events.append(("content_block_start", {"type": "content_block_start", "index": index,
                                               "content_block": {"type": "tool_use", "id": id, "name": name, "input": {}}}))
        events += [("content_block_delta", {"type": "content_block_delta", "index": index, "delta": {"type": "input_json_delta", "partial_json": piece}})
                   for piece in halves(arguments)]
        events.append(("content_block_stop", {"type": "content_block_stop", "index": index}))
        index += 1
    events.append(("message_delta", {"type": "message_delta", "delta": {"stop_reason": whole["stop_reason"], "stop_sequence": None},
                                     "usage": {"output_tokens": USAGE_OUT}}))
    events.append(("message_stop", {"type": "message_stop"}))
    return events


def response(number, reply, model):
    output = []
    if "thinking" in reply:
        output.append({"type": "reasoning", "id": f"rs_{number}", "summary": [{"type": "summary_text", "text": reply["thinking"]}],
                       "encrypted_content": "gAAAAB" + signature(number, reply["thinking"])})
    if "refusal" in reply:
        output.append({"type": "message", "id": f"msg_{number}", "role": "assistant", "status": "completed",
                       "content": [{"type": "refusal", "refusal": reply["refusal"]}]})
    elif reply.get("content"):
        output.append({"type": "message", "id": f"msg_{number}", "role": "assistant", "status": "completed",
                       "content": [{"type": "output_text", "text": reply["content"], "annotations": []}]})
    for id, name, text in calls_of(number, reply):
        output.append({"type": "function_call", "id": "fc_" + id, "call_id": id, "name": name, "arguments": text, "status": "completed"})
    return {"id": f"resp_{number}", "object": "response", "status": "completed", "model": model, "output": output,
            "usage": {"input_tokens": USAGE_IN, "output_tokens": USAGE_OUT, "total_tokens": USAGE_IN + USAGE_OUT}}


def response_events(number, reply, model):
    whole = response(number, reply, model)
    events = [("response.created", {"type": "response.created", "response": dict(whole, status="in_progress", output=[])})]
    for index, item in enumerate(whole["output"]):
        if item["type"] == "message" and item["content"][0]["type"] == "output_text":
            events += [("response.output_text.delta", {"type": "response.output_text.delta", "output_index": index, "delta": piece})
                       for piece in words(item["content"][0]["text"])]
        if item["type"] == "function_call":
            events += [("response.function_call_arguments.delta", {"type": "response.function_call_arguments.delta", "output_index": index, "delta": piece})
                       for piece in halves(item["arguments"])]
        events.append(("response.output_item.done", {"type": "response.output_item.done", "output_index": index, "item": item}))
    events.append(("response.completed", {"type": "response.completed", "response": whole}))
    return events


ROUTES = {
    "/chat/completions": (completion, chat_events, True),
    "/messages": (message, message_events, False),
    "/responses": (response, response_events, False),
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
            route = next((ROUTES[suffix] for suffix in ROUTES if self.path.rstrip("/").endswith(suffix)), None)
            if route is None:
                self.send_error(404, f"only /v1/chat/completions, /v1/responses and /v1/messages are served, not {self.path}")
                return
            whole, streamed, done = route
            suffix = next(suffix for suffix in ROUTES if self.path.rstrip("/").endswith(suffix))
            missing = state.missing_reasoning(suffix, body)
            if missing is not None:
                with state.lock:
                    with open(state.log_path, "a", encoding="utf-8") as log:
                        log.write(json.dumps(body) + "\n")
                payload = json.dumps({"type": "error", "error": {"message": missing, "type": "invalid_request_error"}}).encode()
                self.send_response(400)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)
                return
            number, reply = state.next_reply(body)
            if suffix in ("/messages", "/responses") and not any(key in reply for key in ("status", "error", "malformed")):
                state.remember(suffix, whole(number, reply, body.get("model", "scripted")))
            model = body.get("model", "scripted")
            stall = reply.get("stall_seconds", 0)
            if stall and not (body.get("stream") and "stall_after_events" in reply):
                time.sleep(stall)
            if "status" in reply:
                payload = json.dumps({"type": "error", "error": {"message": f"scripted status {reply['status']}", "type": "rate_limit_error"}}).encode()
                self.send_response(reply["status"])
                if "retry_after" in reply:
                    self.send_header("Retry-After", str(reply["retry_after"]))
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)
                return
            if reply.get("malformed"):
                payload = b'{"id": "chatcmpl-' + str(number).encode() + b'", "choices": [ '
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)
                return
            if "error" in reply:
                payload = json.dumps({"type": "error", "error": {"message": reply["error"]["message"], "type": "invalid_request_error"}}).encode()
                self.send_response(reply["error"]["status"])
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)
                return
            disconnect = reply.get("disconnect_mid_stream", False)
            if body.get("stream"):
                events = [(f"event: {event}\n" if event else "").encode() + b"data: " + json.dumps(data).encode() + b"\n\n"
                          for event, data in streamed(number, reply, model)]
                if done:
                    events.append(b"data: [DONE]\n\n")
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream")
                if disconnect:
                    self.send_header("Content-Length", str(sum(len(event) for event in events) + 1))
                    events = events[:max(1, len(events) // 2)]
                self.end_headers()
                for index, event in enumerate(events):
                    if stall and index == reply.get("stall_after_events"):
                        time.sleep(stall)
                    self.wfile.write(event)
                    self.wfile.flush()
                if disconnect:
                    self.hang_up()
                return
            payload = json.dumps(whole(number, reply, model)).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            if reply.get("unframed"):
                self.close_connection = True
            else:
                self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            if disconnect:
                self.wfile.write(payload[:len(payload) // 2])
                self.hang_up()
                return
            self.wfile.write(payload)

        def hang_up(self):
            self.wfile.flush()
            self.close_connection = True
            try:
                self.connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

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
    script = [reply for reply in script for _ in range(max(1, reply.get("times", 1)))]
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
