"""`make lab`: JupyterLab with jupytext pairing active. A real server starts headless on loopback over a
scratch copy of one chapter pair (and the pyproject.toml that declares the pairing); through its REST API
the chapter opens from either file of the pair, and saving the notebook rewrites the paired `.py`.

Skipped, with the reason, when JupyterLab is not installed (`make lab` or
`pip install -r requirements-lab.txt -c requirements.txt` installs it; `.ci/run` does, and sets
GENBOOK_REQUIRE_LAB=1 so that a missing JupyterLab fails there).
"""
from __future__ import annotations

import importlib.util
import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import jupytext
import pytest

ROOT = Path(__file__).resolve().parent.parent
CHAPTER = Path("studies/theory/overtraining_dynamics")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    if importlib.util.find_spec("jupyterlab") is None:
        reason = "JupyterLab is not installed (make lab, or pip install -r requirements-lab.txt -c requirements.txt)"
        if os.environ.get("GENBOOK_REQUIRE_LAB") == "1":
            pytest.fail(reason)
        pytest.skip(reason)
    root = tmp_path_factory.mktemp("lab")
    shutil.copy(ROOT / "pyproject.toml", root)
    for suffix in (".py", ".ipynb"):
        (root / CHAPTER.with_suffix(suffix)).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(ROOT / CHAPTER.with_suffix(suffix), root / CHAPTER.with_suffix(suffix))
    port, token = _free_port(), secrets.token_hex(16)
    env = {**os.environ, "JUPYTER_RUNTIME_DIR": str(root / ".runtime"), "JUPYTER_CONFIG_DIR": str(root / ".config")}
    log = open(root / "server.log", "w")
    server = subprocess.Popen(
        [sys.executable, "-m", "jupyterlab", "--no-browser", "--ServerApp.ip=127.0.0.1", f"--ServerApp.port={port}",
         "--ServerApp.port_retries=0", f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={root}",
         "--LabApp.news_url=", "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
         "--LabApp.extension_manager=readonly", "--allow-root"],
        cwd=root, env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"

    def api(method: str, path: str, body: dict | None = None) -> dict:
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(base + path, data=data, method=method,
                                     headers={"Authorization": f"token {token}", "Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=30) as r:
            return json.loads(r.read() or b"{}")

    try:
        deadline = time.time() + 120
        while True:
            try:
                api("GET", "/api/status")
                break
            except OSError:
                if server.poll() is not None or time.time() > deadline:
                    log.flush()
                    pytest.fail("JupyterLab did not start:\n" + (root / "server.log").read_text()[-3000:])
                time.sleep(0.5)
        yield api, root, base, token
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
        log.close()


def test_lab_serves_the_book_and_a_chapter(lab):
    api, root, base, token = lab
    with urllib.request.urlopen(urllib.request.Request(f"{base}/lab", headers={"Authorization": f"token {token}"}),
                                timeout=30) as r:
        assert r.status == 200 and b"JupyterLab" in r.read()
    expected = jupytext.read(ROOT / CHAPTER.with_suffix(".py"))
    for suffix in (".ipynb", ".py"):  # jupytext's contents manager opens the .py as the same notebook
        model = api("GET", f"/api/contents/{CHAPTER.with_suffix(suffix).as_posix()}?type=notebook&content=1")
        assert model["type"] == "notebook", suffix
        cells = [(c["cell_type"], "".join(c["source"]).strip()) for c in model["content"]["cells"]]
        assert cells == [(c.cell_type, c.source.strip()) for c in expected.cells], suffix
        assert model["content"]["metadata"]["genbook"] == expected.metadata["genbook"]


def test_saving_in_lab_keeps_the_pair_in_sync(lab):
    api, root, base, token = lab
    path = CHAPTER.with_suffix(".ipynb").as_posix()
    model = api("GET", f"/api/contents/{path}?type=notebook&content=1")
    nb = model["content"]
    nb["cells"][0]["source"] = "".join(nb["cells"][0]["source"]) + "\n\nEdited in JupyterLab."
    api("PUT", f"/api/contents/{path}", {"type": "notebook", "format": "json", "content": nb})
    py = (root / CHAPTER.with_suffix(".py")).read_text()
    assert "# Edited in JupyterLab." in py, "saving the .ipynb did not update the paired .py"
    assert "genbook:" in py and "notebook_metadata_filter" in py, "the .py header lost its metadata"
    text = jupytext.read(root / CHAPTER.with_suffix(".py"))
    assert text.cells[0].source.endswith("Edited in JupyterLab.")
