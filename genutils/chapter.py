"""A chapter's life cycle: set-up at import, and the verdict it ends with."""
from __future__ import annotations

import os
import time
from collections.abc import Mapping, Sequence
from typing import Any

from .repro import environment
from .verdict import MIME_TYPE, make_record, record_html, record_text


def _process_start() -> float:
    """When this kernel process started, so a chapter's wall time includes its imports."""
    try:
        import psutil

        return psutil.Process().create_time()
    except Exception:  # noqa: BLE001 - fall back to import time where psutil is unavailable
        return time.time()


STARTED = _process_start()


def current_profile() -> str:
    """The profile label the runner set (GENBOOK_PROFILE); `interactive` in JupyterLab or plain papermill."""
    return os.environ.get("GENBOOK_PROFILE", "interactive")


def current_run() -> str:
    """`falsification` when the runner executes the chapter's falsification run (GENBOOK_RUN), else `main`."""
    return os.environ.get("GENBOOK_RUN", "main")


def report_verdict(*, chapter: str, params: Mapping[str, Any], rule: Mapping[str, Any],
                   statistics: Mapping[str, float], seeds: Sequence[int],
                   headline: Sequence[str] | None = None) -> dict[str, Any]:
    """Decide the verdict by `rule`, show it as a box, and emit the machine-readable record.

    The record goes into the cell output under the MIME type
    ``application/vnd.genbook.verdict+json``; the runner reads it back from
    the executed notebook. Returns the record.
    """
    from IPython.display import display

    record = make_record(chapter=chapter, parameters=params, verdict_rule=rule, statistics=statistics,
                         seeds=seeds, headline=headline, started=STARTED, profile=current_profile(), run=current_run(),
                         environment=environment())
    display({MIME_TYPE: record, "text/html": record_html(record), "text/plain": record_text(record)}, raw=True)
    return record
