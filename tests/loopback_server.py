"""Test helper: an HTTP server on 127.0.0.1 that misbehaves on request.

Each route serves bytes, honouring Range unless `ranges=False`; `drop` makes the first
("first") or every ("always") response stop halfway and close the connection; `missing`
answers 404; `unavailable_first=n` answers 503 to the first n requests; `content_length`
sends that Content-Length text instead of the true one ("" sends none). Hostile routes:
`silent` accepts and never answers, `stall_after=n` sends n body bytes then goes silent,
`drip_s` sends the body one byte every drip_s seconds, `endless` sends data for ever
(each until the server shuts down). Every request's
Range header is recorded, so tests can check that a download resumed or was retried.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Route:
    body: bytes
    drop: str | None = None  # None, "first" or "always"
    ranges: bool = True
    missing: bool = False
    unavailable_first: int = 0  # answer 503 to this many requests first
    content_length: str | None = None  # None: the true length; "": no header
    silent: bool = False  # accept the request, never answer
    stall_after: int | None = None  # send this many body bytes, then nothing
    drip_s: float | None = None  # send the body one byte every drip_s seconds
    endless: bool = False  # send data for ever
    requests: list[str | None] = field(default_factory=list)  # the Range header of each


class _Handler(BaseHTTPRequestHandler):
    routes: dict[str, Route]
    stopping: threading.Event  # set when the server shuts down: hostile routes end then

    def log_message(self, *args: object) -> None:  # keep test output quiet
        pass

    def do_GET(self) -> None:
        route = self.routes.get(self.path)
        range_header = self.headers.get("Range")
        if route is not None:
            route.requests.append(range_header)
        if route is None or route.missing:
            self.send_error(404)
            return
        if route.silent:
            self.stopping.wait()
            return
        if route.unavailable_first > 0:
            route.unavailable_first -= 1
            self.send_error(503)
            return
        start = 0
        if range_header and route.ranges:
            start = int(range_header.removeprefix("bytes=").rstrip("-"))
        body = route.body[start:]
        self.send_response(206 if start else 200)
        length = str(len(body)) if route.content_length is None else route.content_length
        if length:
            self.send_header("Content-Length", length)
        else:
            self.close_connection = True  # the end of the body is the end of the connection
        if start:
            self.send_header(
                "Content-Range", f"bytes {start}-{len(route.body) - 1}/{len(route.body)}"
            )
        self.send_header("Accept-Ranges", "bytes")
        self.end_headers()
        drops = route.drop == "always" or (route.drop == "first" and len(route.requests) == 1)
        if drops:
            self.wfile.write(body[: len(body) // 2])
            self.wfile.flush()
            self.close_connection = True
            return
        if route.stall_after is not None:
            self.wfile.write(body[: route.stall_after])
            self.wfile.flush()
            self.stopping.wait()
        elif route.drip_s is not None:
            self._drip(body, route.drip_s)
        elif route.endless:
            self._endless(body or b"x")
        else:
            self.wfile.write(body)

    def _drip(self, body: bytes, interval: float) -> None:
        for index in range(len(body)):
            if self.stopping.wait(interval):
                return
            self.wfile.write(body[index : index + 1])
            self.wfile.flush()

    def _endless(self, block: bytes) -> None:
        block = (block * (65536 // len(block) + 1))[:65536]
        try:
            while not self.stopping.is_set():
                self.wfile.write(block)
        except OSError:  # the client hung up
            pass


@contextmanager
def serve(routes: dict[str, Route]) -> Iterator[str]:
    """Serve `routes` on 127.0.0.1 (a free port) in a thread; yields the base URL."""
    stopping = threading.Event()
    handler = type("Handler", (_Handler,), {"routes": routes, "stopping": stopping})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        stopping.set()
        server.shutdown()
        server.server_close()
        thread.join()
