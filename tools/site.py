"""The course as a website: ``make site`` (or ``python -m tools.site``) builds ``build/site``.

The site is built from the committed, executed notebooks; nothing is run again. Sphinx with
MyST-NB reads them and sphinx-book-theme gives the sidebar table of contents and the
previous/next links. The pages are, in reading order:

- ``index.html``: the README, whose links to ``notebooks/*.ipynb`` become links to the pages;
- ``notebooks/<name>.html``: one page per notebook of ``shared.catalogue.NOTEBOOKS``, with a row
  of three buttons under its title: Open in Colab, View on GitHub, Download notebook;
- ``docs/<name>.html``: one page per Markdown file of ``docs/`` (speed, troubleshooting, ...), in
  the order the README first links to them, then by name.

The site is written into a folder that this tool owns: a new or empty one, or one it built
before (it holds the marker file ``.force-of-cnn-site``). Any other folder is refused, never
emptied, so ``--out .`` cannot delete the repository.

Nothing in the repository is changed: the README and the notebooks are copied to a staging
folder (``build/site-src``), adapted there, and Sphinx builds the copy. The adaptations are:

- links to repository files that are not pages (``shared/config.py``) point at GitHub;
- the Colab badge image, which GitHub's README and the notebooks load from Colab's server, is
  replaced by a copy drawn here, so that the site loads nothing from other hosts (MathJax too
  is served from the site);
- the notebook's own Colab badge under its title becomes the row of three buttons.

The "Download notebook" button serves the notebook exactly as it is in the repository.
"""

from __future__ import annotations

import argparse
import html
import json
import posixpath
import re
import shutil
import sys
import time
from pathlib import Path

from shared import catalogue, config

from . import navigation
from .site_checks import check_owned_folder, check_sources
from .site_theme import BADGE_SVG, CSS, pages_url, sphinx_config

ROOT = Path(__file__).resolve().parents[1]
BUILD = ROOT / "build"
SITE = BUILD / "site"  # the website
STAGING = BUILD / "site-src"  # the adapted copies that Sphinx reads

#: The file that marks a folder as built by this tool, and so safe to empty and rebuild.
SITE_MARKER = ".force-of-cnn-site"
STAGING_MARKER = ".force-of-cnn-site-src"

COLAB_BADGE_URL = "https://colab.research.google.com/assets/colab-badge.svg"
BADGE_FILE = "_static/open-in-colab.svg"

# A markdown link or image target, `](target)`, and an HTML `href="..."`/`src="..."`.
MD_TARGET = re.compile(r"(\]\()([^)\s]+)(\))")
HTML_TARGET = re.compile(r"""(\b(?:href|src)=")([^"]+)(")""")
# The notebook's own Colab badge: an HTML link or a markdown badge around the badge image.
HTML_BADGE = re.compile(r"<a [^>]*colab\.research\.google\.com[^>]*>\s*<img [^>]*>\s*</a>")
MD_BADGE = re.compile(r"\[!\[[^\]]*\]\([^)]*colab-badge[^)]*\)\]\([^)]*\)")


# ---------------------------------------------------------------------------------------------
# Addresses


def github_url(repo_path: str, kind: str = "blob") -> str:
    """The page of ``repo_path`` (``notebooks/03_pytorch_sequential.ipynb``) on GitHub."""
    return f"https://github.com/{config.GITHUB_SLUG}/{kind}/{config.GITHUB_BRANCH}/{repo_path}"


def colab_url(nb: catalogue.Notebook) -> str:
    """Where "Open in Colab" leads for ``nb``: Colab opens the notebook straight from GitHub."""
    return navigation.colab_url(nb.file_name)


def page_name(nb: catalogue.Notebook) -> str:
    """The Sphinx document name of ``nb``'s page (its file is ``<page_name>.html``)."""
    return f"notebooks/{nb.name}"


def doc_pages(root: Path = ROOT) -> list[str]:
    """The Markdown files of ``docs/`` as repository paths (``docs/speed.md``): those the
    README links to first, in the order it links to them, then the others by name."""
    found = sorted(p.relative_to(root).as_posix() for p in (root / "docs").glob("*.md"))
    readme = root / "README.md"
    linked = []
    if readme.is_file():
        for match in MD_TARGET.finditer(readme.read_text(encoding="utf-8")):
            path = posixpath.normpath(match[2].partition("#")[0])
            if path in found and path not in linked:
                linked.append(path)
    return linked + [path for path in found if path not in linked]


# ---------------------------------------------------------------------------------------------
# Adapting the README and the notebooks


def rewrite_target(target: str, page_dir: str, root: Path = ROOT) -> str:
    """The address that ``target``, written in a file of ``page_dir``, should have on the site.

    ``page_dir`` is the folder of the file in the repository (``""`` for the README,
    ``"notebooks"`` for a notebook, ``"docs"`` for a page of ``docs/``). The staging folder
    has the same layout, so a link to a notebook of the catalogue or to a page of ``docs/``
    stays as it is and MyST turns it into a link to its page (and warns if there is none); a
    link to the README goes to the front page, and a link to any
    other file of the repository goes to GitHub.
    """
    if target == COLAB_BADGE_URL:
        return relative(BADGE_FILE, page_dir)
    if re.match(r"^[a-z][a-z0-9+.-]*:", target, re.IGNORECASE) or target.startswith(("#", "/")):
        return target  # https:, mailto:, a section of this page, or a site-absolute path
    path, _, fragment = target.partition("#")
    repo_path = posixpath.normpath(posixpath.join(page_dir, path))
    if repo_path.startswith(".."):
        return target  # outside the repository: leave it for Sphinx to report
    if repo_path in {f"notebooks/{nb.file_name}" for nb in catalogue.NOTEBOOKS}:
        return target
    if repo_path in doc_pages(root):
        return target  # a page of its own: MyST links it
    if repo_path == "README.md":  # the README is the site's front page
        return relative("index.md", page_dir) + (f"#{fragment}" if fragment else "")
    if not (root / repo_path).exists():
        return target  # not in the repository: leave it for Sphinx to report
    kind = "tree" if (root / repo_path).is_dir() else "blob"
    return github_url(repo_path, kind) + (f"#{fragment}" if fragment else "")


def relative(site_path: str, page_dir: str) -> str:
    """``site_path`` (relative to the site's root) as seen from a page in ``page_dir``."""
    depth = len(Path(page_dir).parts)
    return "../" * depth + site_path


def rewrite_links(markdown: str, page_dir: str, root: Path = ROOT) -> str:
    """``markdown`` with every link and image address passed through :func:`rewrite_target`."""

    def sub(match: re.Match) -> str:
        return match[1] + rewrite_target(match[2], page_dir, root) + match[3]

    return HTML_TARGET.sub(sub, MD_TARGET.sub(sub, markdown))


def buttons_html(nb: catalogue.Notebook) -> str:
    """The row of three buttons under a notebook page's title."""
    buttons = [
        (
            "colab",
            colab_url(nb),
            '<img src="../_static/images/logo_colab.png" alt="" width="24" height="14">',
            "Open in Colab",
        ),
        (
            "github",
            github_url(f"notebooks/{nb.file_name}"),
            _icon("fa-brands fa-github"),
            "View on GitHub",
        ),
        ("download", nb.file_name, _icon("fa-solid fa-download"), "Download notebook"),
    ]
    links = []
    for kind, href, icon, text in buttons:
        extra = f' download="{nb.file_name}"' if kind == "download" else ""
        links.append(
            f'<a class="course-button course-button-{kind}" href="{html.escape(href)}"{extra}>'
            f"{icon}<span>{text}</span></a>"
        )
    return '<div class="course-buttons">\n' + "\n".join(links) + "\n</div>"


def _icon(classes: str) -> str:
    return f'<i class="{classes}" aria-hidden="true"></i>'


def add_buttons(cell_source: str, nb: catalogue.Notebook) -> str:
    """The first cell of a notebook with its Colab badge replaced by the row of buttons.

    Without a badge, the buttons go right under the first heading (or at the top).
    """
    source = HTML_BADGE.sub("", cell_source, count=1)
    source = MD_BADGE.sub("", source, count=1) if source == cell_source else source
    lines = source.splitlines()
    at = next((i + 1 for i, line in enumerate(lines) if line.startswith("# ")), 0)
    lines[at:at] = ["", buttons_html(nb), ""]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip() + "\n"


def site_notebook(nb: catalogue.Notebook, root: Path = ROOT) -> dict:
    """The notebook ``nb`` as the site shows it: its outputs untouched, its markdown adapted."""
    path = root / "notebooks" / nb.file_name
    notebook = json.loads(path.read_text(encoding="utf-8"))
    markdown = [c for c in notebook["cells"] if c["cell_type"] == "markdown"]
    for cell in markdown:
        cell["source"] = rewrite_links("".join(cell["source"]), "notebooks", root)
    if not markdown:
        notebook["cells"].insert(0, {"cell_type": "markdown", "metadata": {}, "source": ""})
        markdown = notebook["cells"][:1]
    markdown[0]["source"] = add_buttons(markdown[0]["source"], nb)
    return notebook


def toctree(caption: str, pages: list[str]) -> str:
    """A hidden table of contents: the sidebar's section ``caption`` listing ``pages``."""
    return "\n".join(["```{toctree}", ":hidden:", f":caption: {caption}", "", *pages, "```"])


def landing_page(readme: str, root: Path = ROOT) -> str:
    """The README as the site's front page, followed by the (hidden) tables of contents that
    put the notebooks (in catalogue order), then the pages of ``docs/``, in the sidebar and in
    the previous/next chain."""
    trees = [toctree("Notebooks", [page_name(nb) for nb in catalogue.NOTEBOOKS])]
    docs = [path.removesuffix(".md") for path in doc_pages(root)]
    if docs:
        trees.append(toctree("Guides", docs))
    return rewrite_links(readme, "", root).rstrip() + "\n\n" + "\n\n".join(trees) + "\n"


def stage(out: Path = STAGING, root: Path = ROOT) -> None:
    """Write the adapted copies that Sphinx reads into ``out``, a folder this tool owns
    (emptied first; see :func:`site_checks.check_owned_folder`)."""
    out = check_owned_folder(out, STAGING_MARKER, keep={"the course folder": root})
    if out.exists():
        shutil.rmtree(out)
    (out / "notebooks").mkdir(parents=True)
    (out / STAGING_MARKER).write_text("Written by `python -m tools.site`; rebuilt each time.\n")
    (out / "_static").mkdir()
    (out / "index.md").write_text(
        landing_page((root / "README.md").read_text(encoding="utf-8"), root), encoding="utf-8"
    )
    for doc in doc_pages(root):
        text = rewrite_links((root / doc).read_text(encoding="utf-8"), "docs", root)
        (out / "docs").mkdir(exist_ok=True)
        (out / doc).write_text(text, encoding="utf-8")
    # The downloads: the notebooks exactly as committed, next to their pages.
    (out / "_downloads_extra" / "notebooks").mkdir(parents=True)
    for nb in catalogue.NOTEBOOKS:
        notebook = site_notebook(nb, root)
        text = json.dumps(notebook, indent=1, ensure_ascii=False) + "\n"
        (out / "notebooks" / nb.file_name).write_text(text, encoding="utf-8")
        shutil.copy2(root / "notebooks" / nb.file_name, out / "_downloads_extra" / "notebooks")
    (out / BADGE_FILE).write_text(BADGE_SVG, encoding="utf-8")
    (out / "_static" / "course.css").write_text(CSS, encoding="utf-8")


def check(out: Path = SITE, staging: Path = STAGING, root: Path = ROOT) -> Path:
    """Everything :func:`build` needs, checked before any work: the source files, and output
    and staging folders that this tool owns. Returns ``out`` resolved."""
    check_sources(root, doc_pages(root))
    keep = {"the course folder": root, "the site's staging folder": staging}
    out = check_owned_folder(out, SITE_MARKER, keep=keep)
    check_owned_folder(staging, STAGING_MARKER, keep={"the course folder": root, "the site": out})
    return out


def build(out: Path = SITE, staging: Path = STAGING, root: Path = ROOT, quiet: bool = True):
    """Stage the sources and build the site into ``out``; returns the seconds it took.

    Raises ``RuntimeError`` when Sphinx warns (a broken link, a notebook it cannot read): a
    warning on this site is a defect a reader would see; so do a missing or unreadable source
    file and an output folder this tool did not create (:func:`check`), before any work.
    """
    out = check(out, staging, root)
    try:
        from sphinx.application import Sphinx
    except ImportError as error:
        raise RuntimeError(
            "Sphinx is not installed: `make site` installs requirements-site.txt into .venv."
        ) from error

    start = time.perf_counter()
    stage(staging, root)
    # Sphinx writes into the staging folder (MyST-NB puts the notebooks' images next to its
    # output folder), and the finished site replaces ``out`` in one move.
    html_dir = staging / "html"
    warnings: list[str] = []

    class Warnings:
        def write(self, text: str) -> None:
            if text.strip():
                warnings.append(text.strip())
            sys.stderr.write(text)

        def flush(self) -> None:
            sys.stderr.flush()

    app = Sphinx(
        srcdir=staging,
        confdir=None,
        outdir=html_dir,
        doctreedir=staging / "doctrees",
        buildername="html",
        confoverrides=sphinx_config(),
        status=None if quiet else sys.stdout,
        warning=Warnings(),
        freshenv=True,
    )
    app.build()
    if warnings:
        raise RuntimeError(f"The site built with {len(warnings)} warning(s); see above.")
    (html_dir / SITE_MARKER).write_text("Built by `python -m tools.site`; rebuilt each time.\n")
    if out.exists():
        shutil.rmtree(out)  # checked above: a folder this tool built, or an empty one
    out.parent.mkdir(parents=True, exist_ok=True)
    shutil.move(html_dir, out)
    return time.perf_counter() - start


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=SITE, help="output folder (build/site)")
    parser.add_argument("--verbose", action="store_true", help="show Sphinx's progress")
    args = parser.parse_args(argv)
    try:
        seconds = build(args.out, quiet=not args.verbose)
    except RuntimeError as error:
        sys.exit(f"make site: {error}")
    pages = 1 + len(catalogue.NOTEBOOKS) + len(doc_pages())
    print(
        f"Built {pages} pages into {args.out} in {seconds:.0f} s. "
        f"Open {args.out / 'index.html'}; published at {pages_url()}"
    )


if __name__ == "__main__":
    main()
