"""One webhook's round: the conversation decides, the effects run (their results fed
back as events, in the same request), the reply is rendered as TwiML."""
from __future__ import annotations

from flask import Response

from ivr.call import events as ev
from ivr.call import outcomes as out
from ivr.call.codec import Place
from ivr.call.conversation import Conversation
from ivr.web.services import services
from ivr.web.views import effects, readers, render
from ivr.web.views.web import xml

MAX_ROUNDS = 4   # a text's result, and room to spare: the loop cannot spin


def conversation() -> Conversation:
    content = services().content
    return Conversation(content.engine, content.escalation)


def respond(place: Place | None, event: ev.Event) -> Response:
    """The conversation's answer to `event` at `place`, with its effects carried out."""
    talk, ctx = conversation(), readers.context()
    outcome = talk.handle(place, event, ctx)
    for _ in range(MAX_ROUNDS):
        follow_ups = effects.carry_out(outcome.effects)
        if not isinstance(outcome.reply, out.Pending):
            return xml(render.render(outcome.reply))
        if not follow_ups:
            raise RuntimeError("a pending reply without a result to feed back")
        outcome = talk.handle(outcome.reply.place, follow_ups[0], ctx)
    raise RuntimeError("the effect loop did not settle")
