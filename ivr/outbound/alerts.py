"""Operator alerts: every hazard heard on the line reaches the on-call person at once.

An alert is written to the database as pending before anything is sent, so a crash
or a restart never loses one: whatever is still pending is sent by the next sweep (a
later webhook in any worker, the next start-up, or `ivr alerts send`). Sending
happens on a background thread, so the caller never waits for it; a failure is
logged and retried with growing pauses, and every attempt's result is kept with the
call.

Two channels, each optional, configured in the environment:
- a text message to the on-call number (IVR_ALERT_SMS_TO) through Twilio's REST API;
- a JSON POST to the operator's webhook (IVR_ALERT_WEBHOOK_URL), signed with
  HMAC-SHA256 when IVR_ALERT_WEBHOOK_SECRET is set. US texts from a 10DLC number
  need A2P registration and can be filtered, so the webhook is the dependable path.
"""
from __future__ import annotations

import hashlib
import hmac
import json
import logging
import os
import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

import requests

from ivr.outbound import sms

log = logging.getLogger("ivr.alerts")

CHANNELS = ("sms", "webhook")
POST_TIMEOUT = 4.0            # seconds per attempt; a sweep never holds a caller anyway
RETRY_AFTER = (0, 30, 120, 600, 1800, 3600)   # seconds before attempt 1, 2, ... 6
MAX_ATTEMPTS = len(RETRY_AFTER)
LEASE = timedelta(seconds=60)  # an attempt in flight: no other worker takes it meanwhile
SWEEP_EVERY = 30.0             # seconds: how often a webhook may look for pending alerts
MAX_SAID = 200                 # characters of what the caller said


@dataclass(frozen=True)
class Alert:
    """What the operator needs to act: where, which connector, what was said, when, who."""

    call_sid: str
    tier: str                  # "fire" or "damage"
    at: datetime
    station: str | None = None
    connector: str | None = None
    said: str | None = None
    caller_last4: str | None = None
    # A follow-up to the hazard alert (issue 14): what the station did, e.g. the remote
    # stop's result; sent as its own alert with tier "stop" (one per call and channel).
    note: str | None = None

    def payload(self) -> dict:
        payload = {"event": "hazard", "tier": self.tier, "call_sid": self.call_sid,
                   "at": self.at.astimezone(timezone.utc).isoformat(timespec="seconds"),
                   "station": self.station, "connector": self.connector,
                   "said": (self.said or "")[:MAX_SAID] or None, "caller_last4": self.caller_last4}
        if self.note:
            payload.update(event="hazard_update", note=self.note[:MAX_SAID])
        return payload


def text_of(payload: dict) -> str:
    """The text message: short enough for one or two segments."""
    if payload.get("event") == "hazard_update":
        return (f"HAZARD UPDATE, call {payload.get('call_sid')}: {payload.get('note')} "
                f"Station {payload.get('station') or 'unknown'}, connector {payload.get('connector') or 'unknown'}.")
    what = "FIRE/SMOKE" if payload.get("tier") == "fire" else "DAMAGE"
    parts = [f"HAZARD ({what}) reported on the charging help line.",
             f"Station {payload.get('station') or 'unknown'}, connector {payload.get('connector') or 'unknown'}."]
    if payload.get("said"):
        parts.append(f'Caller said: "{payload["said"]}".')
    at = (payload.get("at") or "").replace("T", " ").replace("+00:00", " UTC")
    parts.append(f"At {at}.")
    if payload.get("caller_last4"):
        parts.append(f"Caller's number ends {payload['caller_last4']}.")
    parts.append(f"Call {payload.get('call_sid')}.")
    return " ".join(parts)


def signature(secret: str, body: bytes) -> str:
    """The X-IVR-Signature header: 'sha256=' and the hex HMAC of the exact body sent."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class Channels:
    """Where alerts go; a channel left unset is not used."""

    sms_to: str | None = None
    sender: sms.Sender | None = None
    webhook_url: str | None = None
    webhook_secret: str | None = None

    @property
    def names(self) -> tuple[str, ...]:
        found = []
        if self.sms_to and self.sender:
            found.append("sms")
        if self.webhook_url:
            found.append("webhook")
        return tuple(found)


def deliver(channels: Channels, channel: str, payload: dict) -> str | None:
    """Send one alert on one channel: None when it went, else the reason it did not."""
    if channel == "sms":
        if not (channels.sms_to and channels.sender):
            return "no sms channel configured"
        result = sms.send(channels.sender, channels.sms_to, text_of(payload))
        return None if result.ok else f"sms {result.reason}" + (f" ({result.error_code})" if result.error_code else "")
    if channel == "webhook":
        if not channels.webhook_url:
            return "no webhook configured"
        body = json.dumps(payload, sort_keys=True).encode()
        headers = {"Content-Type": "application/json", "User-Agent": "ivr-alerts"}
        if channels.webhook_secret:
            headers["X-IVR-Signature"] = signature(channels.webhook_secret, body)
        try:
            response = requests.post(channels.webhook_url, data=body, headers=headers, timeout=POST_TIMEOUT)
        except requests.RequestException as exc:
            return f"webhook {type(exc).__name__}"
        return None if 200 <= response.status_code < 300 else f"webhook HTTP {response.status_code}"
    return f"unknown channel {channel!r}"


def retry_at(attempts: int, now: datetime) -> datetime | None:
    """When to try again after `attempts` failed tries; None once they are used up."""
    if attempts >= MAX_ATTEMPTS:
        return None
    return now + timedelta(seconds=RETRY_AFTER[attempts])


class Dispatcher:
    """Sends pending alerts on one background thread per process.

    `raise_alert` records first (the caller's webhook waits only for that insert),
    then wakes the thread. `kick` is cheap and time-gated: any webhook may call it.
    """

    def __init__(self, recorder, channels: Channels):
        self.recorder = recorder
        self.channels = channels
        self._lock = threading.Lock()
        self._executor: ThreadPoolExecutor | None = None
        self._pid = 0
        self._last_sweep = float("-inf")
        self._pending: list[Future] = []

    def raise_alert(self, alert: Alert) -> None:
        """Record the alert as pending on every channel, then send it in the background."""
        channels = self.channels.names
        if not channels:
            log.info("call %s: hazard (%s) reported; no alert channel is configured "
                        "(IVR_ALERT_WEBHOOK_URL, IVR_ALERT_SMS_TO)", alert.call_sid, alert.tier)
            return
        self.recorder.alert_pending(alert.call_sid, alert.tier, alert.payload(), channels)
        self.kick(force=True)

    def kick(self, force: bool = False) -> None:
        """Look for pending alerts soon, on the background thread; never blocks."""
        if not self.channels.names:
            return
        now = _monotonic()
        with self._lock:
            if not force and now - self._last_sweep < SWEEP_EVERY:
                return
            self._last_sweep = now
            if self._executor is None or self._pid != os.getpid():   # a forked worker starts its own
                self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="ivr-alerts")
                self._pid = os.getpid()
            self._pending = [f for f in self._pending if not f.done()]
            self._pending.append(self._executor.submit(self._sweep_logged))

    def wait(self, timeout: float = 10.0) -> None:
        """Wait for the sweeps started so far (tests, `ivr alerts send`)."""
        for future in list(self._pending):
            future.result(timeout=timeout)

    def sweep(self) -> int:
        """Send every alert that is due now; return how many went."""
        sent = 0
        for row in self.recorder.due_alerts():
            if not self.recorder.claim_alert(row["id"], row["attempts"], LEASE):
                continue   # another worker has it
            error = deliver(self.channels, row["channel"], row["payload"])
            attempts = row["attempts"] + 1
            if error is None:
                sent += 1
                self.recorder.alert_result(row["id"], "sent", attempts, None, None)
                log.info("call %s: hazard alert sent by %s", row["call_sid"], row["channel"])
                continue
            again = retry_at(attempts, _now())
            status = "pending" if again else "failed"
            self.recorder.alert_result(row["id"], status, attempts, error, again)
            log.error("call %s: hazard alert by %s failed (attempt %d of %d): %s%s", row["call_sid"],
                      row["channel"], attempts, MAX_ATTEMPTS, error, "" if again else "; giving up")
        return sent

    def _sweep_logged(self) -> None:
        try:
            self.sweep()
        except Exception as exc:
            log.error("sending hazard alerts failed (%s: %s); the next sweep tries again",
                      type(exc).__name__, str(exc).splitlines()[0][:200] if str(exc) else "")


def _now() -> datetime:
    return datetime.now(timezone.utc)


def _monotonic() -> float:
    return time.monotonic()
