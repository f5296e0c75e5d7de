"""The course's website (``make site``) opened in a real browser.

The built site is served on 127.0.0.1 and headless Chromium opens every page of it: each must
answer 200, log no console error, load nothing from other hosts, decode every image, and link
only to pages and files that exist. The notebook pages must carry buttons that point at their
own notebook, and the previous/next links must walk through the notebooks in catalogue order.
A full-page screenshot of every page goes to ``build/site-screenshots/``, at desktop width and at
a phone's 390 px, where body text must not scroll sideways.

Needs the site's packages (``requirements-site.txt``) and Chromium (Debian: ``apt-get install
chromium``). Without them the tests are skipped with the reason; ``make site-test`` (and so CI)
sets FORCE_CNN_SITE_REQUIRED=1, which turns a skip into a failure. With FORCE_CNN_SITE_DIR set
the tests check that already built site; otherwise they build one into ``build/site``.
CHROMIUM may name another Chromium-based browser (the Pages workflow uses Google Chrome).
"""

from __future__ import annotations

import functools
import http.server
import importlib.util
import os
import shutil
import threading
import urllib.error
import urllib.request
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urldefrag, urlsplit

import pytest

from shared import catalogue, config
from tools import site

# Sphinx 9 announces API changes for Sphinx 11 that MyST and the book theme have yet to make.
pytestmark = pytest.mark.filterwarnings("ignore::PendingDeprecationWarning")

ROOT = Path(__file__).resolve().parents[1]
SCREENSHOTS = ROOT / "build" / "site-screenshots"
SITE_ENV = "FORCE_CNN_SITE_DIR"
REQUIRED_ENV = "FORCE_CNN_SITE_REQUIRED"
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}


def unavailable(reason: str):
    """Skip, or fail where the browser test must run (``make site-test``, CI)."""
    if os.environ.get(REQUIRED_ENV):
        pytest.fail(f"Website test cannot run: {reason} ({REQUIRED_ENV} is set).")
    pytest.skip(f"Website test skipped: {reason}")


def chromium_executable() -> str | None:
    found = os.environ.get("CHROMIUM") or shutil.which("chromium")
    return found if found and Path(found).exists() else None


# ---------------------------------------------------------------------------------------------
# How the README and the notebooks are adapted (no Sphinx, no browser needed)


def test_links_to_notebooks_stay_for_myst_and_other_files_go_to_github():
    nb03 = "notebooks/03_pytorch_sequential.ipynb"
    assert site.rewrite_target(nb03, "") == nb03
    assert site.rewrite_target("04_pytorch_functional.ipynb", "notebooks") == (
        "04_pytorch_functional.ipynb"
    )
    assert site.rewrite_target("../README.md#results", "notebooks") == "../index.md#results"
    slug, branch = config.GITHUB_SLUG, config.GITHUB_BRANCH
    assert site.rewrite_target("shared/config.py", "") == (
        f"https://github.com/{slug}/blob/{branch}/shared/config.py"
    )
    assert site.rewrite_target("../shared", "notebooks") == (
        f"https://github.com/{slug}/tree/{branch}/shared"
    )
    for kept in ("https://pytorch.org", "#syllabus", "no/such/file.md", "../../outside.md"):
        assert site.rewrite_target(kept, "") == kept
    assert site.rewrite_target(site.COLAB_BADGE_URL, "") == "_static/open-in-colab.svg"


def test_notebook_badge_becomes_the_three_buttons():
    nb = catalogue.find("03")
    first_cell = (
        "# 03 · Title\n\n"
        f'<a href="{site.colab_url(nb)}" target="_parent"><img src="{site.COLAB_BADGE_URL}" '
        'alt="Open In Colab"/></a>\n\nThe first paragraph.\n'
    )
    adapted = site.add_buttons(first_cell, nb)
    assert "colab-badge.svg" not in adapted
    assert adapted.startswith('# 03 · Title\n\n<div class="course-buttons">')
    assert adapted.count('class="course-button ') == 3
    assert adapted.endswith("The first paragraph.\n")
    assert "course-buttons" in site.add_buttons("No heading and no badge.", nb)


def test_front_page_lists_every_catalogue_notebook_in_order(monkeypatch):
    extra = catalogue.Notebook("08_new_backend", "backend", "New", "A notebook added later")
    monkeypatch.setattr(catalogue, "NOTEBOOKS", (*catalogue.NOTEBOOKS, extra))
    page = site.landing_page("# Course\n\n[03](notebooks/03_pytorch_sequential.ipynb)\n")
    first = page[page.index("```{toctree}") :]
    toctree = first[: first.index("\n```", 1) + 4].splitlines()  # the notebooks' table only
    assert toctree[4:-1] == [f"notebooks/{nb.name}" for nb in catalogue.NOTEBOOKS]
    assert toctree[-2] == "notebooks/08_new_backend"
    assert "[03](notebooks/03_pytorch_sequential.ipynb)" in page


def test_pages_url_comes_from_the_slug():
    owner, repo = config.GITHUB_SLUG.split("/")
    assert site.pages_url() == f"https://{owner.lower()}.github.io/{repo}/"


# ---------------------------------------------------------------------------------------------
# Fixtures: the site, a server, a browser, and one visit of every page


@pytest.fixture(scope="module")
def site_dir() -> Path:
    missing = [m for m in ("sphinx", "myst_nb", "playwright") if not importlib.util.find_spec(m)]
    if missing:
        unavailable(
            f"{', '.join(missing)} not installed (`make site-test` installs requirements-site.txt)."
        )
    if chromium_executable() is None:
        unavailable("no Chromium on PATH (Debian: `apt-get install chromium`).")
    if os.environ.get(SITE_ENV):
        folder = Path(os.environ[SITE_ENV]).resolve()
        if not (folder / "index.html").exists():
            pytest.fail(f"{SITE_ENV}={folder} has no index.html: run `make site` first.")
        return folder
    site.build()
    return site.SITE


@pytest.fixture(scope="module")
def base_url(site_dir: Path):
    """The site served by a thread on a free port of 127.0.0.1."""

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args):
            pass

    handler = functools.partial(Quiet, directory=str(site_dir))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def browser(site_dir: Path):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        # --no-sandbox: Chromium refuses its sandbox when run as root, as in CI containers.
        browser = playwright.chromium.launch(
            executable_path=chromium_executable(), args=["--no-sandbox"]
        )
        yield browser
        browser.close()


def site_pages(site_dir: Path) -> list[str]:
    """Every HTML page of the site, as a path relative to its root."""
    return sorted(
        p.relative_to(site_dir).as_posix()
        for p in site_dir.rglob("*.html")
        if not p.relative_to(site_dir).parts[0].startswith("_")
    )


def notebook_page(nb: catalogue.Notebook) -> str:
    return f"notebooks/{nb.name}.html"


IMAGES_DECODED = """async () => {
    const images = Array.from(document.images);
    images.forEach(img => { img.loading = "eager"; });
    await Promise.all(images.map(img => img.decode().catch(() => null)));
    return images.filter(img => !(img.complete && img.naturalWidth > 0))
                 .map(img => img.getAttribute("src"));
}"""

LINKS = """() => [
    ...Array.from(document.querySelectorAll("a[href]"), a => a.href),
    ...Array.from(document.querySelectorAll("link[href]"), l => l.href),
    ...Array.from(document.querySelectorAll("script[src]"), s => s.src),
    ...Array.from(document.querySelectorAll("img[src]"), i => i.src),
]"""

BUTTONS = """() => Object.fromEntries(Array.from(
    document.querySelectorAll(".course-buttons a"), a => [a.textContent.trim(), a.href]))"""

PREV_NEXT = """() => ({
    prev: document.querySelector("a.left-prev")?.href ?? null,
    next: document.querySelector("a.right-next")?.href ?? null,
})"""

# What scrolls sideways at the page level: elements that stick out of the viewport and are
# not inside a box that scrolls (or clips) on its own.
OVERFLOW = """() => {
    const width = document.documentElement.clientWidth;
    const clipped = el => {
        if (getComputedStyle(el).position === "fixed") return true;  // drawers, off screen
        for (let p = el.parentElement; p; p = p.parentElement) {
            const style = getComputedStyle(p);
            if (["auto", "scroll", "hidden"].includes(style.overflowX)) return true;
            if (style.position === "fixed") return true;
        }
        return false;
    };
    const culprits = Array.from(document.querySelectorAll("body *"))
        .filter(el => el.getBoundingClientRect().right > width + 1 && !clipped(el))
        .slice(0, 5)
        .map(el => el.tagName.toLowerCase() + (el.className ? "." + el.className : ""));
    return {scrollWidth: document.documentElement.scrollWidth, width, culprits};
}"""


def visit(browser, url: str, viewport: dict, screenshot: Path) -> dict:
    """Open ``url`` in a fresh browser tab and report what the page did."""
    context = browser.new_context(viewport=viewport)
    origin = urlsplit(url).netloc
    report = {"console": [], "external": [], "failed": []}

    def route(route):
        if urlsplit(route.request.url).netloc == origin:
            route.continue_()
        else:
            report["external"].append(route.request.url)
            route.abort()

    context.route("**/*", route)
    page = context.new_page()
    page.on("console", lambda m: m.type == "error" and report["console"].append(m.text))
    page.on("pageerror", lambda e: report["console"].append(f"uncaught: {e}"))
    page.on("requestfailed", lambda r: report["failed"].append(r.url))
    try:
        response = page.goto(url, wait_until="load")
        page.wait_for_load_state("networkidle")
        report["status"] = response.status if response else None
        report["broken_images"] = page.evaluate(IMAGES_DECODED)
        report["links"] = page.evaluate(LINKS)
        report["buttons"] = page.evaluate(BUTTONS)
        report.update(page.evaluate(PREV_NEXT))
        report["overflow"] = page.evaluate(OVERFLOW)
        screenshot.parent.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(screenshot), full_page=True)
    finally:
        context.close()
    return report


def screenshot_name(page: str) -> str:
    return page.removesuffix(".html").replace("/", "__") + ".png"


@pytest.fixture(scope="module")
def visits(site_dir: Path, base_url: str, browser) -> dict[str, dict]:
    """Every page opened once at desktop width, with its full-page screenshot."""
    shutil.rmtree(SCREENSHOTS, ignore_errors=True)
    return {
        page: visit(
            browser, base_url + page, DESKTOP, SCREENSHOTS / "desktop" / screenshot_name(page)
        )
        for page in site_pages(site_dir)
    }


# ---------------------------------------------------------------------------------------------
# The checks


def doc_page(repo_path: str) -> str:
    """The page of a Markdown file of ``docs/`` (``docs/speed.md`` -> ``docs/speed.html``)."""
    return repo_path.removesuffix(".md") + ".html"


@pytest.mark.browser
@pytest.mark.slow
def test_site_has_a_page_per_notebook_and_per_doc(visits):
    expected = {"index.html"} | {notebook_page(nb) for nb in catalogue.NOTEBOOKS}
    expected |= {doc_page(path) for path in site.doc_pages()}
    missing = expected - set(visits)
    assert not missing, f"The site has no page for {sorted(missing)}: rebuild it with `make site`."


@pytest.mark.browser
@pytest.mark.slow
def test_every_page_loads_cleanly(visits):
    problems = []
    for page, report in visits.items():
        if report["status"] != 200:
            problems.append(f"{page}: HTTP {report['status']}")
        problems += [f"{page}: console error: {text}" for text in report["console"]]
        problems += [f"{page}: loads {url} from another host" for url in report["external"]]
        problems += [f"{page}: image not decoded: {src}" for src in report["broken_images"]]
    assert not problems, "\n".join(problems)


class _Ids(HTMLParser):
    def __init__(self):
        super().__init__()
        self.ids: set[str] = set()

    def handle_starttag(self, tag, attrs):
        self.ids |= {value for name, value in attrs if name in ("id", "name") and value}


@functools.cache
def fetch(url: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, b""


@pytest.mark.browser
@pytest.mark.slow
def test_every_internal_link_resolves(visits, base_url):
    """Links, stylesheets, scripts and images on the site: 200, and the #section exists."""
    problems, checked = [], set()
    for page, report in visits.items():
        for link in report["links"]:
            if not link.startswith(base_url) or link in checked:
                continue
            checked.add(link)
            address, fragment = urldefrag(link)
            address = address.split("?")[0]
            status, body = fetch(address)
            if status != 200:
                problems.append(f"{page}: {link} answers HTTP {status}")
            elif fragment and address.endswith(".html"):
                parser = _Ids()
                parser.feed(body.decode("utf-8"))
                if fragment not in parser.ids:
                    problems.append(f"{page}: {link}: no element with id {fragment!r}")
    assert checked, "No internal links found at all"
    assert not problems, "\n".join(problems)


@pytest.mark.browser
@pytest.mark.slow
@pytest.mark.parametrize("nb", catalogue.NOTEBOOKS, ids=lambda nb: nb.name)
def test_notebook_buttons_point_at_this_notebook(nb, visits, base_url):
    buttons = visits[notebook_page(nb)]["buttons"]
    blob = f"{config.GITHUB_SLUG}/blob/{config.GITHUB_BRANCH}/notebooks/{nb.file_name}"
    assert buttons == {
        "Open in Colab": f"https://colab.research.google.com/github/{blob}",
        "View on GitHub": f"https://github.com/{blob}",
        "Download notebook": f"{base_url}notebooks/{nb.file_name}",
    }
    status, body = fetch(buttons["Download notebook"])
    assert status == 200
    assert body == (ROOT / "notebooks" / nb.file_name).read_bytes(), (
        f"The downloaded {nb.file_name} is not notebooks/{nb.file_name}: run `make site` again."
    )


@pytest.mark.browser
@pytest.mark.slow
def test_previous_next_links_walk_the_notebooks_then_the_docs_in_order(visits, base_url):
    order = ["index.html"] + [notebook_page(nb) for nb in catalogue.NOTEBOOKS]
    order += [doc_page(path) for path in site.doc_pages()]
    forward, page = ["index.html"], "index.html"
    while visits[page]["next"] and len(forward) <= len(order):
        page = visits[page]["next"].removeprefix(base_url)
        forward.append(page)
    assert forward == order, f"Following 'next' from the front page visits {forward}"
    backward = [page]
    while visits[page]["prev"] and len(backward) <= len(order):
        page = visits[page]["prev"].removeprefix(base_url)
        backward.append(page)
    assert backward == order[::-1], f"Following 'previous' from {order[-1]} visits {backward}"


@pytest.mark.browser
@pytest.mark.slow
@pytest.mark.parametrize("page", ["index.html", "notebooks/03_pytorch_sequential.html"])
def test_readable_on_a_phone(page, site_dir, base_url, browser):
    """At 390 px only tables and code may scroll sideways, inside their own box."""
    if not (site_dir / page).exists():
        pytest.fail(f"The site has no {page}: rebuild it with `make site`.")
    report = visit(browser, base_url + page, PHONE, SCREENSHOTS / "phone" / screenshot_name(page))
    assert report["status"] == 200
    overflow = report["overflow"]
    assert overflow["scrollWidth"] <= overflow["width"], (
        f"{page} scrolls sideways at {PHONE['width']} px (document {overflow['scrollWidth']} px "
        f"wide); sticking out: {overflow['culprits']}"
    )
    assert not report["console"], report["console"]


@pytest.mark.browser
@pytest.mark.slow
def test_screenshots_of_every_page(visits):
    missing = [p for p in visits if not (SCREENSHOTS / "desktop" / screenshot_name(p)).exists()]
    assert not missing, f"No screenshot of {missing}"
