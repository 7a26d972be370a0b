"""The operators' report from hand-made call records: no database, no Flask."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from ivr.records.reports import CallRecord, Turn, call_line, call_summary, funnel, report_text, steps, summarize

T0 = datetime(2026, 11, 20, 9, 0, tzinfo=timezone.utc)


def turn(seconds, node, next_node, action, speech=None, digits=None, intent=None, confidence=None):
    return Turn(at=T0 + timedelta(seconds=seconds), node=node, speech=speech, digits=digits,
                confidence=confidence, intent=intent, action=action, next_node=next_node)


def call(sid, outcome, turns, connector=None, day=0, duration=None, last_node=None, language="en-US"):
    return CallRecord(call_sid=sid, caller="***0123", called="+18005550199",
                      started_at=T0 + timedelta(days=day), ended_at=None, language=language,
                      connector=connector, station_id=None, outcome=outcome,
                      last_node=last_node or (turns[-1].next_node if turns else None),
                      status="completed", duration_s=duration, turns=tuple(turns))


def released_at_fob(sid="CA1", seconds=40, day=0):
    return call(sid, "released", [
        turn(0, None, "session_screen", "start"),
        turn(10, "session_screen", "connector", "answer:yes", digits="1", intent="yes"),
        turn(20, "connector", "unlock_fob", "answer:ccs", speech="ccs", intent="connector_ccs", confidence=0.9),
        turn(seconds, "unlock_fob", "released", "answer:released", speech="it came out", intent="released"),
    ], connector="ccs", day=day, duration=seconds + 8)


def released_after_reseat():
    return call("CA2", "released", [
        turn(0, None, "session_screen", "start"),
        turn(10, "session_screen", "connector", "answer:yes", digits="1"),
        turn(20, "connector", "unlock_fob", "answer:j1772", speech="j seventeen seventy two"),
        turn(50, "unlock_fob", "reseat", "answer:still_stuck", speech="no"),
        turn(70, "reseat", "reseat", "not_understood:reprompt", speech="Banana   Phone"),
        turn(90, "reseat", "released", "confirmed:released", speech="yes it's out"),
    ], connector="j1772", duration=100)


def abandoned_at_connector(sid="CA3"):
    return call(sid, "abandoned", [
        turn(0, None, "session_screen", "start"),
        turn(12, "session_screen", "connector", "answer:yes", digits="1"),
        turn(30, "connector", "connector", "not_understood:reprompt", speech="banana phone"),
        turn(40, "connector", "connector", "not_understood:reprompt", digits="9"),
    ], duration=45)


def transferred():
    return call("CA4", "transferred", [
        turn(0, None, "session_screen", "start"),
        turn(5, "session_screen", "agent", "agent", digits="0"),
        turn(60, "agent", None, "dial:completed"),
    ], day=1, duration=300)


def hazard():
    return call("CA5", "hazard", [
        turn(0, None, "session_screen", "start"),
        turn(5, "session_screen", "hazard", "hazard", speech="it's smoking"),
    ], connector=None, day=1, duration=30)


ALL = [released_at_fob(), released_after_reseat(), abandoned_at_connector(), transferred(), hazard()]


def test_counts_and_shares():
    report = summarize(ALL)
    assert report["calls"] == 5
    assert report["outcomes"]["released"] == 2 and report["outcomes"]["abandoned"] == 1
    assert report["outcomes"]["transferred"] == 1 and report["outcomes"]["hazard"] == 1
    assert report["outcomes"]["in_progress"] == 0
    assert report["shares"] == {"released": 0.4, "escalated": 0.2, "hazard": 0.2}


def test_the_step_that_released_the_connector():
    assert summarize(ALL)["released_at_step"] == {"reseat": 1, "unlock_fob": 1}
    three = [released_at_fob("A"), released_at_fob("B"), released_after_reseat()]
    assert list(summarize(three)["released_at_step"].items()) == [("unlock_fob", 2), ("reseat", 1)]


def test_where_callers_hung_up_and_median_time_to_release():
    report = summarize(ALL + [abandoned_at_connector("CA6")])
    assert report["hung_up_at"] == {"connector": 2}
    assert report["median_time_to_release_s"] == 65.0          # 40 s and 90 s
    assert summarize([abandoned_at_connector()])["median_time_to_release_s"] is None


def test_not_understood_answers_ranked_and_normalised():
    ranked = summarize(ALL)["not_understood"]
    assert ranked[0] == {"answer": "banana phone", "count": 2}
    assert {"answer": "keys 9", "count": 1} in ranked


def test_by_connector():
    by = summarize(ALL)["by_connector"]
    assert by["ccs"] == {"calls": 1, "released": 1, "released_share": 1.0}
    assert by["unknown"]["calls"] == 3 and by["unknown"]["released"] == 0


def test_by_language():
    spanish = call("CA9", "released", [turn(0, None, "session_screen", "start")], language="es-US")
    report = summarize([*ALL, spanish])
    assert report["by_language"]["es-US"] == {"calls": 1, "released": 1, "released_share": 1.0}
    assert report["by_language"]["en-US"]["calls"] == len(ALL)
    assert "by language:\n  en-US: " in report_text(report) and "  es-US: 1 calls, 1 released (100%)" in report_text(report)


def test_steps_collapse_a_question_asked_again():
    assert steps(abandoned_at_connector()) == ["session_screen", "connector"]
    assert steps(released_after_reseat())[-2:] == ["reseat", "released"]


def test_funnel_orders_steps_as_calls_reach_them():
    rows = funnel(ALL)
    assert rows[0] == {"node": "session_screen", "calls": 5}
    names = [r["node"] for r in rows]
    assert names.index("connector") < names.index("unlock_fob") < names.index("reseat")


def test_outcomes_by_day():
    assert summarize(ALL)["outcomes_by_day"] == {
        "2026-11-20": {"released": 2, "abandoned": 1},
        "2026-11-21": {"hazard": 1, "transferred": 1},
    }


def test_no_calls_is_a_report_not_an_error():
    report = summarize([])
    assert report["calls"] == 0 and report["shares"]["released"] == 0.0
    assert report_text(report) == "calls: 0\n"


def test_listing_masks_the_caller_and_shows_the_path():
    record = released_at_fob()
    line = call_line(record)
    assert "***0123" in line and "session_screen > connector > unlock_fob > released" in line
    summary = call_summary(record)
    assert summary["steps"] == ["session_screen", "connector", "unlock_fob", "released"]
    assert summary["duration_s"] == 48 and summary["started_at"].startswith("2026-11-20T09:00")


def test_report_text_names_what_to_act_on():
    text = report_text(summarize(ALL))
    assert "released 40%" in text and "escalated to a person 20%" in text
    assert "unlock_fob: 1" in text and "banana phone: 2" in text
