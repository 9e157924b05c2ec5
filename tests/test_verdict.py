import math

import pytest

import genutils as gu
from genutils.verdict import check_record, decide, describe, evaluate, make_record, statistic_names

RULE = gu.rule(
    supported=gu.all_of(gu.cond("err", "<=", 0.1), gu.cond("peak", "between", (0.8, 1.25))),
    contradicted=gu.all_of(gu.cond("err", "<=", 0.1), gu.not_(gu.cond("peak", "between", (0.8, 1.25)))),
)


@pytest.mark.parametrize("stats, verdict", [
    ({"err": 0.05, "peak": 1.0}, "supported"),
    ({"err": 0.05, "peak": 2.0}, "contradicted"),
    ({"err": 0.50, "peak": 1.0}, "inconclusive"),
    ({"err": 0.10, "peak": 1.25}, "supported"),  # thresholds are inclusive
    ({"err": 0.05, "peak": float("nan")}, "inconclusive"),  # unknown never decides
    ({"err": 0.05}, "inconclusive"),
])
def test_decide(stats, verdict):
    assert decide(RULE, stats) == verdict


def test_three_valued_logic():
    unknown = gu.cond("missing", ">", 0)
    true, false = gu.cond("x", ">", 0), gu.cond("x", "<", 0)
    stats = {"x": 1.0}
    assert evaluate(gu.all_of(true, unknown), stats) is None
    assert evaluate(gu.all_of(false, unknown), stats) is False
    assert evaluate(gu.any_of(true, unknown), stats) is True
    assert evaluate(gu.any_of(false, unknown), stats) is None
    assert evaluate(gu.not_(unknown), stats) is None
    assert evaluate(gu.cond("x", "outside", (2, 3)), stats) is True


def test_a_rule_whose_branches_overlap_is_an_error():
    bad = gu.rule(supported=gu.cond("x", ">", 0), contradicted=gu.cond("x", ">", 0.5))
    with pytest.raises(ValueError, match="both hold"):
        decide(bad, {"x": 1.0})


def test_unknown_comparison_is_rejected():
    with pytest.raises(ValueError, match="unknown comparison"):
        gu.cond("x", "=<", 1)


def test_describe_and_statistic_names():
    assert describe(RULE["supported"]) == "(err ≤ 0.1 and peak in [0.8, 1.25])"
    assert statistic_names(RULE["contradicted"]) == ["err", "peak"]


def _record(**stats):
    return make_record(chapter="demo", parameters={"seed": 0}, verdict_rule=RULE, statistics=stats, seeds=[0, 1],
                       started=0.0, profile="smoke", environment={"python": "3"})


def test_record_is_complete_and_its_verdict_is_computed():
    rec = _record(err=0.02, peak=1.1)
    assert rec["verdict"] == "supported"
    assert rec["headline"] == ["err", "peak"]
    check_record(rec)
    tampered = {**rec, "verdict": "contradicted"}
    with pytest.raises(AssertionError, match="rule gives supported"):
        check_record(tampered)


def test_record_refuses_a_rule_reading_unmeasured_statistics():
    with pytest.raises(KeyError, match="peak"):
        _record(err=0.02)


def test_record_html_shows_the_verdict_and_the_rule():
    from genutils.verdict import record_html, record_text

    rec = _record(err=0.05, peak=math.nan)
    html = record_html(rec)
    assert "Verdict: inconclusive" in html and "err ≤ 0.1" in html and "unknown" in html
    assert record_text(rec).startswith("Verdict: INCONCLUSIVE")
    assert rec["statistics"]["peak"] is None  # JSON-safe: NaN is stored as None


CHECKED = gu.rule(supported=gu.cond("effect", ">", 0.1), contradicted=gu.cond("effect", "<=", 0.0),
                  checks={"theory_exact": gu.cond("theory_err", "<=", 1e-6)})


@pytest.mark.parametrize("stats, verdict", [
    ({"effect": 0.5, "theory_err": 0.0}, "supported"),
    ({"effect": -0.5, "theory_err": 0.0}, "contradicted"),
    ({"effect": 0.5, "theory_err": 0.3}, "inconclusive"),  # a failing check never lets evidence decide
    ({"effect": -0.5, "theory_err": 0.3}, "inconclusive"),
    ({"effect": 0.5, "theory_err": math.nan}, "inconclusive"),  # an unknown check is no pass
    ({"effect": 0.05, "theory_err": 0.0}, "inconclusive"),  # a passing check alone never supports
])
def test_instrument_checks_can_only_make_a_verdict_inconclusive(stats, verdict):
    assert decide(CHECKED, stats) == verdict


def test_record_keeps_checks_apart_from_evidence():
    from genutils.verdict import record_html

    rec = make_record(chapter="demo", parameters={}, verdict_rule=CHECKED, statistics={"effect": 0.5, "theory_err": 1.0},
                      seeds=[0], started=0.0, profile="smoke", environment={}, run="falsification")
    assert rec["verdict"] == "inconclusive" and rec["checks"] == {"theory_exact": False}
    assert rec["run"] == "falsification" and rec["headline"] == ["effect"]
    check_record(rec)
    html = record_html(rec)
    assert "Instrument checks" in html and "FAILS" in html and "falsification run" in html
    with pytest.raises(KeyError, match="theory_err"):
        make_record(chapter="demo", parameters={}, verdict_rule=CHECKED, statistics={"effect": 0.5}, seeds=[0],
                    started=0.0, profile="smoke", environment={})
    with pytest.raises(ValueError, match="run must be"):
        make_record(chapter="demo", parameters={}, verdict_rule=CHECKED, statistics={"effect": 0.5, "theory_err": 0},
                    seeds=[0], started=0.0, profile="smoke", environment={}, run="null")
    with pytest.raises(TypeError, match="checks maps a name"):
        gu.rule(supported=gu.cond("a", ">", 0), contradicted=gu.cond("a", "<", 0), checks=[gu.cond("a", ">", 0)])
