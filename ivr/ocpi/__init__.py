"""The station in the loop (issue 14): see the station, stop its session, unlock it.

- `backend`: the interface the call engine uses (`StationBackend`), and `none`.
- `client`: an OCPI 2.2.1 client (Versions, Locations, Sessions, Commands).
- `service`: the `ocpi` back end: the client, the local EVSE index, the records.
- `views`: the line's own OCPI endpoints (versions, credentials, CommandResult), and
  the agent's unlock key (a Twilio webhook, signature-checked).
- `store`: the queries on its tables (ivr/records/stations.py, migration 0005).

`init_app(app)` wires it into the app factory.
"""
from __future__ import annotations


def init_app(app, env=None) -> None:
    """Register the OCPI endpoints and build the station back end named by
    IVR_STATION_BACKEND (default `none`) into app.extensions["ivr.station"]."""
    import os

    from .service import from_env
    from .views import agent_bp, bp

    env = os.environ if env is None else env
    for name in ("IVR_OCPI_INBOUND_TOKEN", "IVR_OCPI_PARTY_ID", "IVR_OCPI_COUNTRY_CODE"):
        if env.get(name):
            app.config[name] = env[name].strip()
    engine = app.extensions["ivr"].recorder.engine
    app.extensions["ivr.station"] = from_env(env, engine)
    if bp.name not in app.blueprints:   # the app factory registers it; a test may again
        app.register_blueprint(bp)
    if agent_bp.name not in app.blueprints:   # the agent's unlock key: guarded as a webhook (ivr/app.py)
        app.register_blueprint(agent_bp)
