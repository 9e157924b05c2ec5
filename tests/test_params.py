import pytest

import genutils as gu
from genutils.params import assigned_names, merge_params, parse_cli_value


@pytest.mark.parametrize("spec, value, expected", [
    (gu.Int(min=1), 3, 3),
    (gu.Int(), 4.0, 4),
    (gu.Float(gt=0), 2, 2.0),
    (gu.Bool(), False, False),
    (gu.Choice("sgd", "sam"), "sam", "sam"),
    (gu.List(gu.Float(min=0), increasing=True), (0.5, 1, 2), [0.5, 1.0, 2.0]),
    (gu.Optional(gu.Float(gt=0)), None, None),
    (gu.Optional(gu.Float(gt=0)), 0.1, 0.1),
])
def test_valid_values_pass_and_are_normalised(spec, value, expected):
    out = spec.check("x", value)
    assert out == expected and type(out) is type(expected)


@pytest.mark.parametrize("spec, value, fragment", [
    (gu.Int(min=2), 1, "≥ 2"),
    (gu.Int(), 2.5, "integer"),
    (gu.Int(), True, "integer"),
    (gu.Float(gt=0), 0.0, "> 0"),
    (gu.Float(lt=0.5), 0.5, "< 0.5"),
    (gu.Float(), float("nan"), "finite"),
    (gu.Float(), "0.1", "number"),
    (gu.Bool(), 1, "true or false"),
    (gu.Choice("a", "b"), "c", "one of"),
    (gu.List(gu.Int()), [], "at least 1"),
    (gu.List(gu.Float(), increasing=True), [1, 1], "increasing"),
])
def test_bad_values_name_the_parameter(spec, value, fragment):
    with pytest.raises(gu.ParameterError, match="parameter 'lr'") as err:
        spec.check("lr", value)
    assert fragment in str(err.value)
    assert err.value.name == "lr"


def test_list_items_are_named_by_index():
    with pytest.raises(gu.ParameterError, match=r"'alphas\[1\]'"):
        gu.List(gu.Float(gt=0)).check("alphas", [1.0, -2.0])


def test_check_params_returns_read_only_params():
    p = gu.check_params({"seed": 3, "lr": 1}, seed=gu.Int(min=0), lr=gu.Float(gt=0))
    assert p.seed == 3 and p["lr"] == 1.0 and dict(p) == {"seed": 3, "lr": 1.0}
    with pytest.raises(AttributeError):
        p.seed = 4


def test_check_params_reports_a_missing_parameter():
    with pytest.raises(gu.ParameterError, match="'lr'.*not set"):
        gu.check_params({"seed": 0}, seed=gu.Int(), lr=gu.Float())


def test_check_params_catches_a_name_papermill_injected():
    history = ["", "import genutils", "seed = 0\nlr = 0.1", "# Parameters\nseed = 2\nlrr = 0.5\n"]
    ns = {"In": history, "seed": 2, "lr": 0.1, "lrr": 0.5}
    with pytest.raises(gu.ParameterError, match="parameter 'lrr': unknown"):
        gu.check_params(ns, seed=gu.Int(), lr=gu.Float())


def test_assigned_names_reads_literals_only():
    src = "a = 1  # one\nb: float = 0.5\nc = [1, 2]\nd = None\ne = f(3)\nprint(a)"
    assert assigned_names(src) == {"a": 1, "b": 0.5, "c": [1, 2], "d": None, "e": ...}


def test_merge_params_rejects_unknown_names_and_wrong_types():
    defaults = {"seed": 0, "lr": 0.1, "alphas": [1.0], "opt": "sgd", "lr2": None, "flag": True}
    assert merge_params(defaults, {"lr": 1}, {"seed": 4}) == {**defaults, "lr": 1, "seed": 4}
    assert merge_params(defaults, {"lr2": 0.3})["lr2"] == 0.3
    with pytest.raises(gu.ParameterError, match="parameter 'sed': unknown"):
        merge_params(defaults, {"sed": 1})
    for name, bad in [("seed", 1.5), ("seed", True), ("lr", "fast"), ("alphas", 2.0), ("flag", 1), ("opt", 3)]:
        with pytest.raises(gu.ParameterError, match=f"parameter '{name}'"):
            merge_params(defaults, {name: bad})


@pytest.mark.parametrize("text, value", [
    ("3", 3), ("0.5", 0.5), ("1e-3", 1e-3), ("[0.5, 1]", [0.5, 1]), ("None", None), ("true", True),
    ("sam", "sam"),
])
def test_cli_values_parse_as_literals(text, value):
    assert parse_cli_value(text) == value
