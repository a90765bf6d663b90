# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright (c) 2026, oomguard.linux contributors
"""A real headless Chromium, driven over the DevTools protocol on a pipe (no library, no network port).

``Browser(exe).page(path, width)`` loads a file at a viewport width (mobile emulation below 500 px) and returns a
``Page`` whose ``evaluate(js)`` runs JavaScript in it and whose ``screenshot(path)`` writes a full-page PNG. Used by
the audit tests to check the report page the way people see it (layout, scrolling, order of sections).
"""
from __future__ import annotations

import base64
import json
import os
import shutil
import subprocess
import tempfile
import time


class BrowserError(RuntimeError):
    """Chromium did not answer, or answered with an error."""


class Browser:
    def __init__(self, exe: str, timeout: float = 60.0):
        self.timeout = timeout
        self.profile = tempfile.mkdtemp(prefix="oomguard-chromium-")
        cmd_r, self._cmd_w = os.pipe()
        self._out_r, out_w = os.pipe()

        def wire():  # in the child: fd 3 reads commands, fd 4 writes answers (--remote-debugging-pipe)
            a, b = os.dup(cmd_r), os.dup(out_w)  # first out of the way of 3 and 4
            os.dup2(a, 3)  # dup2 makes them inheritable; os.pipe()'s own fds are not, so nothing else leaks
            os.dup2(b, 4)
        self.proc = subprocess.Popen(  # pylint: disable=subprocess-popen-preexec-fn
            [exe, "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
             "--disable-background-networking", "--disable-component-update", "--disable-sync", "--hide-scrollbars",
             "--remote-debugging-pipe", f"--user-data-dir={self.profile}", "about:blank"],
            preexec_fn=wire, close_fds=False, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        os.close(cmd_r)
        os.close(out_w)
        self._buffer = b""
        self._next_id = 0
        self._events = []

    def close(self):
        try:
            os.close(self._cmd_w)
        except OSError:
            pass
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        os.close(self._out_r)
        shutil.rmtree(self.profile, ignore_errors=True)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def _read_message(self, deadline):
        while b"\0" not in self._buffer:
            if time.monotonic() > deadline or self.proc.poll() is not None:
                err = self.proc.stderr.read().decode(errors="replace")[-2000:] if self.proc.poll() is not None else ""
                raise BrowserError("chromium did not answer in time " + err)
            import select  # pylint: disable=import-outside-toplevel
            ready, _w, _x = select.select([self._out_r], [], [], 0.5)
            if ready:
                chunk = os.read(self._out_r, 1 << 20)
                if not chunk:
                    raise BrowserError("chromium closed the pipe")
                self._buffer += chunk
        raw, self._buffer = self._buffer.split(b"\0", 1)
        return json.loads(raw)

    def send(self, method, params=None, session=None):
        self._next_id += 1
        message = {"id": self._next_id, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = session
        os.write(self._cmd_w, json.dumps(message).encode() + b"\0")
        deadline = time.monotonic() + self.timeout
        while True:
            answer = self._read_message(deadline)
            if answer.get("id") == self._next_id:
                if "error" in answer:
                    raise BrowserError(f"{method}: {answer['error']}")
                return answer.get("result", {})
            self._events.append(answer)

    def wait_event(self, method, session=None):
        deadline = time.monotonic() + self.timeout
        while True:
            for index, event in enumerate(self._events):
                if event.get("method") == method and (session is None or event.get("sessionId") == session):
                    return self._events.pop(index)
            self._events.append(self._read_message(deadline))

    def page(self, path, width, height=900):
        target = self.send("Target.createTarget", {"url": "about:blank"})["targetId"]
        session = self.send("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
        self.send("Emulation.setDeviceMetricsOverride",
                  {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": width < 500}, session)
        self.send("Page.enable", {}, session)
        self.send("Page.navigate", {"url": f"file://{path}"}, session)
        self.wait_event("Page.loadEventFired", session)
        return Page(self, session)


class Page:
    def __init__(self, browser, session):
        self.browser = browser
        self.session = session

    def evaluate(self, expression):
        result = self.browser.send("Runtime.evaluate", {"expression": expression, "returnByValue": True}, self.session)
        if "exceptionDetails" in result:
            raise BrowserError(f"JavaScript failed: {result['exceptionDetails']}")
        return result["result"].get("value")

    def screenshot(self, path, top=0, height=None):
        """A PNG of the page from ``top`` (CSS px), ``height`` px high (default: to the end, at most 12,000 px)."""
        size = self.browser.send("Page.getLayoutMetrics", {}, self.session)["cssContentSize"]
        height = min(height or size["height"] - top, 12000)
        shot = self.browser.send("Page.captureScreenshot", {
            "format": "png", "captureBeyondViewport": True,
            "clip": {"x": 0, "y": top, "width": size["width"], "height": height, "scale": 1}}, self.session)
        with open(path, "wb") as fh:
            fh.write(base64.b64decode(shot["data"]))
        return path
