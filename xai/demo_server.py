"""The demo's HTTP server (``xai demo``): standard library only, for this computer.

It holds up against a hostile web page or client: requests must name this server as their Host
(so DNS rebinding cannot reach it) and come from its own page (Origin); job ids are unguessable;
bodies need a Content-Length of at most 30 MB and must arrive in time; uploads are refused from
their header when they declare more than ``xai.data.MAX_PIXELS`` pixels; at most 8 explanations
wait, and finished ones are forgotten after 10 minutes (the newest 32 are kept). Every answer,
errors included, is JSON (but the page itself).
"""
from __future__ import annotations

import ipaddress
import json
import re
import signal
import socket
import threading
import time
import traceback
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

from .demo import HERE, Busy, Demo, one_line, png_data_url, shown_value

MAX_BODY = 30 * 2**20  # bytes of a request: an uploaded image as a base64 data URL
_HOST = re.compile(r"(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+)(?::([0-9]{1,5}))?")


def _host_allowed(host: str, bound: tuple) -> bool:
    """Whether a Host header names this server: ``localhost`` or a loopback or bound address
    (any address when bound to all), with the bound port. A DNS name other than localhost
    could be an attacker's, rebound to 127.0.0.1."""
    match = _HOST.fullmatch(host.strip())
    if not match or int(match[2] or 80) != bound[1]:
        return False
    name = match[1].strip("[]").lower()
    if name == "localhost":
        return True
    try:
        address, server = ipaddress.ip_address(name), ipaddress.ip_address(bound[0])
    except ValueError:
        return False
    return address.is_loopback or server.is_unspecified or address == server


def _drain(sock, limit=2**20, seconds=1.0):
    """After answering, read and drop (within limits) what the client is still sending:
    closing a socket with unread data resets the connection, and the answer can be lost."""
    try:
        sock.shutdown(socket.SHUT_WR)
        deadline = time.monotonic() + seconds
        while limit > 0 and (left := deadline - time.monotonic()) > 0:
            sock.settimeout(left)
            chunk = sock.recv(65536)
            if not chunk:
                break
            limit -= len(chunk)
    except OSError:
        pass


def make_handler(demo: Demo, timeout: float = 30):
    """The request handler class; ``timeout`` (seconds) bounds every wait for the client."""

    class Handler(BaseHTTPRequestHandler):
        def setup(self):
            self.timeout, self.unread = timeout, True
            super().setup()

        def log_message(self, *args):  # quiet
            pass

        def parse_request(self):
            ok = super().parse_request()
            if ok:
                self.unread = (self.headers.get("Content-Length", "").strip() not in ("", "0")
                               or "Transfer-Encoding" in self.headers)
            return ok

        def finish(self):
            try:
                super().finish()
            finally:
                if self.unread:
                    _drain(self.connection)

        def send_error(self, code, message=None, explain=None):
            """http.server's own errors (malformed request, unknown method, ...) as JSON."""
            self.close_connection = True
            text = message or self.responses.get(code, ("error",))[0]
            self._send(code, {"error": str(text)[:200]})

        def _send(self, status, body, kind="application/json", headers=()):
            data = body if isinstance(body, bytes) else json.dumps(body).encode()
            try:
                self.send_response(status)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(data)))
                self.send_header("Cache-Control", "no-store")
                self.send_header("X-Content-Type-Options", "nosniff")
                for name, value in headers:
                    self.send_header(name, value)
                self.end_headers()
                if getattr(self, "command", "") != "HEAD":
                    self.wfile.write(data)
            except (BrokenPipeError, ConnectionResetError):  # the client has gone
                self.close_connection = True

        def _guard(self, fn):
            """Answer fn()'s result, or its error as one line: 400, 503 (busy) or 500."""
            try:
                result = fn()
            except Busy as exc:
                return self._send(503, {"error": str(exc)}, headers=[("Retry-After", "5")])
            except (ValueError, TypeError, OSError) as exc:
                return self._send(400, {"error": one_line(exc)})
            except Exception as exc:
                traceback.print_exc()
                return self._send(500, {"error": f"internal error: {one_line(exc)}"})
            self._send(200, result)

        def _refused(self) -> bool:
            """403 unless the request names this server (Host) and comes from its page."""
            host, origin = self.headers.get("Host", ""), self.headers.get("Origin")
            port = self.server.server_address[1]
            if not _host_allowed(host, self.server.server_address):
                error = (f"this demo answers only at http://127.0.0.1:{port}/ or "
                         f"http://localhost:{port}/, not at Host {shown_value(host)}")
            elif origin is not None and origin.strip().lower() != f"http://{host.strip()}".lower():
                error = f"requests from other web pages are refused (Origin {shown_value(origin)})"
            else:
                return False
            self._send(403, {"error": error})
            return True

        def do_GET(self):
            if self._refused():
                return
            url = urlsplit(self.path)
            query = {k: v[0] for k, v in parse_qs(url.query).items()}
            parts = url.path.strip("/").split("/")
            if url.path in ("/", "/index.html"):
                return self._send(200, (HERE / "demo.html").read_bytes(),
                                  "text/html; charset=utf-8")
            if parts[:2] == ["api", "options"]:
                return self._guard(demo.options)
            if parts[:2] == ["api", "layers"]:
                return self._guard(lambda: demo.layers(query.get("model", "mobilenet")))
            if parts[:2] == ["api", "classes"]:
                return self._guard(lambda: demo.classes(query.get("model", "mobilenet")))
            if parts[:2] == ["api", "sample"] and len(parts) == 4:
                return self._guard(lambda: {"image": png_data_url(demo.image(parts[2], parts[3]))})
            if parts[:2] == ["api", "job"] and len(parts) == 3:
                job = demo.job(parts[2])
                if job is None:
                    return self._send(404, {"error": "no such job: finished jobs are kept for "
                                                     f"{demo.keep_seconds / 60:g} minutes; "
                                                     "explain again"})
                return self._send(200, {"progress": job.progress, "done": job.done,
                                        "error": job.error, "result": job.result,
                                        "elapsed": round(time.perf_counter() - job.started, 1)})
            self._send(404, {"error": f"no such page: {shown_value(url.path)}"})

        def do_POST(self):
            if self._refused():
                return
            if urlsplit(self.path).path != "/api/explain":
                return self._send(404, {"error": "no such endpoint: POST to /api/explain"})
            body = self._body()
            if body is None:
                return
            try:
                request = json.loads(body)
            except (ValueError, RecursionError):
                return self._send(400, {"error": 'the request is not JSON: send an object such '
                                                 'as {"model": "mobilenet", "sample": "chelsea"}'})
            self._guard(lambda: {"job": demo.submit(request)})

        def _body(self) -> bytes | None:
            """The request body, or None after answering why it cannot be read."""
            length = self.headers.get("Content-Length", "").strip()
            if "Transfer-Encoding" in self.headers or not length:
                self._send(411, {"error": "a POST needs a Content-Length header (no chunked "
                                          "transfer encoding)"})
                return None
            if not (length.isascii() and length.isdigit()):
                self._send(400, {"error": f"Content-Length must be a number of bytes, not "
                                          f"{shown_value(length)}"})
                return None
            size = int(length) if len(length) <= 12 else MAX_BODY + 1
            if size > MAX_BODY:
                self._send(413, {"error": f"the request is larger than {MAX_BODY // 2**20} MB; "
                                          "upload a smaller image"})
                return None
            chunks, deadline = [], time.monotonic() + timeout + size / 2**20  # >= 1 MB/s
            try:
                while size > 0:
                    self.connection.settimeout(max(0.001, deadline - time.monotonic()))
                    chunk = self.rfile.read1(min(size, 2**20))
                    if not chunk:
                        break
                    chunks.append(chunk)
                    size -= len(chunk)
                    if size and time.monotonic() > deadline:
                        raise TimeoutError
            except TimeoutError:
                self._send(408, {"error": "the request body did not arrive in time"})
                return None
            finally:
                self.connection.settimeout(timeout)
            if size > 0:  # the client stopped sending
                self._send(400, {"error": "the request body is shorter than its Content-Length"})
                return None
            self.unread = False
            return b"".join(chunks)

    return Handler


class Server(ThreadingHTTPServer):
    """The demo's HTTP server: a listen queue deep enough for a burst of connections."""

    request_queue_size = 128
    daemon_threads = True


def make_server(host: str = "127.0.0.1", port: int = 8000, demo: Demo | None = None,
                timeout: float = 30) -> Server:
    """The demo's server, bound and listening (``port=0``: any free port); not yet serving."""
    return Server((host, port), make_handler(demo or Demo(), timeout))


def _interrupt(signum, frame):
    raise KeyboardInterrupt


def serve(port: int = 8000, host: str = "127.0.0.1", open_browser: bool = False) -> None:
    """Serve the demo on http://host:port/ until interrupted (Ctrl-C or SIGTERM)."""
    server = make_server(host, port)
    url = f"http://{host}:{server.server_address[1]}/"
    print(f"xai demo on {url} (Ctrl-C stops it)", flush=True)
    if open_browser:
        import webbrowser
        webbrowser.open(url)
    main = threading.current_thread() is threading.main_thread()
    # SIGTERM as Ctrl-C: the normal shutdown runs, and with it Python's exit handlers (e.g. the
    # removal of TensorFlow's __autograph_generated_file*.py temporary files)
    previous = signal.signal(signal.SIGTERM, _interrupt) if main else None
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
        if main:
            signal.signal(signal.SIGTERM, previous)
