"""Check parameter values with a chapter's own parameter check, in this process, before any kernel starts.

A chapter's cells up to its `parameters` cell hold imports and the defaults; the cell after it is
`P = gu.check_params(globals(), ...)`, which knows each parameter's allowed range. Executing just those
cells tells whether a value is impossible (a negative seed, an empty list) in a fraction of a second,
so a sweep or a batch can refuse a bad grid before it submits anything.

    python -m genutils.build.precheck --set seed=-1 studies/theory/*.py   # JSON: path -> error or "no error"
"""
from __future__ import annotations

import argparse
import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from ..params import ParameterError, parse_cli_value


def check_values(path: Path | str, points: Sequence[Mapping[str, Any]]) -> list[str | None]:
    """For each point (parameter values laid over the defaults): None if the chapter's check accepts
    it, else the check's message (which names the parameter)."""
    import jupytext
    from IPython.core.inputtransformer2 import TransformerManager

    transform = TransformerManager().transform_cell
    cells = [c for c in jupytext.read(path).cells if c.cell_type == "code"]
    at = next(i for i, c in enumerate(cells) if "parameters" in c.metadata.get("tags", []))
    base: dict[str, Any] = {"__name__": "__main__"}
    for cell in cells[:at + 1]:
        exec(compile(transform(cell.source), str(path), "exec"), base)
    check = compile(transform(cells[at + 1].source), str(path), "exec")
    errors: list[str | None] = []
    for point in points:
        namespace = {**base, **point}
        try:
            exec(check, namespace)
            errors.append(None)
        except ParameterError as exc:
            errors.append(str(exc))
        except Exception as exc:  # noqa: BLE001 - reported as the point's error, like a failed check
            errors.append(f"{type(exc).__name__}: {exc}")
    return errors


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("paths", nargs="+", type=Path)
    p.add_argument("--set", action="append", default=[], metavar="NAME=VALUE", help="a value to check (repeatable)")
    args = p.parse_args(argv)
    point = {k: parse_cli_value(v) for k, v in (s.split("=", 1) for s in args.set)}
    results = {}
    for path in args.paths:
        try:
            (error,) = check_values(path, [point])
        except Exception as exc:  # noqa: BLE001 - a chapter that cannot even import is reported, not raised
            error = f"{type(exc).__name__}: {exc}"
        results[str(path)] = error or "no error"
    print(json.dumps(results))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
