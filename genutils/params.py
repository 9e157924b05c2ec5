"""Chapter parameters: typed specs, validation with errors that name the parameter.

A chapter keeps its `cpu` defaults as plain assignments in the papermill
`parameters` cell; the cell after it calls :func:`check_params` with one spec per
parameter. The runner (``genbook``) also checks names and types against the
parameters cell before it starts a kernel, so a typo never costs a run.
"""
from __future__ import annotations

import ast
import math
from collections.abc import Iterator, Mapping
from typing import Any


class ParameterError(ValueError):
    """A parameter is unknown, of the wrong type, or has an impossible value."""

    def __init__(self, name: str, problem: str):
        self.name = name
        super().__init__(f"parameter '{name}': {problem}")


class Spec:
    """Base class: `check` returns the (normalised) value or raises ParameterError."""

    def check(self, name: str, value: Any) -> Any:
        raise NotImplementedError

    def describe(self) -> str:
        raise NotImplementedError


def _bounds_text(lo: float | None, hi: float | None, lo_open: bool, hi_open: bool) -> str:
    parts = []
    if lo is not None:
        parts.append(f"{'>' if lo_open else '≥'} {lo}")
    if hi is not None:
        parts.append(f"{'<' if hi_open else '≤'} {hi}")
    return " and ".join(parts)


class _Number(Spec):
    kind = "number"

    def __init__(self, min: float | None = None, max: float | None = None, *,
                 gt: float | None = None, lt: float | None = None):
        if min is not None and gt is not None or max is not None and lt is not None:
            raise TypeError("give either min or gt (max or lt), not both")
        self.lo, self.lo_open = (gt, True) if gt is not None else (min, False)
        self.hi, self.hi_open = (lt, True) if lt is not None else (max, False)

    def describe(self) -> str:
        bounds = _bounds_text(self.lo, self.hi, self.lo_open, self.hi_open)
        return f"{self.kind} {bounds}".strip()

    def _check_range(self, name: str, value: float) -> None:
        if isinstance(value, float) and not math.isfinite(value):
            raise ParameterError(name, f"expected a finite {self.describe()}, got {value!r}")
        too_low = self.lo is not None and (value <= self.lo if self.lo_open else value < self.lo)
        too_high = self.hi is not None and (value >= self.hi if self.hi_open else value > self.hi)
        if too_low or too_high:
            raise ParameterError(name, f"expected {self.describe()}, got {value!r}")


class Int(_Number):
    """An integer (bools are rejected), optionally bounded."""

    kind = "an integer"

    def check(self, name: str, value: Any) -> int:
        if isinstance(value, bool) or not isinstance(value, int):
            if isinstance(value, float) and value.is_integer():
                value = int(value)
            else:
                raise ParameterError(name, f"expected {self.describe()}, got {value!r} ({type(value).__name__})")
        self._check_range(name, value)
        return value


class Float(_Number):
    """A real number (ints are accepted and converted), optionally bounded."""

    kind = "a number"

    def check(self, name: str, value: Any) -> float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ParameterError(name, f"expected {self.describe()}, got {value!r} ({type(value).__name__})")
        value = float(value)
        self._check_range(name, value)
        return value


class Bool(Spec):
    """True or False."""

    def describe(self) -> str:
        return "true or false"

    def check(self, name: str, value: Any) -> bool:
        if not isinstance(value, bool):
            raise ParameterError(name, f"expected true or false, got {value!r}")
        return value


class Choice(Spec):
    """One of a fixed set of strings."""

    def __init__(self, *choices: str):
        self.choices = choices

    def describe(self) -> str:
        return "one of " + ", ".join(repr(c) for c in self.choices)

    def check(self, name: str, value: Any) -> str:
        if value not in self.choices:
            raise ParameterError(name, f"expected {self.describe()}, got {value!r}")
        return value


class List(Spec):
    """A list whose items each satisfy `item`, with at least `min_len` entries."""

    def __init__(self, item: Spec, min_len: int = 1, increasing: bool = False):
        self.item, self.min_len, self.increasing = item, min_len, increasing

    def describe(self) -> str:
        order = "increasing " if self.increasing else ""
        return f"a list of at least {self.min_len} {order}items, each {self.item.describe()}"

    def check(self, name: str, value: Any) -> list:
        if isinstance(value, tuple):
            value = list(value)
        if not isinstance(value, list):
            raise ParameterError(name, f"expected {self.describe()}, got {value!r}")
        if len(value) < self.min_len:
            raise ParameterError(name, f"expected {self.describe()}, got {len(value)} items")
        out = [self.item.check(f"{name}[{i}]", v) for i, v in enumerate(value)]
        if self.increasing and any(b <= a for a, b in zip(out, out[1:])):
            raise ParameterError(name, f"expected strictly increasing values, got {value!r}")
        return out


class Optional(Spec):
    """None, or a value satisfying `inner` (None usually means "derive it")."""

    def __init__(self, inner: Spec):
        self.inner = inner

    def describe(self) -> str:
        return f"None or {self.inner.describe()}"

    def check(self, name: str, value: Any) -> Any:
        return None if value is None else self.inner.check(name, value)


class Params(Mapping):
    """Validated, read-only chapter parameters with attribute access (`P.seed`)."""

    def __init__(self, values: dict[str, Any]):
        object.__setattr__(self, "_values", dict(values))

    def __getattr__(self, name: str) -> Any:
        try:
            return self._values[name]
        except KeyError:
            raise AttributeError(f"no parameter named {name!r}") from None

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError("parameters are read-only; change them in the parameters cell or with -p")

    def __getitem__(self, name: str) -> Any:
        return self._values[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)

    def __repr__(self) -> str:
        return "Params(" + ", ".join(f"{k}={v!r}" for k, v in self._values.items()) + ")"


PAPERMILL_HEADER = "# Parameters"


def _injected_names(namespace: Mapping[str, Any]) -> set[str]:
    """Names assigned by papermill's injected cell, read from the kernel's input history."""
    history = namespace.get("In")
    if not isinstance(history, list):
        return set()
    for source in reversed(history[-4:]):
        if isinstance(source, str) and source.lstrip().startswith(PAPERMILL_HEADER):
            return set(assigned_names(source))
    return set()


def assigned_names(source: str) -> dict[str, Any]:
    """Top-level `name = literal` assignments of a cell, as a dict (non-literals map to ...)."""
    out: dict[str, Any] = {}
    for node in ast.parse(source).body:
        if isinstance(node, (ast.Assign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            try:
                value = ast.literal_eval(node.value) if node.value is not None else None
            except ValueError:
                value = ...
            for target in targets:
                if isinstance(target, ast.Name):
                    out[target.id] = value
    return out


def check_params(namespace: Mapping[str, Any], **specs: Spec) -> Params:
    """Validate the chapter's parameters (read from `namespace`) against `specs`.

    Raises ParameterError naming the first bad parameter: missing, unknown
    (injected by papermill but not declared), of the wrong type, or out of range.
    """
    unknown = sorted(_injected_names(namespace) - set(specs))
    if unknown:
        raise ParameterError(unknown[0], f"unknown; this chapter's parameters are {', '.join(specs)}")
    values = {}
    for name, spec in specs.items():
        if name not in namespace:
            raise ParameterError(name, "declared in check_params but not set in the parameters cell")
        values[name] = spec.check(name, namespace[name])
    return Params(values)


def _compatible(default: Any, value: Any) -> bool:
    if default is None or default is ...:
        return True
    if isinstance(default, bool):
        return isinstance(value, bool)
    if isinstance(default, int):
        return isinstance(value, int) and not isinstance(value, bool)
    if isinstance(default, float):
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if isinstance(default, (list, tuple)):
        return isinstance(value, (list, tuple))
    return isinstance(value, type(default))


def merge_params(defaults: Mapping[str, Any], *layers: Mapping[str, Any], origin: str = "") -> dict[str, Any]:
    """Overlay parameter layers (profile, then command line) on the defaults.

    Names must exist in `defaults` and values must have a compatible type, so a
    typo or a wrong type fails here, before any kernel starts.
    """
    merged = dict(defaults)
    for layer in layers:
        for name, value in layer.items():
            if name not in defaults:
                where = f" in {origin}" if origin else ""
                raise ParameterError(name, f"unknown{where}; known parameters are {', '.join(defaults)}")
            if not _compatible(defaults[name], value):
                raise ParameterError(
                    name, f"expected a value like the default {defaults[name]!r}, got {value!r} ({type(value).__name__})")
            merged[name] = value
    return merged


def parse_cli_value(text: str) -> Any:
    """Parse a `-p NAME VALUE` value as a Python literal (numbers, lists, None, bools) or a string."""
    lowered = {"true": True, "false": False, "none": None, "null": None}
    if text.lower() in lowered:
        return lowered[text.lower()]
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError):
        return text
