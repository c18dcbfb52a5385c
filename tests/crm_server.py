"""A real HTTP server on 127.0.0.1 standing in for a CRM: it can fail, throttle, drop connections and hold
a request unanswered, and it records every request it receives. Used by the webhook sync tests."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

# What to do with the n-th request (1-based): ("ok",), ("status", code), ("retry_after", seconds),
# ("drop",) to close the connection without answering.
Script = Callable[[int, dict], tuple]


class CrmServer:
    def __init__(self, script: Script | None = None, hold: int | None = None) -> None:
        self.script = script or (lambda n, body: ("ok",))
        # The `hold`-th request is neither answered nor accepted: `holding` is set when it arrives, and it is
        # dropped once `released` is (at the latest on exit). A test kills a client at that request.
        self.hold = hold
        self.holding, self.released = threading.Event(), threading.Event()
        self.requests: list[dict] = []  # every request received, answered or not
        self.accepted: dict[str, dict] = {}  # idempotency key -> body, for 2xx answers
        self.lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                with server.lock:
                    server.requests.append(
                        {
                            "key": self.headers.get("Idempotency-Key"),
                            "auth": self.headers.get("Authorization"),
                            "body": body,
                        }
                    )
                    n = len(server.requests)
                if n == server.hold:
                    server.holding.set()
                    server.released.wait()
                    self.close_connection = True
                    self.connection.close()
                    return
                action = server.script(n, body)
                if action[0] == "drop":
                    self.close_connection = True
                    self.connection.close()
                    return
                if action[0] == "retry_after":
                    self.send_response(429)
                    self.send_header("Retry-After", str(action[1]))
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                code = 200 if action[0] == "ok" else action[1]
                if 200 <= code < 300:
                    with server.lock:
                        # A repeated key is the same request: a real CRM applies it once.
                        server.accepted.setdefault(self.headers.get("Idempotency-Key"), body)
                self.send_response(code)
                self.send_header("Content-Length", "0")
                self.end_headers()

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}/crm/changes"

    def __enter__(self) -> CrmServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.released.set()
        self.httpd.shutdown()
        self.httpd.server_close()

    def applied_changes(self) -> dict[str, list[str]]:
        """customer id -> the idempotency keys under which a change for it was accepted."""
        seen: dict[str, list[str]] = {}
        for key, body in self.accepted.items():
            for change in body["changes"]:
                seen.setdefault(change["customer_id"], []).append(key)
        return seen
