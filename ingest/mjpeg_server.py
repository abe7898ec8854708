"""A small real HTTP MJPEG server (``multipart/x-mixed-replace``) for tests and demos.

It serves frames from a video file (looped) or from a synthetic scene at a fixed fps:

* ``GET /video.mjpg``: the MJPEG stream (what IP cameras and OpenCV/FFmpeg speak);
* ``GET /snapshot.jpg``: the latest frame;
* ``GET /``: a page showing the stream.

For reconnect tests it can misbehave on purpose: :meth:`MjpegServer.cut` drops every
open connection, :meth:`MjpegServer.go_down` also stops listening (new connections are
refused) until :meth:`MjpegServer.come_back` listens again on the same port, and
:meth:`MjpegServer.set_stalled` keeps connections open but stops sending frames.

``python -m ingest.mjpeg_server --help`` runs one from the command line.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import signal
import socket
import sys
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import cv2
import numpy as np

from config.settings import SyntheticSource as SyntheticConfig
from core.clock import now_ms

log = logging.getLogger("ingest.mjpeg_server")

BOUNDARY = "frame"


class VideoFileFeed:
    """Frames of a video file, looped forever."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._cap = cv2.VideoCapture(str(self.path))
        if not self._cap.isOpened():
            raise ValueError(f"{self.path}: cannot open video")
        fps = self._cap.get(cv2.CAP_PROP_FPS)
        self.fps = float(fps) if fps and 0 < fps < 1000 else 10.0

    def __call__(self) -> np.ndarray:
        ok, img = self._cap.read()
        if not ok:
            self._cap.release()
            self._cap = cv2.VideoCapture(str(self.path))
            ok, img = self._cap.read()
            if not ok:
                raise ValueError(f"{self.path}: no frames")
        return img

    def close(self) -> None:
        self._cap.release()


class SyntheticFeed:
    """Frames of a :class:`sim.scene.SyntheticScene`."""

    def __init__(self, cfg: SyntheticConfig) -> None:
        from sim.scene import SyntheticScene

        self.fps = cfg.fps
        self._scene = SyntheticScene(cfg, None, now_ms())

    def __call__(self) -> np.ndarray:
        img, _ = self._scene.step()
        return img

    def close(self) -> None:
        pass


class MjpegServer:
    """Serves one MJPEG stream on ``host:port`` (port 0 picks a free one).

    Args:
        feed: Callable returning the next BGR frame; called ``fps`` times a second.
        fps: Frame rate of the stream.
        host: Interface to listen on.
        port: TCP port (0 = any free port; kept across :meth:`go_down`/:meth:`come_back`).
        quality: JPEG quality.

    Attributes:
        frames_sent: Frames written to clients, all clients together.
        connections: Stream connections accepted since start.
    """

    def __init__(
        self,
        feed: Callable[[], np.ndarray],
        fps: float = 10.0,
        host: str = "127.0.0.1",
        port: int = 0,
        quality: int = 80,
    ) -> None:
        self.feed = feed
        self.fps = fps
        self.host = host
        self.port = port
        self.quality = quality
        self.frames_sent = 0
        self.connections = 0
        self._cond = threading.Condition()
        self._jpeg: bytes | None = None
        self._seq = 0
        self._stalled = False
        self._stop = threading.Event()
        self._httpd: ThreadingHTTPServer | None = None
        self._serve_thread: threading.Thread | None = None
        self._producer: threading.Thread | None = None
        self._clients: set[socket.socket] = set()
        self._clients_lock = threading.Lock()

    # ------------------------------------------------------------------ public
    @property
    def url(self) -> str:
        """URL of the MJPEG stream."""
        return f"http://{self.host}:{self.port}/video.mjpg"

    @property
    def clients(self) -> int:
        with self._clients_lock:
            return len(self._clients)

    def start(self) -> MjpegServer:
        """Start producing frames and listening. Returns self."""
        self._stop.clear()
        self._producer = threading.Thread(target=self._produce, name="mjpeg-producer", daemon=True)
        self._producer.start()
        self._listen()
        with self._cond:  # first frame ready before anyone connects
            self._cond.wait_for(lambda: self._jpeg is not None or self._stop.is_set(), timeout=10)
        return self

    def stop(self) -> None:
        """Stop listening, drop all connections and stop producing frames."""
        self._stop.set()
        with self._cond:
            self._cond.notify_all()
        self._unlisten()
        self.cut()
        if self._producer is not None:
            self._producer.join(5)
            self._producer = None

    def cut(self) -> int:
        """Close every open stream connection; returns how many were cut."""
        with self._clients_lock:
            socks = list(self._clients)
            self._clients.clear()
        for s in socks:
            # The handler thread sees the error on its next write and closes the socket.
            with contextlib.suppress(OSError):
                s.shutdown(socket.SHUT_RDWR)
        return len(socks)

    def go_down(self) -> None:
        """Cut all connections and stop listening: new connections are refused."""
        self._unlisten()
        self.cut()

    def come_back(self) -> None:
        """Listen again on the same port after :meth:`go_down`."""
        if self._httpd is None:
            self._listen()

    def set_stalled(self, stalled: bool) -> None:
        """While stalled, connections stay open but no frames are sent."""
        with self._cond:
            self._stalled = stalled
            self._cond.notify_all()

    def __enter__(self) -> MjpegServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # ------------------------------------------------------------------ internals
    def _listen(self) -> None:
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.0"

            def log_message(self, fmt: str, *args: object) -> None:
                log.debug("%s " + fmt, self.address_string(), *args)

            def do_GET(self) -> None:
                path = self.path.split("?", 1)[0]
                if path in ("/video.mjpg", "/stream", "/video"):
                    server._stream(self)
                elif path == "/snapshot.jpg":
                    jpeg = server._latest()
                    self.send_response(200)
                    self.send_header("Content-Type", "image/jpeg")
                    self.send_header("Content-Length", str(len(jpeg)))
                    self.end_headers()
                    self.wfile.write(jpeg)
                elif path == "/":
                    body = b'<!doctype html><title>MJPEG</title><img src="/video.mjpg">'
                    self.send_response(200)
                    self.send_header("Content-Type", "text/html")
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                else:
                    self.send_error(404)

        httpd = ThreadingHTTPServer((self.host, self.port), Handler)
        httpd.daemon_threads = True
        self.port = int(httpd.server_address[1])
        self._httpd = httpd
        self._serve_thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)
        self._serve_thread.start()

    def _unlisten(self) -> None:
        httpd, self._httpd = self._httpd, None
        if httpd is not None:
            httpd.shutdown()
            httpd.server_close()
        if self._serve_thread is not None:
            self._serve_thread.join(5)
            self._serve_thread = None

    def _latest(self) -> bytes:
        with self._cond:
            self._cond.wait_for(lambda: self._jpeg is not None, timeout=5)
            return self._jpeg or b""

    def _produce(self) -> None:
        period = 1.0 / self.fps
        next_t = time.monotonic()
        while not self._stop.is_set():
            try:
                img = self.feed()
                ok, buf = cv2.imencode(".jpg", img, [cv2.IMWRITE_JPEG_QUALITY, self.quality])
            except Exception:
                log.exception("mjpeg feed failed")
                self._stop.wait(1.0)
                continue
            if ok:
                with self._cond:
                    self._jpeg = buf.tobytes()
                    self._seq += 1
                    self._cond.notify_all()
            next_t += period
            delay = next_t - time.monotonic()
            if delay < -1.0:
                next_t = time.monotonic()
            elif delay > 0:
                self._stop.wait(delay)

    def _stream(self, handler: BaseHTTPRequestHandler) -> None:
        sock = handler.connection
        with self._clients_lock:
            self._clients.add(sock)
            self.connections += 1
        try:
            handler.send_response(200)
            handler.send_header("Content-Type", f"multipart/x-mixed-replace; boundary={BOUNDARY}")
            handler.send_header("Cache-Control", "no-cache, private")
            handler.send_header("Pragma", "no-cache")
            handler.end_headers()
            seen = 0

            def ready() -> bool:
                return self._stop.is_set() or (self._seq != seen and not self._stalled)

            while not self._stop.is_set():
                with self._cond:
                    self._cond.wait_for(ready, timeout=1.0)
                    if self._stop.is_set():
                        break
                    if self._seq == seen or self._stalled or self._jpeg is None:
                        continue
                    jpeg, seen = self._jpeg, self._seq
                with self._clients_lock:
                    if sock not in self._clients:
                        break  # cut
                part = (
                    f"--{BOUNDARY}\r\nContent-Type: image/jpeg\r\nContent-Length: {len(jpeg)}\r\n\r\n".encode()
                    + jpeg
                    + b"\r\n"
                )
                handler.wfile.write(part)
                handler.wfile.flush()
                self.frames_sent += 1
        except (BrokenPipeError, ConnectionResetError, OSError):
            pass
        finally:
            with self._clients_lock:
                self._clients.discard(sock)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        prog="python -m ingest.mjpeg_server",
        description="Serve a video file or a synthetic road scene as an HTTP MJPEG stream (like an IP camera).",
    )
    src = ap.add_mutually_exclusive_group()
    src.add_argument("--video", type=Path, help="video file to loop")
    src.add_argument("--synthetic", action="store_true", help="serve the synthetic road scene (default)")
    ap.add_argument("--seed", type=int, default=0, help="synthetic scene seed")
    ap.add_argument("--width", type=int, default=960)
    ap.add_argument("--height", type=int, default=540)
    ap.add_argument("--lanes", type=int, default=2, help="synthetic lanes per direction")
    ap.add_argument("--vpm", type=float, default=30.0, help="synthetic vehicles per minute")
    ap.add_argument("--fps", type=float, default=None, help="stream fps (default: the video's, or 10)")
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=8081)
    ap.add_argument("--quality", type=int, default=80, help="JPEG quality")
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    feed: VideoFileFeed | SyntheticFeed
    if args.video:
        try:
            feed = VideoFileFeed(args.video)
        except ValueError as e:
            print(f"error: {e}", file=sys.stderr)
            return 2
    else:
        feed = SyntheticFeed(
            SyntheticConfig(
                seed=args.seed,
                width=args.width,
                height=args.height,
                fps=args.fps or 10.0,
                realtime=False,
                lanes_per_direction=args.lanes,
                vehicles_per_minute=args.vpm,
            )
        )
    server = MjpegServer(feed, fps=args.fps or feed.fps, host=args.host, port=args.port, quality=args.quality)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    server.start()
    print(
        f"serving {args.video or 'synthetic scene'} at {server.url} ({server.fps:g} fps); Ctrl-C to stop",
        file=sys.stderr,
    )
    stop.wait()
    server.stop()
    feed.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
