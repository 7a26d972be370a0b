"""A cached question's TwiML is the text twiml's builders make, for every node and
language (ivr/web/twiml_cache.py, issue 16)."""
from __future__ import annotations

import xml.etree.ElementTree as ET
from urllib.parse import urlencode

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ivr.call.engine import Line
from ivr.call.understanding import hints
from ivr.web import twiml, twiml_cache

CONNECTORS = (None, "ccs", "chademo", "j1772", "tesla", "unsure")
URL_TEXT = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=20)


@pytest.fixture(scope="module")
def questions(loaded):
    """(node, language) for every question of the shipped flow in every language."""
    return [(node, lang) for node in loaded.flow.nodes.values() if node.kind == "ask"
            for lang in sorted(loaded.catalogs)]


def spoken(loaded, node, lang, connector, slow, arriving, fluent, offer):
    """The lines a question speaks, as the engine makes them (ivr.call.engine._ask)."""
    catalog = loaded.catalogs[lang]
    keys = (node.say if arriving else ()) + node.ask + (() if fluent else (f"keys_{node.expect}",))
    lines = [Line(text, slow) for text in (catalog.text_for(k, connector) for k in keys) if text]
    if offer:   # a line in another language, with its own voice ("Para español, oprima 9")
        other = loaded.catalogs[next(c for c in sorted(loaded.catalogs) if c != lang)]
        lines.insert(0, Line(other.text("language_offer"), voice=other.voice, language=other.language))
    return tuple(lines)


@settings(max_examples=400, deadline=None)
@given(data=st.data(), connector=st.sampled_from(CONNECTORS), slow=st.booleans(), arriving=st.booleans(),
       fluent=st.booleans(), offer=st.booleans(), keyed=st.booleans(), timeout=st.integers(1, 60),
       state=st.dictionaries(st.sampled_from(["node", "lang", "path", "mode", "tries", "c"]), URL_TEXT, max_size=5),
       base=st.sampled_from(["https://ivr.example.com", "http://localhost", "https://x.example:8443/prefix"]))
def test_a_cached_question_is_the_text_the_builders_make(loaded, questions, data, connector, slow, arriving,
                                                         fluent, offer, keyed, timeout, state, base):
    node, lang = data.draw(st.sampled_from(questions))
    catalog = loaded.catalogs[lang]
    lines = spoken(loaded, node, lang, connector, slow, arriving, fluent, offer)
    voice = twiml.Voice(catalog.voice, catalog.language)
    words = hints(node.expect, catalog.vocabulary)
    action = f"{base}/voice/turn?{urlencode(state)}"
    fresh, cached = (twiml.keyed_entry, twiml_cache.keyed_entry) if keyed else (twiml.question, twiml_cache.question)
    for _ in range(2):   # the first call fills the cache, the second reads it
        assert str(cached(lines, action=action, voice=voice, timeout=timeout, hints=words)) == \
            str(fresh(list(lines), action=action, voice=voice, timeout=timeout, hints=words))


@given(action=st.text(max_size=40))
def test_any_action_text_at_all_comes_out_as_the_builders_write_it(action):
    """Even text our url_for never makes (quotes, markup, newlines): built fresh, then."""
    voice = twiml.Voice("Polly.Joanna-Neural", "en-US")
    lines = ("Is it still stuck?",)
    assert str(twiml_cache.question(lines, action=action, voice=voice, timeout=8)) == \
        str(twiml.question(list(lines), action=action, voice=voice, timeout=8))


def test_a_cached_reply_is_twiml_that_parses_with_its_own_url(loaded):
    voice = twiml.Voice("Polly.Joanna-Neural", "en-US")
    one = str(twiml_cache.question(("Hello.",), action="https://a.example/t?x=1&y=2", voice=voice, timeout=8))
    two = str(twiml_cache.question(("Hello.",), action="https://a.example/t?x=3&y=4", voice=voice, timeout=8))
    for text, url in ((one, "https://a.example/t?x=1&y=2"), (two, "https://a.example/t?x=3&y=4")):
        root = ET.fromstring(text)
        assert root.find("Gather").get("action") == url
        assert root.find("Redirect").text == url


def test_nothing_can_be_added_to_a_serialized_reply():
    reply = twiml_cache.question(("Hello.",), action="https://a.example/t", voice=twiml.Voice("v", "en-US"), timeout=8)
    with pytest.raises(TypeError):
        reply.append(twiml.VoiceResponse())


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(endpoint=st.sampled_from(["voice.turn", "handoff.dial_result", "voice.whisper", "handoff.offer",
                                 "handoff.voicemail", "handoff.queue_wait", "voice.whisper_accept"]),
       params=st.dictionaries(st.sampled_from(["node", "lang", "path", "mode", "tries", "ch", "at", "cb"]),
                              URL_TEXT, max_size=6),
       public=st.sampled_from([None, "https://ivr.example.com", "https://ivr.example.com/prefix"]),
       host=st.sampled_from(["localhost", "ivr.example.org:8080"]))
def test_an_action_url_is_url_fors(app, endpoint, params, public, host):
    """ivr.web.views.web.absolute writes the URL url_for writes, by any host or IVR_PUBLIC_URL."""
    from flask import url_for

    from ivr.web.views.web import absolute
    settings_ = app.extensions["ivr"].settings
    saved = settings_.public_url
    object.__setattr__(settings_, "public_url", public)
    try:
        with app.test_request_context("/voice/turn", base_url=f"http://{host}"):
            expected = public + url_for(endpoint, **params) if public else url_for(endpoint, _external=True, **params)
            assert absolute(endpoint, **params) == expected
            assert absolute(endpoint, **params) == expected   # from the cache
    finally:
        object.__setattr__(settings_, "public_url", saved)


def test_a_cars_record_remembered_is_the_one_worked_out(loaded):
    """A car's name is matched once per loaded cars file (issue 16): the answer remembered
    is the one a fresh copy of the file (nothing remembered) works out."""
    from dataclasses import replace

    from ivr.call import vehicles

    shipped = loaded.engine.vehicles if hasattr(loaded.engine, "vehicles") else None
    for name in ("Nissan Leaf", "a Hyundai Kona", "Polestar 2", "unknown", "tesla model y", "", None):
        for _ in range(2):
            fresh = replace(shipped) if shipped is not None else None
            assert vehicles.record_of(shipped, name) == vehicles.record_of(fresh, name)
