"""When the line may act on the station: the pure rules live in the call layer
(ivr/call/station_policy.py), which decides on them; re-exported here for the
back end's tools and views."""
from __future__ import annotations

from ivr.call.station_policy import Decision, UnlockPolicy, hazard_stop, may_unlock, settings_problems, unlock_policy

__all__ = ["Decision", "UnlockPolicy", "hazard_stop", "may_unlock", "settings_problems", "unlock_policy"]
