"""Test-session set-up: no network for this process or any child (chapter kernels included)."""
import os
import sys
from pathlib import Path

GUARD = Path(__file__).parent / "netguard"
os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [str(GUARD), os.environ.get("PYTHONPATH")]))
sys.path.insert(0, str(GUARD))
import sitecustomize as netguard  # noqa: E402  - the guard module, installed on import

assert netguard.socket.getaddrinfo is netguard._getaddrinfo


import pytest  # noqa: E402

from genutils.build import runner  # noqa: E402

# GENBOOK_TEST_CHAPTERS=slug,part/slug,... limits the chapter tests while a chapter is being written.
_only = [n for n in os.environ.get("GENBOOK_TEST_CHAPTERS", "").split(",") if n]
CHAPTERS = runner.select(runner.discover(), _only)
JOBS = 2  # chapters executed at once (this machine has 2 cores)


@pytest.fixture(scope="session")
def smoke_runs(tmp_path_factory):
    """Every chapter's main and falsification runs executed once at smoke, uncached, shared by the chapter
    and book tests; keyed by (part/slug, run)."""
    out = tmp_path_factory.mktemp("smoke")
    results = runner.run_chapters(CHAPTERS, "smoke", runs=runner.RUNS, jobs=JOBS, out_dir=out, use_cache=False)
    return {(r.chapter, r.run): r for r in results}
