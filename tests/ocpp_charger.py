"""The charge point behind the test CPO, over OCPP 1.6J with mobilityhouse `ocpp`.

The CPO's central system and the charger are two `ocpp.v16.ChargePoint`s joined by
two asyncio queues (the library takes any object with async send/recv as a
connection), on an event loop of their own thread. Every message is validated
against OCPP 1.6's JSON schemas by the library on both sides.

- STOP_SESSION: RemoteStopTransaction → (Accepted) the charger stops after
  `stop_delay` s and sends StopTransaction(reason=Remote) → CommandResult ACCEPTED;
  (Rejected) → CommandResult REJECTED.
- UNLOCK_CONNECTOR: UnlockConnector → Unlocked / UnlockFailed / NotSupported →
  CommandResult ACCEPTED / FAILED / NOT_SUPPORTED.
"""
from __future__ import annotations

import asyncio
import threading
from datetime import datetime, timezone

from ocpp.routing import on
from ocpp.v16 import ChargePoint, call, call_result
from ocpp.v16.enums import Action, Reason, RemoteStartStopStatus, UnlockStatus

UNLOCK_RESULTS = {"Unlocked": "ACCEPTED", "UnlockFailed": "FAILED", "NotSupported": "NOT_SUPPORTED"}


class QueueLink:
    def __init__(self, inbox: asyncio.Queue, outbox: asyncio.Queue):
        self.inbox, self.outbox = inbox, outbox

    async def send(self, message: str) -> None:
        await self.outbox.put(message)

    async def recv(self) -> str:
        return await self.inbox.get()


class Charger(ChargePoint):
    """The station: answers the central system as `behaviour` says."""

    def __init__(self, link, behaviour: dict, log: list):
        super().__init__("CP-1", link, response_timeout=10)
        self.behaviour, self.log = behaviour, log

    @on(Action.remote_stop_transaction)
    async def remote_stop(self, transaction_id: int):
        status = self.behaviour.get("stop", "Accepted")
        self.log.append(("RemoteStopTransaction", transaction_id, status))
        if status == "Accepted":
            asyncio.get_running_loop().create_task(self._stopped(transaction_id))
        return call_result.RemoteStopTransaction(status=RemoteStartStopStatus(status))

    async def _stopped(self, transaction_id: int) -> None:
        await asyncio.sleep(self.behaviour.get("stop_delay", 0.8))   # the contactor opens, the meter is read
        await self.call(call.StopTransaction(meter_stop=12500, transaction_id=transaction_id,
                                             timestamp=datetime.now(timezone.utc).isoformat(),
                                             reason=Reason.remote))

    @on(Action.unlock_connector)
    async def unlock(self, connector_id: int):
        status = self.behaviour.get("unlock", "Unlocked")
        self.log.append(("UnlockConnector", connector_id, status))
        await asyncio.sleep(self.behaviour.get("unlock_delay", 0.3))
        return call_result.UnlockConnector(status=UnlockStatus(status))


class CentralSystem(ChargePoint):
    """The CPO's side of the OCPP link: tells the CPO when a transaction stopped."""

    def __init__(self, link, on_stopped, log: list):
        super().__init__("CP-1", link, response_timeout=10)
        self.on_stopped, self.log = on_stopped, log

    @on(Action.stop_transaction)
    async def stop_transaction(self, meter_stop: int, timestamp: str, transaction_id: int, **_):
        self.log.append(("StopTransaction", transaction_id, "Remote"))
        asyncio.get_running_loop().run_in_executor(None, self.on_stopped, transaction_id)
        return call_result.StopTransaction()


class OcppSite:
    """One charger behind the CPO, run on a thread of its own."""

    def __init__(self, on_stopped):
        self.behaviour: dict = {}
        self.log: list = []
        self.loop = asyncio.new_event_loop()
        ready = threading.Event()
        threading.Thread(target=self._run, args=(on_stopped, ready), daemon=True).start()
        ready.wait(10)

    def _run(self, on_stopped, ready) -> None:
        asyncio.set_event_loop(self.loop)
        to_charger, to_central = asyncio.Queue(), asyncio.Queue()
        self.central = CentralSystem(QueueLink(to_central, to_charger), on_stopped, self.log)
        self.charger = Charger(QueueLink(to_charger, to_central), self.behaviour, self.log)
        self.loop.create_task(self.central.start())
        self.loop.create_task(self.charger.start())
        ready.set()
        self.loop.run_forever()

    def remote_stop(self, transaction_id: int) -> str:
        """RemoteStopTransaction's status (Accepted/Rejected), or raises."""
        answer = asyncio.run_coroutine_threadsafe(
            self.central.call(call.RemoteStopTransaction(transaction_id=transaction_id)), self.loop).result(15)
        return str(answer.status)

    def unlock(self, connector_id: int) -> str:
        answer = asyncio.run_coroutine_threadsafe(
            self.central.call(call.UnlockConnector(connector_id=connector_id)), self.loop).result(15)
        return str(answer.status)
