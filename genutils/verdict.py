"""Verdicts: a rule declared as data, its evaluation, and the record a chapter emits.

A rule is a small JSON-able tree: leaves compare a named statistic with a
threshold, ``all`` / ``any`` / ``not`` combine them. Evaluation is three-valued:
a missing or NaN statistic makes a leaf *unknown*, and an unknown rule never
yields ``supported`` or ``contradicted``. The record carries the rule, so a test
(or a reader) can re-evaluate the verdict from the numbers alone.

Evidence and checks are kept apart. The `supported` and `contradicted`
branches read the *evidence*: measurements that could have come out either
way. A rule's *checks* are instrument checks: statistics that hold by
construction when the code is right (a theorem evaluated exactly, a bound that
holds by arithmetic, a property the generator guarantees). A failing or
unknown check makes the verdict ``inconclusive``; a passing one never makes
it ``supported``.
"""
from __future__ import annotations

import html
import math
import time
from collections.abc import Mapping, Sequence
from typing import Any

VERDICTS = ("supported", "contradicted", "inconclusive")
MIME_TYPE = "application/vnd.genbook.verdict+json"
RUNS = ("main", "falsification")
RECORD_FIELDS = ("chapter", "profile", "run", "parameters", "verdict", "statistics", "rule", "checks",
                 "headline", "seeds", "wall_time_s", "environment")

_OPS = {
    "<": lambda x, v: x < v,
    "<=": lambda x, v: x <= v,
    ">": lambda x, v: x > v,
    ">=": lambda x, v: x >= v,
    "between": lambda x, v: v[0] <= x <= v[1],
    "outside": lambda x, v: not v[0] <= x <= v[1],
}

Condition = dict[str, Any]


def cond(stat: str, op: str, value: float | Sequence[float]) -> Condition:
    """A leaf: statistic `stat` compared with `value` by `op` (<, <=, >, >=, between, outside)."""
    if op not in _OPS:
        raise ValueError(f"unknown comparison {op!r}; use one of {', '.join(_OPS)}")
    if op in ("between", "outside"):
        lo, hi = value
        value = [float(lo), float(hi)]
    else:
        value = float(value)
    return {"stat": stat, "op": op, "value": value}


def all_of(*conditions: Condition) -> Condition:
    """True when every condition holds."""
    return {"all": list(conditions)}


def any_of(*conditions: Condition) -> Condition:
    """True when at least one condition holds."""
    return {"any": list(conditions)}


def not_(condition: Condition) -> Condition:
    """True when the condition fails (unknown stays unknown)."""
    return {"not": condition}


def rule(supported: Condition, contradicted: Condition,
         checks: Mapping[str, Condition] | None = None) -> dict[str, Any]:
    """A verdict rule: `supported` if its condition holds, `contradicted` if its does, else inconclusive.

    `checks` names instrument checks (``{"theory_matches_exact": cond(...)}``): conditions that hold by
    construction when the instrument works. Any check that fails or cannot be evaluated makes the
    verdict inconclusive; checks never decide between supported and contradicted.
    """
    if checks is not None and not isinstance(checks, Mapping):
        raise TypeError("checks maps a name to a condition, e.g. {'exact_matches': gu.cond('err', '<', 1e-6)}")
    for name, condition in (checks or {}).items():
        if not isinstance(name, str) or not isinstance(condition, Mapping):
            raise TypeError("checks maps a name to a condition, e.g. {'exact_matches': gu.cond('err', '<', 1e-6)}")
    return {"supported": supported, "contradicted": contradicted, "checks": dict(checks or {})}


def evaluate(condition: Condition, stats: Mapping[str, float]) -> bool | None:
    """Three-valued evaluation: True, False, or None when a needed statistic is missing or NaN."""
    if "stat" in condition:
        x = stats.get(condition["stat"])
        if x is None or (isinstance(x, float) and math.isnan(x)):
            return None
        return bool(_OPS[condition["op"]](x, condition["value"]))
    if "not" in condition:
        inner = evaluate(condition["not"], stats)
        return None if inner is None else not inner
    key = "all" if "all" in condition else "any"
    results = [evaluate(c, stats) for c in condition[key]]
    decisive = False if key == "all" else True
    if decisive in results:
        return decisive
    return None if None in results else not decisive


def check_results(verdict_rule: Mapping[str, Any], stats: Mapping[str, float]) -> dict[str, bool | None]:
    """Each instrument check of a rule: True (passes), False (fails) or None (cannot be evaluated)."""
    return {name: evaluate(c, stats) for name, c in verdict_rule.get("checks", {}).items()}


def decide(verdict_rule: Mapping[str, Any], stats: Mapping[str, float]) -> str:
    """Apply a rule to statistics; both branches holding at once is a bug in the rule.

    Evidence decides; a failing or unknown instrument check turns any decision into inconclusive.
    """
    sup = evaluate(verdict_rule["supported"], stats)
    con = evaluate(verdict_rule["contradicted"], stats)
    if sup and con:
        raise ValueError("the rule's supported and contradicted conditions both hold: fix the rule")
    if not all(check_results(verdict_rule, stats).values()):
        return "inconclusive"
    return "supported" if sup else "contradicted" if con else "inconclusive"


def rule_statistics(verdict_rule: Mapping[str, Any]) -> list[str]:
    """Every statistic a rule reads: its two branches, then its checks."""
    names: list[str] = []
    for condition in [verdict_rule["supported"], verdict_rule["contradicted"],
                      *verdict_rule.get("checks", {}).values()]:
        names += [n for n in statistic_names(condition) if n not in names]
    return names


def statistic_names(condition: Condition) -> list[str]:
    """Every statistic a condition reads, in order of first appearance."""
    if "stat" in condition:
        return [condition["stat"]]
    children = [condition["not"]] if "not" in condition else condition.get("all", condition.get("any", []))
    names: list[str] = []
    for child in children:
        names += [n for n in statistic_names(child) if n not in names]
    return names


def describe(condition: Condition) -> str:
    """The condition in words, e.g. ``median_rel_err ≤ 0.1 and not (...)``."""
    if "stat" in condition:
        op, v = condition["op"], condition["value"]
        if op == "between":
            return f"{condition['stat']} in [{v[0]:g}, {v[1]:g}]"
        if op == "outside":
            return f"{condition['stat']} outside [{v[0]:g}, {v[1]:g}]"
        return f"{condition['stat']} {op.replace('<=', '≤').replace('>=', '≥')} {v:g}"
    if "not" in condition:
        return f"not ({describe(condition['not'])})"
    key = "all" if "all" in condition else "any"
    joined = f" {'and' if key == 'all' else 'or'} ".join(describe(c) for c in condition[key])
    return f"({joined})" if len(condition[key]) > 1 else joined


def _format(x: Any) -> str:
    if x is None:
        return "n/a"
    return f"{x:.4g}" if isinstance(x, float) else str(x)


def headline_text(record: Mapping[str, Any]) -> str:
    """The deciding statistics as one short string for tables: ``a=0.1, b=2``."""
    return ", ".join(f"{n}={_format(record['statistics'].get(n))}" for n in record["headline"])


def _finite_or_none(value: Any) -> float | None:
    """JSON has no NaN: an unmeasurable statistic is stored as None (and reads as unknown)."""
    if value is None:
        return None
    value = float(value)
    return value if math.isfinite(value) else None


def make_record(*, chapter: str, parameters: Mapping[str, Any], verdict_rule: Mapping[str, Any],
                statistics: Mapping[str, float], seeds: Sequence[int], headline: Sequence[str] | None = None,
                started: float, profile: str, environment: Mapping[str, Any], run: str = "main") -> dict[str, Any]:
    """Build the machine-readable verdict record; the verdict is computed here, never passed in.

    `run` says whether this is the chapter's main run or its falsification run (the parameters that
    remove the cause the paper names).
    """
    if run not in RUNS:
        raise ValueError(f"run must be one of {', '.join(RUNS)}, got {run!r}")
    verdict_rule = {"checks": {}, **verdict_rule}
    stats = {k: _finite_or_none(v) for k, v in statistics.items()}
    missing = [n for n in rule_statistics(verdict_rule) if n not in stats]
    if missing:
        raise KeyError(f"the rule reads statistics that were not measured: {', '.join(sorted(set(missing)))}")
    record = {
        "chapter": chapter,
        "profile": profile,
        "run": run,
        "parameters": dict(parameters),
        "verdict": decide(verdict_rule, stats),
        "statistics": stats,
        "rule": dict(verdict_rule),
        "checks": check_results(verdict_rule, stats),
        "headline": list(headline or statistic_names(verdict_rule["supported"])),
        "seeds": [int(s) for s in seeds],
        "wall_time_s": round(time.time() - started, 3),
        "environment": dict(environment),
    }
    return record


_COLOURS = {"supported": "#1b7f3b", "contradicted": "#b42318", "inconclusive": "#8a6d00"}


def record_html(record: Mapping[str, Any]) -> str:
    """The visible verdict box: verdict, the rule in words with each branch's truth, the statistics."""
    colour = _COLOURS[record["verdict"]]
    stats = record["statistics"]
    rows = []
    for branch in ("supported", "contradicted"):
        cond_ = record["rule"][branch]
        holds = evaluate(cond_, stats)
        mark = {True: "holds", False: "fails", None: "unknown"}[holds]
        rows.append(f"<tr><td><b>{branch}</b> if</td><td><code>{html.escape(describe(cond_))}</code></td>"
                    f"<td>{mark}</td></tr>")
    checks = record["rule"].get("checks", {})
    check_rows = "".join(
        f"<tr><td>check <code>{html.escape(name)}</code></td><td><code>{html.escape(describe(c))}</code></td>"
        f"<td>{ {True: 'passes', False: 'FAILS', None: 'unknown'}[evaluate(c, stats)]}</td></tr>"
        for name, c in checks.items())
    if check_rows:
        check_rows = ('<tr><td colspan="3"><i>Instrument checks (hold by construction when the code is right; '
                      'a failure makes the verdict inconclusive, a pass never supports it)</i></td></tr>'
                      + check_rows)
    stat_rows = "".join(f"<tr><td><code>{html.escape(k)}</code></td><td>{_format(v)}</td></tr>"
                        for k, v in stats.items())
    run = record.get("run", "main")
    run_text = " · <b>falsification run</b> (cause removed)" if run == "falsification" else ""
    return (
        f'<div class="genbook-verdict" style="border:3px solid {colour};border-radius:6px;padding:0.8em 1em;'
        f'margin:1em 0">'
        f'<div style="font-size:1.4em;font-weight:bold;color:{colour}">Verdict: {record["verdict"]}</div>'
        f'<div>{html.escape(record["chapter"])} · profile <code>{html.escape(record["profile"])}</code> · '
        f'seeds {len(record["seeds"])} · {record["wall_time_s"]:.1f} s{run_text}</div>'
        f'<table style="margin-top:0.5em">{"".join(rows)}<tr><td>inconclusive</td><td>otherwise</td><td></td></tr>'
        f'{check_rows}</table><details><summary>statistics</summary><table>{stat_rows}</table></details></div>'
    )


def record_text(record: Mapping[str, Any]) -> str:
    """Plain-text form of the verdict box (for terminals and text-only viewers)."""
    run = ", falsification run" if record.get("run") == "falsification" else ""
    checks = "".join(f"  check {name}: {describe(c)} "
                     f"({ {True: 'passes', False: 'FAILS', None: 'unknown'}[evaluate(c, record['statistics'])]})\n"
                     for name, c in record["rule"].get("checks", {}).items())
    return (f"Verdict: {record['verdict'].upper()} ({record['chapter']}, profile {record['profile']}{run})\n"
            f"  supported if {describe(record['rule']['supported'])}\n"
            f"  contradicted if {describe(record['rule']['contradicted'])}\n"
            f"{checks}"
            f"  {headline_text(record)}")


def check_record(record: Mapping[str, Any]) -> None:
    """Raise AssertionError if a record is incomplete or its verdict does not follow from its rule."""
    missing = [f for f in RECORD_FIELDS if f not in record]
    assert not missing, f"verdict record lacks {missing}"
    assert record["verdict"] in VERDICTS, f"unknown verdict {record['verdict']!r}"
    assert record["statistics"], "verdict record has no statistics"
    assert record["seeds"], "verdict record names no seeds"
    assert all(n in record["statistics"] for n in record["headline"]), "headline names an unmeasured statistic"
    assert record["run"] in RUNS, f"unknown run {record['run']!r}"
    recomputed = decide(record["rule"], record["statistics"])
    assert recomputed == record["verdict"], f"rule gives {recomputed}, record says {record['verdict']}"
    assert record["checks"] == check_results(record["rule"], record["statistics"]), "check results do not follow"
