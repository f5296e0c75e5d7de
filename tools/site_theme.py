"""How the course's website looks: Sphinx's configuration, the Colab badge drawn here, and the
style sheet of the buttons and notebook outputs. ``tools.site`` builds the site with them."""

from __future__ import annotations

from shared import config

TITLE = "Force of CNN"


def pages_url() -> str:
    """Where GitHub Pages publishes the site: ``https://<owner>.github.io/<repository>/``."""
    owner, repo = config.GITHUB_SLUG.split("/")
    return f"https://{owner.lower()}.github.io/{repo}/"


# A badge of our own (the README loads Colab's from Colab's server), 117 x 20 like the original.
BADGE_SVG = """<svg xmlns="http://www.w3.org/2000/svg" width="117" height="20" role="img" \
aria-label="Open in Colab">
<title>Open in Colab</title>
<rect width="117" height="20" rx="3" fill="#555"/>
<path d="M63 0h51a3 3 0 0 1 3 3v14a3 3 0 0 1-3 3H63z" fill="#f9ab00"/>
<g font-family="Verdana,DejaVu Sans,sans-serif" font-size="11" fill="#fff">
<text x="8" y="14">Open in</text>
<text x="70" y="14" fill="#333">Colab</text>
</g>
</svg>
"""

CSS = """\
/* Force of CNN: the row of buttons under a notebook's title. */
.course-buttons { display: flex; flex-wrap: wrap; gap: 0.5rem; margin: 0.5rem 0 1.5rem; }
.course-button {
  display: inline-flex; align-items: center; gap: 0.45rem;
  padding: 0.35rem 0.8rem; border-radius: 0.4rem;
  border: 1px solid var(--pst-color-border); background: var(--pst-color-surface);
  color: var(--pst-color-text-base); font-size: 0.9rem; text-decoration: none;
}
.course-button:hover { border-color: var(--pst-color-primary); color: var(--pst-color-primary);
  text-decoration: none; }
.course-button img { height: 16px; width: auto; }
/* The README's Colab badges keep their size instead of shrinking with their column. */
img[src$="open-in-colab.svg"] { max-width: none; width: 117px; height: 20px; }
/* Data frames as Jupyter shows them: numbers to the right, some air between columns. */
div.cell_output table.dataframe { margin: 0; }
div.cell_output table.dataframe td, div.cell_output table.dataframe th {
  text-align: right; padding: 0.2rem 0.7rem; }
/* Wide notebook outputs (data frames, model summaries) scroll inside their own box. */
div.cell_output { overflow-x: auto; }
/* On a phone: smaller titles, and table headers that do not wrap a word per line. */
@media (max-width: 576px) {
  .bd-article h1 { font-size: 2rem; }
  .bd-article h2 { font-size: 1.6rem; }
  .bd-article table { font-size: 0.85rem; }
  .bd-article table th { min-width: 8rem; }
}
"""


def sphinx_config() -> dict:
    """Sphinx's configuration (what would otherwise be a ``conf.py``)."""
    return {
        "project": TITLE,
        "author": "The Force of CNN authors",
        "copyright": "the Force of CNN authors",
        # githubpages writes .nojekyll, so that GitHub Pages serves the _static folder as it is.
        "extensions": ["myst_nb", "sphinx-mathjax-offline", "sphinx.ext.githubpages"],
        "html_baseurl": pages_url(),
        # The notebooks are shown with their committed outputs; never executed here.
        "nb_execution_mode": "off",
        "nb_merge_streams": True,
        "myst_enable_extensions": ["dollarmath", "colon_fence"],
        "myst_heading_anchors": 3,  # README links such as (#results) find their section
        "exclude_patterns": [
            "_downloads_extra",
            "html",
            "doctrees",
            "jupyter_execute",
            "**.ipynb_checkpoints",
        ],
        "html_theme": "sphinx_book_theme",
        "html_title": TITLE,
        "html_static_path": ["_static"],
        "html_css_files": ["course.css"],
        "html_extra_path": ["_downloads_extra"],
        "html_copy_source": False,
        "html_show_sourcelink": False,
        "html_use_index": False,
        "html_last_updated_fmt": None,
        # The theme's light colours unless the reader switches; notebook outputs (figures,
        # data frames) were drawn for a white page.
        "html_context": {"default_mode": "light"},
        "html_theme_options": {
            "repository_url": f"https://github.com/{config.GITHUB_SLUG}",
            "repository_branch": config.GITHUB_BRANCH,
            "path_to_docs": "",
            "use_repository_button": True,
            "use_download_button": False,
            "home_page_in_toc": True,
            "show_toc_level": 2,
            "navbar_persistent": [],  # the search box is in the sidebar; no second one on top
        },
    }
