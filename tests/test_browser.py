"""The book built from the smoke runs, in a real browser: Debian's chromium, headless, driven by Playwright
(from PyPI; no browser download), over the HTML served on loopback.

For every page: it loads; the browser logs no error (other than the one known harmless Jupyter Book
message) and asks for nothing outside loopback; every image has loaded (non-zero natural size); math is
typeset (MathJax output in every math element, no raw ``$$``); every internal link resolves, fragment
included. On one explorer, moving the slider changes the visible image. The scoreboard fits a 1400-px
window. Screenshots of the intro, the scoreboard and one chapter are saved under the build folder for a
person to look at (``book/_build/screenshots``, or ``$GENBOOK_SCREENSHOTS``).

One browser and one page serve every page. Without chromium the test is skipped (with the reason), unless
``GENBOOK_REQUIRE_BROWSER=1`` (set by ``.ci/run``, which installs it) makes that a failure.

Run by hand on any built book: ``python tests/test_browser.py book/_build/html``.
"""
from __future__ import annotations

import functools
import http.server
import os
import re
import shutil
import sys
import threading
import time
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest

KNOWN_HARMLESS = "Identifier 'THEBE_JS_URL' has already been declared"  # every Jupyter Book 1.x page
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync"]
WINDOW = {"width": 1400, "height": 1000}
ROOT = Path(__file__).resolve().parent.parent
SKIP_DIRS = {"_static", "_sources", "_downloads", "_images", "_sphinx_design_static"}


def chromium() -> str | None:
    """Debian's chromium (or $GENBOOK_CHROMIUM; on other systems, a chromium-browser or Chrome), if installed."""
    for path in (os.environ.get("GENBOOK_CHROMIUM"), "/usr/bin/chromium", shutil.which("chromium"),
                 shutil.which("chromium-browser"), shutil.which("google-chrome")):
        if path and Path(path).exists():
            return path
    return None


def book_pages(html: Path) -> list[str]:
    """Every HTML page of a built book, relative to its root."""
    return sorted(p.relative_to(html).as_posix() for p in html.rglob("*.html")
                  if not SKIP_DIRS & set(p.relative_to(html).parts[:-1]))


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args) -> None:  # noqa: D102 - keep the test log clean
        pass


class _Server(http.server.ThreadingHTTPServer):
    def handle_error(self, request, client_address) -> None:
        if not isinstance(sys.exc_info()[1], (BrokenPipeError, ConnectionResetError)):  # a tab that moved on
            super().handle_error(request, client_address)


def serve(html: Path) -> tuple[http.server.ThreadingHTTPServer, str]:
    """Serve `html` on 127.0.0.1 (a free port) from a daemon thread; returns (server, base URL)."""
    server = _Server(("127.0.0.1", 0), functools.partial(_Quiet, directory=str(html)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}/"


_IDS = re.compile(r'\bid="([^"]+)"')
_REFRESH = re.compile(r'http-equiv="Refresh" content="\d+; url=([^"]+)"', re.IGNORECASE)


@functools.lru_cache(maxsize=None)
def _ids(path: Path) -> frozenset[str]:
    return frozenset(_IDS.findall(path.read_text(errors="replace")))


def broken_links(html: Path, base: str, hrefs: list[str]) -> list[str]:
    """The internal links (same origin) whose file, or whose fragment in that file, does not exist."""
    bad = []
    for href in dict.fromkeys(hrefs):
        if not href.startswith(base):
            continue
        parts = urlsplit(href)
        path = html / unquote(parts.path).lstrip("/")
        if parts.path.endswith("/") or path.is_dir():
            path = path / "index.html"
        if not path.is_file():
            bad.append(f"{href} (no such file)")
        elif parts.fragment and path.suffix == ".html" and unquote(parts.fragment) not in _ids(path):
            bad.append(f"{href} (no element with that id)")
    return bad


# Runs in the page once it has loaded: waits for MathJax and the widgets, then reports what it sees.
_SETTLE = """async () => {
  const until = async (ok, ms) => { const t = Date.now(); while (!ok() && Date.now() - t < ms)
                                        await new Promise(r => setTimeout(r, 50)); return ok(); };
  if (window.MathJax && MathJax.startup && MathJax.startup.promise) await MathJax.startup.promise;
  const views = document.querySelectorAll('script[type="application/vnd.jupyter.widget-view+json"]').length;
  const widgetsOk = await until(() => document.querySelectorAll('.widget-subarea > *').length >= views, 20000);
  await until(() => [...document.images].every(i => i.complete), 10000);
  if (window.MathJax && MathJax.startup && MathJax.startup.promise) await MathJax.startup.promise;
  const text = el => { const c = el.cloneNode(true);
    c.querySelectorAll('pre, code, script, style, .highlight, textarea').forEach(n => n.remove());
    return c.textContent; };
  const article = document.querySelector('main') || document.body;
  const tables = [...document.querySelectorAll('.bd-article table')];
  return {
    title: document.title,
    views, widgetsOk,
    badImages: [...document.images].filter(i => !(i.complete && i.naturalWidth > 0))
                                   .map(i => (i.currentSrc || i.src).slice(0, 120)),
    images: document.images.length,
    math: document.querySelectorAll('span.math, div.math').length,
    untypeset: [...document.querySelectorAll('span.math, div.math')]
                 .filter(m => !m.querySelector('mjx-container')).map(m => m.textContent.slice(0, 80)),
    rawMath: (text(article).match(/\\$\\$|\\\\\\(|\\\\\\[/g) || []).length,
    hrefs: [...document.querySelectorAll('a[href]')].map(a => a.href),
    overflow: tables.filter(t => t.scrollWidth > t.parentElement.clientWidth + 1 ||
                                 t.getBoundingClientRect().right > window.innerWidth + 1).length,
    tallestRow: Math.max(0, ...tables.flatMap(t => [...t.rows].map(r => r.getBoundingClientRect().height))),
    // how far the tallest row exceeds what its explicit lines (<br>-separated) need: wrapped prose shows here
    rowExcess: Math.max(0, ...tables.flatMap(t => [...t.rows].map(r => {
      const lines = Math.max(1, ...[...r.cells].map(c => c.querySelectorAll('br').length + 1));
      return r.getBoundingClientRect().height - 24 * (lines + 3); }))),
  };
}"""


def browse_book(html: Path, shots: Path | None = None, chapter: str | None = None, tabs: int = 3) -> dict:
    """Open every page of the book at `html` in one headless chromium (`tabs` pages at a time); return
    what was found.

    The result maps each page to its problems (an empty list when it is clean) under "problems", plus the
    explorer check under "explorer", layout numbers under "layout", per-page and total wall times.
    """
    import asyncio

    return asyncio.run(_browse(html, shots, chapter, tabs))


async def _browse(html: Path, shots: Path | None, chapter: str | None, tabs: int) -> dict:
    import asyncio

    from playwright.async_api import async_playwright

    exe = chromium()
    if exe is None:
        raise RuntimeError("chromium is not installed (apt-get install -y chromium)")
    server, base = serve(html)
    t0 = time.time()
    problems: dict[str, list[str]] = {}
    layout: dict[str, dict] = {}
    explorer: dict = {}
    timings: dict[str, float] = {}
    pages = book_pages(html)
    queue = list(pages)

    async def check(page, rel: str, log: list[str]) -> None:
        redirect = _REFRESH.search((html / rel).read_text(errors="replace")[:500])
        if redirect:  # index.html: a meta refresh to the intro; check where it points
            problems[rel] = [f"broken redirect: {b}" for b in
                             broken_links(html, base, [base + str(Path(rel).parent / redirect[1])])]
            return
        t_page = time.time()
        response = await page.goto(base + rel, wait_until="load")
        if response is None or not response.ok:
            problems[rel] = [f"did not load ({response.status if response else 'no response'})"]
            return
        seen = await page.evaluate(_SETTLE)
        found = list(log)
        if not seen["widgetsOk"]:
            found.append(f"{seen['views']} widget views, not all rendered")
        found += [f"image not loaded: {src}" for src in seen["badImages"]]
        found += [f"math not typeset: {m!r}" for m in seen["untypeset"]]
        if seen["rawMath"]:
            found.append(f"{seen['rawMath']} raw math delimiters ($$, \\(, \\[) in the text")
        found += [f"broken link: {b}" for b in broken_links(html, base, seen["hrefs"])]
        layout[rel] = {k: seen[k] for k in ("images", "math", "views", "overflow", "tallestRow", "rowExcess")}
        if shots is not None and (rel in ("intro.html", "scoreboard.html") or rel == chapter):
            shots.mkdir(parents=True, exist_ok=True)
            await _screenshot(page, shots / (Path(rel).stem + ".png"))
        if seen["views"] and not explorer and (chapter is None or rel == chapter):
            explorer.update(await _move_slider(page, rel))
        problems[rel] = found
        timings[rel] = time.time() - t_page

    async def worker(context) -> None:
        page = await context.new_page()
        log: list[str] = []
        page.on("console", lambda m: log.append(f"console {m.type}: {m.text}") if m.type == "error" else None)
        page.on("pageerror", lambda e: None if KNOWN_HARMLESS in str(e) else log.append(f"page error: {e}"))
        page.on("response", lambda r: log.append(f"HTTP {r.status}: {r.url}") if r.status >= 400 else None)
        while queue:
            rel = queue.pop(0)
            log.clear()
            await check(page, rel, log)
            problems[rel] = problems.get(rel, []) + [m for m in log if m not in problems.get(rel, [])]
        await page.close()

    try:
        async with async_playwright() as pw:
            # Playwright gives every launch a fresh temporary --user-data-dir of its own
            browser = await pw.chromium.launch(executable_path=exe, args=CHROMIUM_FLAGS)
            context = await browser.new_context(viewport=WINDOW)
            external: list[str] = []

            async def route(r) -> None:
                url = r.request.url
                if url.startswith(base) or url.startswith(("data:", "blob:")):
                    await r.continue_()
                else:
                    external.append(f"{url} (from {r.request.frame.url})")
                    await r.abort()

            await context.route("**/*", route)
            await asyncio.gather(*(worker(context) for _ in range(max(1, tabs))))
            await browser.close()
    finally:
        server.shutdown()
    if external:
        problems["(outside loopback)"] = [f"request outside loopback: {u}" for u in external]
    return {"problems": problems, "layout": layout, "explorer": explorer, "seconds": time.time() - t0,
            "timings": timings, "pages": len(pages)}


async def _screenshot(page, path: Path, most: int = 15000) -> None:
    """The whole page (up to `most` px tall): the window is made as tall as the page, then restored
    (Playwright's full_page tiles this theme's page wrongly)."""
    height = await page.evaluate("Math.max(document.documentElement.scrollHeight, document.body.scrollHeight)")
    await page.set_viewport_size({"width": WINDOW["width"], "height": min(int(height), most)})
    await page.evaluate("window.scrollTo(0, 0)")
    await page.screenshot(path=str(path))
    await page.set_viewport_size(WINDOW)


async def _move_slider(page, rel: str) -> dict:
    """Press → on the first explorer's slider; report the visible image before and after."""
    box = page.locator(".genbook-explorer").first
    img = box.locator("img.widget-image").first
    before_src, before_png = await img.get_attribute("src"), await img.screenshot()
    await box.locator(".noUi-handle").first.focus()
    await page.keyboard.press("ArrowRight")
    await page.wait_for_function(
        """(before) => { const i = document.querySelector('.genbook-explorer img.widget-image');
                         return i && i.src !== before && i.complete && i.naturalWidth > 0; }""",
        arg=before_src, timeout=10000)
    after = box.locator("img.widget-image").first
    return {"page": rel, "src_changed": await after.get_attribute("src") != before_src,
            "pixels_changed": await after.screenshot() != before_png, "visible": await after.is_visible(),
            "readout": await box.locator(".widget-readout").first.inner_text()}


def screenshots_dir() -> Path:
    return Path(os.environ.get("GENBOOK_SCREENSHOTS", ROOT / "book" / "_build" / "screenshots"))


def test_the_book_in_a_browser(smoke_book):
    if chromium() is None:
        reason = "chromium is not installed (apt-get install -y chromium; .ci/run does)"
        if os.environ.get("GENBOOK_REQUIRE_BROWSER") == "1":
            pytest.fail(reason)
        pytest.skip(reason)
    pytest.importorskip("playwright", reason="playwright is not installed (it is pinned in requirements.txt)")
    assert smoke_book.status == 0, "the book did not build (see test_book)"
    html = smoke_book.html
    chapters = [p for p in book_pages(html) if p.startswith("chapters/") and not p.endswith("-null.html")]
    with_explorer = [p for p in chapters if "widget-view+json" in (html / p).read_text()]
    chapter = "chapters/theory/overtraining_dynamics.html"
    chapter = chapter if chapter in with_explorer else (with_explorer or chapters)[0]
    result = browse_book(html, screenshots_dir(), chapter)
    print(f"\nbrowser: {result['pages']} pages in {result['seconds']:.1f} s; screenshots in {screenshots_dir()}")
    bad = {page: found for page, found in result["problems"].items() if found}
    assert not bad, "pages with problems:\n" + "\n".join(f"{p}:\n  " + "\n  ".join(f) for p, f in bad.items())
    assert len(result["problems"]) == result["pages"] >= len(chapters) + 2
    assert {"intro.html", "scoreboard.html"} <= set(result["problems"])
    if with_explorer:
        ex = result["explorer"]
        assert ex and ex["src_changed"] and ex["pixels_changed"] and ex["visible"], f"the slider did nothing: {ex}"
    board = result["layout"]["scoreboard.html"]
    assert board["overflow"] == 0, "a scoreboard table is wider than its column in a 1400-px window"
    assert board["rowExcess"] <= 0, \
        f"a scoreboard row is {board['rowExcess']:.0f} px taller than its lines need (wrapped prose)"
    for name in ("intro", "scoreboard", Path(chapter).stem):
        assert (screenshots_dir() / f"{name}.png").stat().st_size > 10_000


if __name__ == "__main__":  # python tests/test_browser.py book/_build/html [chapter page]
    out = browse_book(Path(sys.argv[1]), screenshots_dir(), sys.argv[2] if len(sys.argv) > 2 else None)
    for page, found in out["problems"].items():
        print(("ok  " if not found else "BAD ") + page + "".join("\n    " + f for f in found))
    print("explorer:", out["explorer"])
    print("slowest:", sorted(out["timings"].items(), key=lambda kv: -kv[1])[:5])
    print("scoreboard:", out["layout"].get("scoreboard.html"))
    print(f"{out['pages']} pages in {out['seconds']:.1f} s")
