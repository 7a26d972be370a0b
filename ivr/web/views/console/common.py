"""What every console view needs: the engine, the flow, the operator's words, the
filters from the URL, and one way to say the records cannot be read."""
from __future__ import annotations

import logging
from typing import Any

from flask import render_template, request
from sqlalchemy.engine import Engine

from ivr.basics.kinds import OUTCOMES
from ivr.call.flow import Flow
from ivr.language.prompts import Catalog
from ivr.records import db
from ivr.records.console import Filters
from ivr.web.services import services
from ivr.web.views.console import filters as url_filters
from ivr.web.views.console import words

log = logging.getLogger("ivr.dashboard")


def engine() -> Engine:
    return services().recorder.engine


def flow() -> Flow:
    return services().content.flow


def operator() -> Catalog:
    """The operator's language (IVR_AGENT_LANGUAGE), for every label."""
    catalogs = services().content.catalogs
    return catalogs.get(services().settings.agent_language) or next(iter(catalogs.values()))


def chosen() -> tuple[Filters, list[str]]:
    return url_filters.read(request.args)


def page(template: str, filters: Filters, problems: list[str], **context: Any):
    """A console page with the filter bar and the helpers its template uses."""
    catalog = operator()
    return render_template(
        template, filters=filters, problems=problems, args=request.args.to_dict(),
        query=lambda **changes: url_filters.query(request.args, **changes),
        label=lambda node: words.node_label(flow(), catalog, node),
        outcome_words=lambda outcome: words.outcome_words(catalog, outcome),
        connector_words=words.connector_words, outcomes=OUTCOMES,
        connectors=("ccs", "chademo", "j1772", "tesla"), languages=sorted(services().content.catalogs),
        **context)


def unreadable(exc: Exception, template: str = "console/error.html"):
    log.error("dashboard: the database could not be read (%s)", db.describe(exc))
    return render_template(template, error="The call records cannot be read right now; see the server log.",
                           filters=None, problems=[], args={}, query=lambda **_: ""), 503
