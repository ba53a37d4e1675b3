"""A small OpenAI-compatible chat-completions server for the intent-endpoint tests.

It runs in a thread of the test process on 127.0.0.1 (a free port) and
answers ``POST …/chat/completions`` with the REAL local causal LM through
segtool's own generation code (the request's messages go through the
tokenizer's chat template; ``max_tokens`` bounds the answer; greedy).  Other
modes make it fail the ways real servers do, so the client's error handling is
exercised over real HTTP:

* ``ok``         — generate with the LM (or return ``canned`` text when given);
* ``error500``   — HTTP 500 on every request;
* ``flaky``      — HTTP 503 for the first ``fail_first`` requests, then ``ok``;
* ``malformed``  — HTTP 200 with a body that is not JSON;
* ``nochoices``  — HTTP 200 with JSON lacking ``choices``;
* ``slow``       — sleep ``delay`` seconds before answering.

Every request is recorded (path, Authorization header, JSON body) in
``server.requests`` for assertions.  Run it by hand with
``python tests/intent/chat_server.py --port 8000`` (serves smollm2).
"""

from __future__ import annotations

import json
import socket
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class ChatServer:
    lm: Any = None  # a segtool CausalLM; None: only canned answers
    mode: str = "ok"
    canned: str | None = None
    delay: float = 0.0
    fail_first: int = 0
    port: int = 0  # 0: any free port
    requests: list[dict[str, Any]] = field(default_factory=list)
    _httpd: ThreadingHTTPServer | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def base_url(self) -> str:
        assert self._httpd is not None
        return f"http://127.0.0.1:{self._httpd.server_address[1]}/v1"

    def __enter__(self) -> ChatServer:
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:  # keep the test output clean
                pass

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length)
                try:
                    body = json.loads(raw)
                except ValueError:
                    body = None
                with server._lock:
                    server.requests.append({"path": self.path, "body": body,
                                            "authorization": self.headers.get("Authorization")})
                    number = len(server.requests)
                status, payload = server.answer(self.path, body, number)
                data = payload.encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                try:
                    self.wfile.write(data)
                except OSError:  # the client gave up (timeout tests)
                    pass

        self._httpd = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self._httpd.daemon_threads = True
        threading.Thread(target=self._httpd.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        assert self._httpd is not None
        self._httpd.shutdown()
        self._httpd.server_close()

    def answer(self, path: str, body: Any, number: int) -> tuple[int, str]:
        """(status, response body) for one request, as the mode says."""
        if not path.rstrip("/").endswith("/chat/completions"):
            return 404, json.dumps({"error": {"message": f"no route {path}"}})
        if self.mode == "error500":
            return 500, json.dumps({"error": {"message": "the model crashed"}})
        if self.mode == "flaky" and number <= self.fail_first:
            return 503, json.dumps({"error": {"message": "warming up"}})
        if self.mode == "malformed":
            return 200, "<html><body>Bad gateway</body></html>"
        if self.mode == "nochoices":
            return 200, json.dumps({"object": "chat.completion", "model": "x"})
        if self.mode == "slow":
            time.sleep(self.delay)
        if not isinstance(body, dict) or not isinstance(body.get("messages"), list):
            return 400, json.dumps({"error": {"message": "messages required"}})
        text, finish = self.complete(body["messages"], int(body.get("max_tokens") or 256))
        return 200, json.dumps({
            "id": f"chatcmpl-{number}", "object": "chat.completion", "model": body.get("model"),
            "choices": [{"index": 0, "finish_reason": finish,
                         "message": {"role": "assistant", "content": text}}],
        })

    def complete(self, messages: list[dict[str, str]], max_tokens: int) -> tuple[str, str]:
        if self.canned is not None or self.lm is None:
            return self.canned or "", "stop"
        from segtool.models.generation import generate_greedy

        prompt = self.lm.tokenizer.apply_chat_template(messages, add_generation_prompt=True,
                                                       tokenize=False)
        (out,) = generate_greedy(self.lm, [self.lm.encode(prompt)], max_new_tokens=max_tokens)
        return out.text, "length" if out.truncated else "stop"


def free_port() -> int:
    """A port with nothing listening on it (bound, then released)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


if __name__ == "__main__":
    import argparse

    from segtool.models.causal_lm import load_causal_lm

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--lm", default="smollm2")
    args = parser.parse_args()
    srv = ChatServer(lm=load_causal_lm(args.lm, device="cpu"), port=args.port)
    with srv:
        print(f"serving {args.lm} at {srv.base_url} (Ctrl-C stops)", flush=True)
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            pass
