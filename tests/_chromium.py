"""A minimal headless-Chromium driver over the DevTools protocol, standard library only.

Chromium's ``--remote-debugging-pipe`` speaks the DevTools protocol as NUL-terminated JSON on file
descriptors 3 (commands in) and 4 (replies and events out), so no websocket client is needed. Used
by the report's browser test to load a page, collect console errors and network requests, evaluate
checks in the page and take a screenshot.
"""

from __future__ import annotations

import base64
import contextlib
import fcntl
import json
import os
import queue
import shutil
import subprocess
import threading
import time
from pathlib import Path
from typing import Any

CANDIDATES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")


def find_chromium() -> str | None:
    """The Chromium binary: $TOKENSMITH_CHROMIUM, else the first of the usual names on PATH."""
    explicit = os.environ.get("TOKENSMITH_CHROMIUM")
    if explicit:
        return explicit if Path(explicit).is_file() else None
    return next((found for name in CANDIDATES if (found := shutil.which(name))), None)


class ChromiumError(RuntimeError):
    pass


def _high_fd(fd: int) -> int:
    """Move ``fd`` above 10 so the child can dup2 onto 3 and 4 without clobbering it."""
    moved = fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, 10)
    os.close(fd)
    return moved


class HeadlessChromium:
    """One headless browser with one page; use as a context manager.

    Attributes:
        console_errors: console.error/assert calls, uncaught exceptions and error log entries, as text.
        requests: URLs of every network request the page made.
    """

    def __init__(self, binary: str, profile_dir: Path, *, width: int = 1280, height: int = 900) -> None:
        self.binary = binary
        self.profile_dir = profile_dir
        self.width, self.height = width, height
        self.console_errors: list[str] = []
        self.requests: list[str] = []
        self._next_id = 0
        self._replies: dict[int, dict[str, Any]] = {}
        self._events: queue.Queue[dict[str, Any]] = queue.Queue()
        self._lock = threading.Condition()
        self._session: str | None = None

    # -- process and transport --------------------------------------------------------------------
    def __enter__(self) -> HeadlessChromium:
        to_child_read, to_child_write = (_high_fd(fd) for fd in os.pipe())
        from_child_read, from_child_write = (_high_fd(fd) for fd in os.pipe())

        def wire_pipes() -> None:  # runs in the child before exec
            os.dup2(to_child_read, 3)
            os.dup2(from_child_write, 4)

        args = [
            self.binary, "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
            "--remote-debugging-pipe", f"--user-data-dir={self.profile_dir}", "--no-first-run",
            "--no-default-browser-check", "--disable-extensions", "--disable-background-networking",
            "--disable-sync", "--disable-component-update", "--mute-audio", "--hide-scrollbars",
            f"--window-size={self.width},{self.height}", "about:blank",
        ]
        self._process = subprocess.Popen(
            args, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
            preexec_fn=wire_pipes, pass_fds=(3, 4),  # kept open after wire_pipes put the pipes there
        )
        os.close(to_child_read)
        os.close(from_child_write)
        self._out = os.fdopen(to_child_write, "wb", buffering=0)
        self._in = os.fdopen(from_child_read, "rb", buffering=0)
        self._stderr_lines: list[str] = []
        threading.Thread(target=self._read_messages, daemon=True).start()
        threading.Thread(target=self._drain_stderr, daemon=True).start()
        target = self.call("Target.createTarget", url="about:blank", session=False)["targetId"]
        self._session = self.call("Target.attachToTarget", targetId=target, flatten=True, session=False)["sessionId"]
        for domain in ("Runtime", "Log", "Page", "Network"):
            self.call(f"{domain}.enable")
        self.call("Emulation.setDeviceMetricsOverride", width=self.width, height=self.height,
                  deviceScaleFactor=1, mobile=False)
        return self

    def __exit__(self, *exc: object) -> None:
        # The browser may already be gone; it is killed below if it does not exit.
        with contextlib.suppress(ChromiumError, OSError):
            self.call("Browser.close", session=False, timeout=5)
        try:
            self._process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()
        self._out.close()

    def _drain_stderr(self) -> None:
        for line in self._process.stderr:
            self._stderr_lines.append(line.decode("utf-8", "replace").rstrip())

    def _read_messages(self) -> None:
        buffer = b""
        while True:
            chunk = self._in.read(1 << 16)
            if not chunk:
                with self._lock:
                    self._lock.notify_all()
                return
            buffer += chunk
            while b"\0" in buffer:
                raw, buffer = buffer.split(b"\0", 1)
                message = json.loads(raw)
                if "id" in message:
                    with self._lock:
                        self._replies[message["id"]] = message
                        self._lock.notify_all()
                else:
                    self._on_event(message)

    def _on_event(self, event: dict[str, Any]) -> None:
        method, params = event.get("method"), event.get("params", {})
        if method == "Runtime.exceptionThrown":
            details = params.get("exceptionDetails", {})
            description = details.get("exception", {}).get("description") or details.get("text")
            self.console_errors.append(f"uncaught: {description}")
        elif method == "Runtime.consoleAPICalled" and params.get("type") in ("error", "assert"):
            texts = [str(a.get("value", a.get("description", ""))) for a in params.get("args", [])]
            self.console_errors.append("console.error: " + " ".join(texts))
        elif method == "Log.entryAdded" and params.get("entry", {}).get("level") == "error":
            entry = params["entry"]
            self.console_errors.append(f"log ({entry.get('source')}): {entry.get('text')} {entry.get('url', '')}")
        elif method == "Network.requestWillBeSent":
            self.requests.append(params.get("request", {}).get("url", ""))
        self._events.put(event)

    def call(self, method: str, *, session: bool = True, timeout: float = 30, **params: Any) -> dict[str, Any]:
        """Send one command and wait for its reply (raises ChromiumError on a protocol error)."""
        self._next_id += 1
        message: dict[str, Any] = {"id": self._next_id, "method": method, "params": params}
        if session and self._session:
            message["sessionId"] = self._session
        self._out.write(json.dumps(message).encode() + b"\0")
        deadline = time.monotonic() + timeout
        with self._lock:
            while self._next_id not in self._replies:
                remaining = deadline - time.monotonic()
                if remaining <= 0 or self._process.poll() is not None:
                    raise ChromiumError(f"no reply to {method}; chromium stderr: {self._stderr_lines[-5:]}")
                self._lock.wait(remaining)
            reply = self._replies.pop(self._next_id)
        if "error" in reply:
            raise ChromiumError(f"{method}: {reply['error']}")
        return reply.get("result", {})

    # -- page actions -----------------------------------------------------------------------------
    def open(self, url: str, *, timeout: float = 30) -> None:
        """Navigate and wait for the load event."""
        while not self._events.empty():
            self._events.get_nowait()
        self.call("Page.navigate", url=url)
        deadline = time.monotonic() + timeout
        while True:
            try:
                event = self._events.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                raise ChromiumError(f"{url} did not finish loading in {timeout} s") from None
            if event.get("method") == "Page.loadEventFired":
                return

    def evaluate(self, expression: str) -> Any:
        """Run JavaScript in the page and return its JSON value (a thrown error raises ChromiumError)."""
        result = self.call("Runtime.evaluate", expression=expression, returnByValue=True, awaitPromise=True)
        if "exceptionDetails" in result:
            raise ChromiumError(f"page script failed: {result['exceptionDetails']}")
        return result["result"].get("value")

    def screenshot(self, path: Path, *, max_height: int = 2400, selector: str | None = None) -> Path:
        """PNG of the page from its top (or from the element ``selector``), up to ``max_height`` tall."""
        top = 0
        if selector is not None:
            top = int(self.evaluate(f"document.querySelector({json.dumps(selector)}).getBoundingClientRect().top"
                                    " + window.scrollY"))
        page_height = int(self.evaluate("document.documentElement.scrollHeight"))
        height = max(1, min(max_height, page_height - top))
        shot = self.call("Page.captureScreenshot", format="png", captureBeyondViewport=True,
                         clip={"x": 0, "y": top, "width": self.width, "height": height, "scale": 1})
        path.write_bytes(base64.b64decode(shot["data"]))
        return path
