"""Issue 3's call, through the webhooks: "hang on" waits, "what?" repeats,
a muddled "released" is confirmed, and "there's smoke" stops everything."""
from __future__ import annotations

from helpers import action_of, fields, gather, said, twiml


def post(client, root, **form):
    return twiml(client.post(action_of(root), data=fields(**form)))


def test_a_hands_free_call(client):
    root = twiml(client.post("/voice", data=fields(CallStatus="ringing")))
    root = post(client, root, SpeechResult="see see yes", Confidence="0.7")        # CCS, misheard
    step = said(root)
    assert "release button" in step

    # "Hang on, I need both hands": a long, quiet wait at the same step.
    root = post(client, root, SpeechResult="hang on I need both hands", Confidence="0.85")
    assert int(gather(root).get("timeout")) >= 20 and "continue" in said(root).lower()
    root = post(client, root)                                                      # silence while busy
    assert "release button" in said(root) and "didn't hear" not in said(root)      # the step again, in full

    # "What?": the step again; the second time, slower.
    root = post(client, root, SpeechResult="what", Confidence="0.6")
    assert "release button" in said(root) and not list(root.iter("prosody"))
    root = post(client, root, SpeechResult="say that again", Confidence="0.8")
    assert "release button" in said(root) and list(root.iter("prosody"))

    root = post(client, root, SpeechResult="it's stiff", Confidence="0.9")        # rigid: locked
    assert "screen" in said(root)
    root = post(client, root, SpeechResult="yeah it's done", Confidence="0.9")    # the session has ended
    root = post(client, root, SpeechResult="no adapter", Confidence="0.9")
    assert "key fob" in said(root)

    # A muddled release ("won't" heard as "will"): confirmed before any goodbye.
    root = post(client, root, SpeechResult="it will come out", Confidence="0.55")
    assert gather(root) is not None and root.find("Hangup") is None
    assert "to be sure" in said(root)
    root = post(client, root, SpeechResult="no it won't", Confidence="0.8")
    assert "five times" in said(root)                                              # the next step

    # "There's smoke": safety, and no release step after it.
    root = post(client, root, SpeechResult="hold on there's smoke", Confidence="0.7")
    assert "step away" in said(root).lower() and "9 1 1" in said(root)
    root = post(client, root, SpeechResult="no", Confidence="0.9")
    assert root.find("Hangup") is not None and "key fob" not in said(root)
