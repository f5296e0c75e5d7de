"""Pin the helper package that every notebook's setup cell installs on Colab.

python -m tools.pin REF      set the pin to REF (a tag such as v1.2.0, or a commit) in
                             shared/runtime.py and rewrite the setup cell of every notebook
python -m tools.pin --check  exit 1 when a setup cell does not match the pin

The setup cell is the second cell of each notebook in ``shared.catalogue``. The pin is kept in
one place, ``shared.runtime.HELPER_REF``; the cells are written from it by ``setup_source``.
A tag must exist on GitHub before the notebooks that name it are published.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

from shared import catalogue, config, runtime

ROOT = Path(__file__).resolve().parents[1]
SETUP_CELL = 1  # cell 0 is the title with the Colab badge
RUNTIME_FILE = ROOT / "shared" / "runtime.py"
REF_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._/-]{0,99}$")
USES_FASTAI = re.compile(r"^\s*(from|import) fastai\b", re.M)


def uses_fastai(nb: dict) -> bool:
    code = ["".join(c["source"]) for c in nb["cells"][SETUP_CELL + 1 :] if c["cell_type"] == "code"]
    return any(USES_FASTAI.search(text) for text in code)


def setup_source(name: str, fastai: bool = False, ref: str | None = None) -> str:
    """The setup cell of notebook ``name``: on Colab it installs the pinned helper package (and
    fastai when the notebook needs it and the runtime lacks it); everywhere it prints versions."""
    ref = ref or runtime.HELPER_REF
    oldest, newest = runtime.TESTED["fastai"]
    major, minor = (int(n) for n in newest.split("."))
    lines = ["import sys"]
    if fastai:
        lines.append("from importlib.util import find_spec")
    lines += [
        "",
        'if "google.colab" in sys.modules:  # on Colab: the course\'s helper package, pinned',
        f'    %pip install --quiet "force-of-cnn @ git+https://github.com/{config.GITHUB_SLUG}@{ref}"',
    ]
    if fastai:
        lines += [
            '    if find_spec("fastai") is None:  # Colab ships fastai; install it where it lacks',
            f'        %pip install --quiet "fastai>={oldest},<{major}.{minor + 1}"',
        ]
    lines += [
        "",
        "from shared import runtime",
        "",
        f'runtime.report("{name}")  # the versions in use, and a warning for untested ones',
    ]
    return "\n".join(lines)


def _source_lines(text: str) -> list[str]:
    return text.splitlines(keepends=True)


def read_notebook(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def write_notebook(path: Path, nb: dict) -> None:
    text = json.dumps(nb, indent=1, ensure_ascii=False) + "\n"
    path.write_text(text, encoding="utf-8")


def expected_setup(path: Path, nb: dict, ref: str | None = None) -> str:
    return setup_source(path.stem, fastai=uses_fastai(nb), ref=ref)


def notebook_paths(root: Path = ROOT) -> list[Path]:
    return [root / "notebooks" / nb.file_name for nb in catalogue.NOTEBOOKS]


def stale_setup_cells(root: Path = ROOT) -> list[str]:
    """Notebooks whose setup cell differs from the one ``setup_source`` writes."""
    stale = []
    for path in notebook_paths(root):
        nb = read_notebook(path)
        if "".join(nb["cells"][SETUP_CELL]["source"]) != expected_setup(path, nb):
            stale.append(path.name)
    return stale


def set_ref(ref: str, root: Path = ROOT) -> None:
    """Write ``ref`` into shared/runtime.py and every setup cell."""
    if not REF_PATTERN.match(ref):
        raise SystemExit(f"{ref!r} does not look like a git tag or commit.")
    runtime_file = root / "shared" / "runtime.py"
    text = runtime_file.read_text()
    new_text, count = re.subn(r'^HELPER_REF = "[^"]*"$', f'HELPER_REF = "{ref}"', text, flags=re.M)
    if count != 1:
        raise SystemExit(f"{runtime_file}: no single HELPER_REF line to change.")
    runtime_file.write_text(new_text)
    for path in notebook_paths(root):
        nb = read_notebook(path)  # read, change one cell, write back at once
        cell = nb["cells"][SETUP_CELL]
        if cell["cell_type"] != "code":
            raise SystemExit(f"{path.name}: cell {SETUP_CELL} is not the setup code cell.")
        source = _source_lines(expected_setup(path, nb, ref))
        if cell["source"] != source:
            cell["source"] = source
            write_notebook(path, nb)
            print(f"{path.name}: setup cell pinned to {ref}")


def main(argv: list[str]) -> int:
    if argv == ["--check"]:
        stale = stale_setup_cells()
        if stale:
            print(f"Setup cells not pinned to {runtime.HELPER_REF}: {', '.join(stale)}.")
            print("Run `python -m tools.pin " + runtime.HELPER_REF + "` to rewrite them.")
            return 1
        print(f"Every setup cell installs force-of-cnn at {runtime.HELPER_REF}.")
        return 0
    if len(argv) != 1 or argv[0].startswith("-"):
        print(__doc__)
        return 2
    set_ref(argv[0])
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
