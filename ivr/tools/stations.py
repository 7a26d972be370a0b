"""`ivr ocpi register` and `ivr stations check|sync|find`: the operator's commands."""
from __future__ import annotations

import os
import secrets

import click

# Imported when a command runs, not when `ivr` starts: `ivr call` needs none of it.
REQUIRED_MODULES = ("locations", "sessions", "commands")


def _engine():
    from ivr.tools.records import records_engine
    return records_engine()


def _backend(engine):
    from ivr.config import ConfigError
    from ivr.ocpi.service import OcpiBackend, from_env
    try:
        backend = from_env(os.environ, engine)
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from None
    if not isinstance(backend, OcpiBackend):
        raise click.ClickException("no OCPI back end: set IVR_OCPI_VERSIONS_URL (and IVR_OCPI_TOKEN, "
                                   "or run `ivr ocpi register`)")
    return backend


def _problem(url: str, exc) -> click.ClickException:
    from ivr.ocpi.backend import Outcome
    """One clear line: a wrong URL, a wrong token or a missing module."""
    if exc.status in (401, 403):
        hint = "wrong token: check IVR_OCPI_TOKEN, or run `ivr ocpi register` with the operator's TOKEN_A"
    elif "missing" in exc.detail:
        hint = "ask the operator to enable it for this line"
    elif exc.outcome is Outcome.TIMEOUT:
        hint = "the CPO is slow or the URL points at something that does not answer"
    else:
        hint = "check IVR_OCPI_VERSIONS_URL"
    return click.ClickException(f"{url}: {exc.detail} ({hint})")


@click.group(help="The OCPI 2.2.1 connection to the operator's back end (CPO).")
def ocpi() -> None:
    pass


@ocpi.command(help="Run the OCPI 2.2.1 credentials handshake: the operator's TOKEN_A in, TOKEN_C stored "
                   "in the database for every worker. The line must be running at IVR_PUBLIC_URL: "
                   "the CPO reads our versions endpoint with the token we give it.")
@click.option("--token-a", envvar="IVR_OCPI_TOKEN_A", prompt="TOKEN_A from the operator", hide_input=True,
              help="The registration token the CPO issued (or IVR_OCPI_TOKEN_A).")
@click.option("--party-id", default=lambda: os.environ.get("IVR_OCPI_PARTY_ID", "IVR"), show_default="IVR",
              help="Our OCPI party id (3 characters), as agreed with the operator.")
@click.option("--country-code", default=lambda: os.environ.get("IVR_OCPI_COUNTRY_CODE", "US"),
              show_default="US")
def register(token_a: str, party_id: str, country_code: str) -> None:
    from ivr.ocpi import store
    from ivr.ocpi.client import Budget, OcpiClient, OcpiError
    from ivr.ocpi.service import ENDPOINTS_KEY, TOKEN_B_KEY, TOKEN_C_KEY
    versions_url = (os.environ.get("IVR_OCPI_VERSIONS_URL") or "").strip()
    public = (os.environ.get("IVR_OCPI_PUBLIC_URL") or os.environ.get("IVR_PUBLIC_URL") or "").strip().rstrip("/")
    if not versions_url:
        raise click.ClickException("set IVR_OCPI_VERSIONS_URL to the CPO's versions endpoint")
    if not public:
        raise click.ClickException("set IVR_PUBLIC_URL: the CPO must reach this line's /ocpi/versions")
    engine = _engine()
    client = OcpiClient(versions_url, token_a.strip())
    budget = Budget(30.0, per_request=10.0)
    try:
        endpoints = client.endpoints(budget)
    except OcpiError as exc:
        raise _problem(versions_url, exc) from None
    if "credentials" not in endpoints:
        raise click.ClickException(f"{versions_url}: the CPO lists no credentials module in its 2.2.1 details")
    previous = store.get_state(engine, TOKEN_B_KEY)
    token_b = secrets.token_urlsafe(32)
    store.set_state(engine, TOKEN_B_KEY, {"token": token_b})   # before the POST: the CPO calls us with it
    body = {"token": token_b, "url": f"{public}/ocpi/versions",
            "roles": [{"role": "OTHER", "party_id": party_id[:3], "country_code": country_code[:2],
                       "business_details": {"name": "Stuck-connector phone line"}}]}
    try:
        data, _ = client.call("POST", endpoints["credentials"], budget, json=body)
    except OcpiError as exc:
        if previous:
            store.set_state(engine, TOKEN_B_KEY, previous)
        else:
            store.drop_state(engine, TOKEN_B_KEY)
        raise _problem(endpoints["credentials"], exc) from None
    if not isinstance(data, dict) or not isinstance(data.get("token"), str):
        raise click.ClickException("the CPO answered the registration without a Credentials object")
    store.set_state(engine, TOKEN_C_KEY, {"versions_url": versions_url, "token": data["token"],
                                          "cpo_versions_url": data.get("url")})
    store.drop_state(engine, ENDPOINTS_KEY)
    roles = ", ".join(f"{r.get('role')} {r.get('country_code')}*{r.get('party_id')}"
                      for r in data.get("roles") or [] if isinstance(r, dict))
    click.echo(f"registered with {roles or 'the CPO'}: TOKEN_C stored in the database; "
               "TOKEN_A is no longer used (IVR_OCPI_TOKEN may be unset)")


@click.group(help="The charging stations, as the operator's back end sees them.")
def stations() -> None:
    pass


@stations.command(help="Check the connection: the OCPI version, its modules and a few EVSEs; "
                       "or one line saying what is wrong.")
def check() -> None:
    from ivr.ocpi import store
    from ivr.ocpi.client import Budget, OcpiError
    engine = _engine()
    backend = _backend(engine)
    budget = Budget(15.0, per_request=8.0)
    try:
        client = backend.client()
        version_url = client.version_url(budget)
        endpoints = backend.endpoints(budget, fresh=True)
    except OcpiError as exc:
        raise _problem(backend.versions_url, exc) from None
    missing = [m for m in REQUIRED_MODULES if m not in endpoints]
    if missing:
        raise click.ClickException(f"{backend.versions_url}: OCPI 2.2.1 found, but the CPO offers no "
                                   f"{', '.join(missing)} module (ask the operator to enable it for this line)")
    click.echo(f"OCPI 2.2.1 at {version_url}")
    for name in sorted(endpoints):
        click.echo(f"  {name:<12} {endpoints[name]}")
    try:
        page = client.page(endpoints["locations"], budget, {"limit": 5})
    except OcpiError as exc:
        raise _problem(endpoints["locations"], exc) from None
    shown = 0
    for location in page.items:
        for evse in (location.get("evses") or []) if isinstance(location, dict) else []:
            if shown < 5 and isinstance(evse, dict):
                standards = "/".join(str(c.get("standard")) for c in evse.get("connectors") or [])
                click.echo(f"  EVSE {evse.get('physical_reference') or evse.get('evse_id') or evse.get('uid')}"
                           f" at {location.get('id')}: {evse.get('status')}, {standards}")
                shown += 1
    total = f"{page.total} locations" if page.total is not None else "locations"
    click.echo(f"{total} in all; {store.count_evses(engine)} EVSEs in the local index "
               "(`ivr stations sync` brings it up to date)")


@stations.command(help="Bring the local EVSE index up to date (Locations changed since the last sync; "
                       "--full for all). Run it from cron, e.g. every 15 minutes.")
@click.option("--full", is_flag=True, help="Fetch every location, not only the changed ones.")
def sync(full: bool) -> None:
    from ivr.ocpi import store
    from ivr.ocpi.client import OcpiError
    engine = _engine()
    backend = _backend(engine)
    try:
        written = backend.sync(full=full)
    except OcpiError as exc:
        raise _problem(backend.versions_url, exc) from None
    click.echo(f"{written} EVSEs written; {store.count_evses(engine)} in the index")


@stations.command(help="Look up a label as a caller would say or key it, and read the station.")
@click.argument("label")
def find(label: str) -> None:
    engine = _engine()
    backend = _backend(engine)
    lookup = backend.find_evse(label)
    if lookup.evse is None:
        extra = "; ".join(e.label for e in lookup.candidates)
        raise click.ClickException(f"{label}: {lookup.outcome} ({lookup.detail}{': ' + extra if extra else ''})")
    evse = lookup.evse
    status = backend.status(evse)
    session = status.session.id if status.session else "none seen (other parties' sessions are not shown)"
    click.echo(f"{evse.label} ({evse.evse_id or evse.uid}) at {evse.location_id}: {status.evse_status or status.outcome}; "
               f"connectors {', '.join(c.id + ' ' + c.standard for c in evse.connectors)}; active session: {session}")


@stations.command(help="Run a simulated station behind a simulated OCPI 2.2.1 back end, for trying the line "
                       "without a CPO; prints the environment that points the line at it. Ctrl-C stops it. "
                       "(`ivr call --station-sim SCENARIO` does this for a call in the terminal.)")
@click.option("--scenario", type=click.Choice(["running", "wont-stop", "chademo-locked", "all", "down"]),
              default="all", show_default=True,
              help="running: a session that stops; wont-stop: one that won't; chademo-locked: a CHAdeMO handle "
                   "the station holds; all: the three at one site; down: a back end that does not answer.")
@click.option("--port", type=int, default=8765, show_default=True)
@click.option("--line-url", default=lambda: os.environ.get("IVR_PUBLIC_URL") or "http://127.0.0.1:5000",
              show_default="$IVR_PUBLIC_URL or http://127.0.0.1:5000",
              help="Where the line listens (`ivr serve`), for the CommandResults.")
@click.option("--stop-delay", type=float, default=2.0, show_default=True,
              help="Seconds the station takes to stop a session.")
def simulate(scenario: str, port: int, line_url: str, stop_delay: float) -> None:
    import time

    from ivr.tools import station_sim
    sim = station_sim.Simulation(scenario, stop_delay=stop_delay)
    server = station_sim.Server(station_sim.make_app(sim), port=port)
    click.echo(f"simulated CPO ({scenario}) at {server.url}/ocpi/versions; site {station_sim.LOCATION}, "
               f"chargers: {', '.join(e['physical_reference'] for e in sim.evses)}")
    click.echo("point the line at it (then `ivr stations sync`, and `ivr serve`):")
    for name, value in station_sim.line_env(server.url, line_url.rstrip("/")).items():
        click.echo(f"  export {name}={value}")
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        server.stop()
