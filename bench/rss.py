"""Peak resident memory of this process (and its children) sampled by a background thread."""

from __future__ import annotations

import resource
import threading
import time

import psutil


class RssSampler:
    """Samples RSS every `interval` seconds; `mark()` starts a new stage, `peak_since_mark()` reads it.

    Children (if any: a stage might spawn processes) are found every `child_scan` seconds and added to the
    sample. The kernel's own high-water mark of this process (`ru_maxrss`) is available as a cross-check
    of the sampled overall peak.
    """

    def __init__(self, interval: float = 0.01, child_scan: float = 0.25) -> None:
        self._proc = psutil.Process()
        self._interval = interval
        self._child_scan = child_scan
        self._children: list[psutil.Process] = []
        self._lock = threading.Lock()
        self._stage_peak = 0
        self._overall_peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="rss-sampler", daemon=True)

    def sample(self) -> int:
        total = self._proc.memory_info().rss
        for child in list(self._children):
            try:
                total += child.memory_info().rss
            except psutil.Error:
                self._children.remove(child)
        return total

    def _run(self) -> None:
        last_scan = 0.0
        while not self._stop.is_set():
            now = time.monotonic()
            if now - last_scan >= self._child_scan:
                try:
                    self._children = self._proc.children(recursive=True)
                except psutil.Error:
                    self._children = []
                last_scan = now
            rss = self.sample()
            with self._lock:
                self._stage_peak = max(self._stage_peak, rss)
                self._overall_peak = max(self._overall_peak, rss)
            self._stop.wait(self._interval)

    def __enter__(self) -> RssSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def mark(self) -> int:
        """Start a new stage; returns the RSS now."""
        rss = self.sample()
        with self._lock:
            self._stage_peak = rss
            self._overall_peak = max(self._overall_peak, rss)
        return rss

    def peak_since_mark(self) -> int:
        rss = self.sample()
        with self._lock:
            self._stage_peak = max(self._stage_peak, rss)
            self._overall_peak = max(self._overall_peak, rss)
            return self._stage_peak

    @property
    def overall_peak(self) -> int:
        with self._lock:
            return self._overall_peak


def kernel_peak_rss() -> int:
    """The kernel's high-water mark of this process's RSS, in bytes (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


MB = 1024 * 1024
