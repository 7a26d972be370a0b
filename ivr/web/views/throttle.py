"""Password guessing at /dashboard, slowed: a few wrong guesses per client, and from everyone, a minute."""
from __future__ import annotations

import threading
import time
from collections import deque


class Throttle:
    """Wrong passwords per client, and from everyone, in a sliding window.

    A client (its address, from a trusted proxy only: ivr/web/proxies.py) gets
    PER_CLIENT wrong guesses a window, everyone together GLOBAL; past either,
    every attempt is refused unchecked until the window has moved on. Kept in
    the worker's memory: with WEB_CONCURRENCY workers the caps are that many
    times larger, still far from a guessing rate.
    """

    WINDOW_S = 60.0
    PER_CLIENT = 5
    GLOBAL = 30
    MAX_CLIENTS = 10_000

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._clients: dict[str, deque] = {}
        self._everyone: deque = deque()

    def _trim(self, times: deque, now: float) -> deque:
        while times and now - times[0] > self.WINDOW_S:
            times.popleft()
        return times

    def blocked(self, client: str) -> float | None:
        """Seconds to wait, or None when this client may try."""
        now = time.monotonic()
        with self._lock:
            everyone = self._trim(self._everyone, now)
            mine = self._trim(self._clients.get(client, deque()), now)
            waits = [self.WINDOW_S - (now - times[0]) for times, cap in ((mine, self.PER_CLIENT), (everyone, self.GLOBAL))
                     if len(times) >= cap]
        return max(waits) if waits else None

    def failed(self, client: str) -> tuple[int, int]:
        """Note a wrong password; return (this client's, everyone's) in the window."""
        now = time.monotonic()
        with self._lock:
            if client not in self._clients and len(self._clients) >= self.MAX_CLIENTS:
                self._clients = {k: v for k, v in self._clients.items() if self._trim(v, now)}
                if len(self._clients) >= self.MAX_CLIENTS:
                    self._clients.clear()
            mine = self._trim(self._clients.setdefault(client, deque()), now)
            mine.append(now)
            self._trim(self._everyone, now).append(now)
            return len(mine), len(self._everyone)
