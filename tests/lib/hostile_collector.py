"""A hostile OTLP/HTTP "collector" on raw sockets, for the exporter's
integration tests: it reads every request properly (headers, then
Content-Length bytes) and then misbehaves the same way on every request, in
ways http.server cannot (otlp_receiver.Receiver scripts well-formed answers).

Modes:
  silent    never answers; holds the connection open until closed
  trickle   a valid 200 answer written one byte every `interval` seconds
  huge      200 with a body of `size` bytes (Content-Length), streamed
  redirect  `status` (301/302/303/307/308) with a Location to itself
  status    `status` with the given `headers` (e.g. Retry-After)
  reset     accepts the connection and closes it at once, unread (each
            connection counts as a request)
  cut       a 200 answer whose body stops short of its Content-Length: the
            connection is closed mid-response

Each request's arrival time (time.time()) is appended to `times`."""

import socket
import threading
import time


class HostileCollector:
    def __init__(self, mode, status=503, headers=None, interval=0.2, size=64 << 20):
        self.mode = mode
        self.status = status
        self.headers = dict(headers or {})
        self.interval = interval
        self.size = size
        self.times = []
        self.lock = threading.Lock()
        self.closed = threading.Event()
        self.conns = []
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.endpoint = "http://127.0.0.1:%d" % self.port
        threading.Thread(target=self._accept, daemon=True).start()

    @property
    def requests(self):
        with self.lock:
            return len(self.times)

    def _accept(self):
        while not self.closed.is_set():
            try:
                c, _ = self.sock.accept()
            except OSError:
                return
            if self.mode == "reset":
                with self.lock:
                    self.times.append(time.time())
                c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\1\0\0\0\0\0\0\0")
                c.close()
                continue
            with self.lock:
                self.conns.append(c)
            threading.Thread(target=self._serve, args=(c,), daemon=True).start()

    def _read_request(self, c, buf):
        """One request off @c (buf: bytes already read); returns the bytes
        left after it, or None when the connection ended."""
        while b"\r\n\r\n" not in buf:
            d = c.recv(65536)
            if not d:
                return None
            buf += d
        head, rest = buf.split(b"\r\n\r\n", 1)
        length = 0
        for line in head.split(b"\r\n")[1:]:
            k, _, v = line.partition(b":")
            if k.strip().lower() == b"content-length":
                length = int(v.strip())
        while len(rest) < length:
            d = c.recv(65536)
            if not d:
                return None
            rest += d
        with self.lock:
            self.times.append(time.time())
        return rest[length:]

    def _answer(self, status, headers, body=b""):
        lines = ["HTTP/1.1 %d Hostile" % status] + \
                ["%s: %s" % (k, v() if callable(v) else v) for k, v in headers.items()]
        return ("\r\n".join(lines) + "\r\nContent-Length: %d\r\n\r\n" % len(body)).encode() \
            + body

    def _serve(self, c):
        buf = b""
        try:
            while not self.closed.is_set():
                buf = self._read_request(c, buf)
                if buf is None:
                    return
                if self.mode == "silent":
                    self.closed.wait()
                    return
                if self.mode == "trickle":
                    for ch in self._answer(200, {"Content-Type": "application/x-protobuf"}):
                        if self.closed.wait(self.interval):
                            return
                        c.sendall(bytes([ch]))
                elif self.mode == "huge":
                    c.sendall(("HTTP/1.1 200 OK\r\nContent-Type: application/x-protobuf\r\n"
                               "Content-Length: %d\r\n\r\n" % self.size).encode())
                    chunk = b"\x0a" * 65536
                    for _ in range(self.size // len(chunk)):
                        c.sendall(chunk)
                elif self.mode == "redirect":
                    c.sendall(self._answer(self.status,
                                           {"Location": self.endpoint + "/v1/traces"}))
                elif self.mode == "status":
                    c.sendall(self._answer(self.status, self.headers))
                elif self.mode == "cut":
                    c.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/x-protobuf\r\n"
                              b"Content-Length: 1000\r\n\r\n\x0a\x05")
                    c.shutdown(socket.SHUT_RDWR)
                    return
        except OSError:  # the exporter gave up on us (timeout, body cap)
            return
        finally:
            c.close()

    def close(self):
        self.closed.set()
        self.sock.close()
        with self.lock:
            for c in self.conns:
                try:
                    c.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    def __enter__(self):
        return self

    def __exit__(self, *a):
        self.close()
