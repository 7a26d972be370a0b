"""The call records an operator's command works on: DATABASE_URL, at the current schema."""
from __future__ import annotations

import os

import click


def records_engine():
    """The database the line records to (DATABASE_URL), upgraded to the current schema."""
    from ivr.config import DEFAULT_DATABASE_URL
    from ivr.records import db

    url = os.environ.get("DATABASE_URL") or DEFAULT_DATABASE_URL
    try:
        engine = db.connect(url)
        db.migrate(engine)
    except Exception as exc:
        raise click.ClickException(f"cannot open the call records at DATABASE_URL: {exc}") from None
    return engine
