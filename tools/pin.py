"""Pin the helper package that every notebook's setup cell installs on Colab.

python -m tools.pin          pin the last commit that changed the package (shared/, pyproject.toml)
python -m tools.pin REF      pin REF, a commit of main's history given in any form git reads
python -m tools.pin --check  exit 1 when the pin is unusable or a setup cell does not match it

Only the history of ``main`` is published (no tags, no other branches), so the pin is a full
commit hash of that history, kept in one place, ``tools/helper-pin.txt``; the setup cells are
written from it by ``setup_source``. The pinned commit must hold the same package as the
notebooks' own commit (``git diff PIN HEAD -- shared pyproject.toml`` is empty): a notebook never
installs a helper package older than itself. The pin cannot live inside ``shared/``: moving it
would change the package it points at.

After changing ``shared/`` or ``pyproject.toml``: commit, run ``python -m tools.pin``, commit the
rewritten setup cells.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

from shared import catalogue, config, runtime

ROOT = Path(__file__).resolve().parents[1]
PIN_FILE = Path("tools") / "helper-pin.txt"
PACKAGE_PATHS = ("shared", "pyproject.toml")
SETUP_CELL = 1  # cell 0 is the title with the Colab badge
COMMIT = re.compile(r"^[0-9a-f]{40}$")
USES_FASTAI = re.compile(r"^\s*(from|import) fastai\b", re.M)


class PinError(Exception):
    """The pin cannot be set or used; the message says why and what to do."""


# ----------------------------------------------------------------------------- git


def git(*args: str, root: Path = ROOT) -> str:
    """Run git in ``root``; its output, or PinError with git's own message."""
    try:
        result = subprocess.run(
            ["git", *args], cwd=root, capture_output=True, text=True, timeout=60, check=False
        )
    except (OSError, subprocess.TimeoutExpired) as err:
        raise PinError(f"could not run git in {root}: {err}") from None
    if result.returncode:
        message = (result.stderr.strip() or result.stdout.strip()).splitlines()
        raise PinError(f"git {' '.join(args)}: {message[-1] if message else 'failed'}")
    return result.stdout.strip()


def resolve(ref: str, root: Path = ROOT) -> str:
    """The full hash of the commit ``ref`` names, when that commit is in the history of HEAD
    (what ``main`` publishes); PinError otherwise."""
    if not isinstance(ref, str) or not ref or ref != ref.strip() or ref.startswith("-"):
        raise PinError(f"{ref!r} is not a commit: give a hash or a name git knows, without spaces.")
    try:
        commit = git(
            "rev-parse", "--verify", "--quiet", "--end-of-options", f"{ref}^{{commit}}", root=root
        )
    except PinError:
        raise PinError(f"{ref!r} names no commit in {root}.") from None
    try:
        git("merge-base", "--is-ancestor", commit, "HEAD", root=root)
    except PinError:
        raise PinError(
            f"{ref!r} ({commit[:12]}) is not in the history of HEAD: only main's history is "
            "published, so Colab could never fetch it."
        ) from None
    return commit


def last_package_commit(root: Path = ROOT) -> str:
    """The last commit of HEAD's history that changed the helper package."""
    commit = git("log", "-1", "--format=%H", "HEAD", "--", *PACKAGE_PATHS, root=root)
    if not commit:
        raise PinError(f"no commit of {root} changes {' or '.join(PACKAGE_PATHS)}.")
    return commit


def package_changes(commit: str, root: Path = ROOT) -> list[str]:
    """Files of the package that differ between ``commit`` and HEAD."""
    listed = git("diff", "--name-only", commit, "HEAD", "--", *PACKAGE_PATHS, root=root)
    return listed.splitlines()


def uncommitted_package_changes(root: Path = ROOT) -> list[str]:
    listed = git("status", "--porcelain", "--untracked-files=all", "--", *PACKAGE_PATHS, root=root)
    return [line.split(maxsplit=1)[-1] for line in listed.splitlines()]


# ----------------------------------------------------------------------------- the pin


def read_pin(root: Path = ROOT) -> str:
    path = root / PIN_FILE
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as err:
        raise PinError(f"cannot read the pin {path}: {err.strerror}.") from None
    pinned = text.strip()
    if not COMMIT.match(pinned) or text != pinned + "\n":
        raise PinError(f"{path} must hold one full commit hash; run `python -m tools.pin`.")
    return pinned


def problems(root: Path = ROOT) -> list[str]:
    """Why the pin would break a notebook opened from ``root``'s HEAD: the commit is missing or
    not in HEAD's history, or it holds another package, or a setup cell names something else."""
    try:
        pinned = resolve(read_pin(root), root)
        changed = package_changes(pinned, root)
    except PinError as err:
        return [str(err)]
    found = []
    if changed:
        found.append(
            f"the pinned commit {pinned[:12]} holds an older package than HEAD "
            f"({', '.join(changed[:5])} changed since): run `python -m tools.pin` and commit."
        )
    stale = stale_setup_cells(root, pinned)
    if stale:
        found.append(f"setup cells not written from the pin: {', '.join(stale)}.")
    return found


# ----------------------------------------------------------------------------- setup cells


def uses_fastai(nb: dict) -> bool:
    code = ["".join(c["source"]) for c in nb["cells"][SETUP_CELL + 1 :] if c["cell_type"] == "code"]
    return any(USES_FASTAI.search(text) for text in code)


def setup_source(name: str, fastai: bool = False, commit: str | None = None) -> str:
    """The setup cell of notebook ``name``. On Colab it installs the pinned helper package (and
    fastai where the runtime lacks it) and stops with one sentence when that fails; everywhere it
    prints the versions in use. Outside Colab it installs nothing."""
    commit = commit or read_pin()
    oldest, newest = runtime.TESTED["fastai"]
    major, minor = (int(n) for n in newest.split("."))
    lines = ["import re", "import subprocess", "import sys"]
    if fastai:
        lines.append("from importlib.util import find_spec")
    lines += [
        "",
        'if "google.colab" in sys.modules:  # on Colab: install the course\'s helper package',
        f'    course = "https://github.com/{config.GITHUB_SLUG}"',
        f'    needed = [f"force-of-cnn @ git+{{course}}@{commit}"]',
    ]
    if fastai:
        lines += [
            '    if find_spec("fastai") is None:  # Colab ships fastai; install it where it lacks',
            f'        needed.append("fastai>={oldest},<{major}.{minor + 1}")',
        ]
    lines += [
        "    pip = subprocess.run(",
        '        [sys.executable, "-m", "pip", "install", "--quiet", *needed],',
        "        capture_output=True,",
        "        text=True,",
        "    )",
        "    if pip.returncode:  # stop here, not with an ImportError further down",
        '        said = [line.strip(" │╰─>") for line in pip.stderr.splitlines() if line.strip()]',
        '        errors = [s for s in said if re.match(r"(error|fatal)\\b", s, re.I)]',
        '        errors = [s for s in errors if "subprocess-exited-with-error" not in s]',
        '        last = (errors or said or ["no message"])[-1]',
        "        raise RuntimeError(",
        "            f\"pip could not install {' and '.join(needed)} (pip: {last}). Check that \"",
        '            "this runtime is connected to the internet and run this cell again, or "',
        '            "clone the course and run the notebook there (see its README)."',
        "        )",
        "",
        "from shared import runtime",
        "",
        f'runtime.report("{name}")  # the versions in use, and a warning for untested ones',
    ]
    return "\n".join(lines)


def read_notebook(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def write_notebook(path: Path, nb: dict) -> None:
    text = json.dumps(nb, indent=1, ensure_ascii=False) + "\n"
    path.write_text(text, encoding="utf-8")


def expected_setup(path: Path, nb: dict, commit: str | None = None) -> str:
    return setup_source(path.stem, fastai=uses_fastai(nb), commit=commit)


def notebook_paths(root: Path = ROOT) -> list[Path]:
    return [root / "notebooks" / nb.file_name for nb in catalogue.NOTEBOOKS]


def stale_setup_cells(root: Path = ROOT, commit: str | None = None) -> list[str]:
    """Notebooks whose setup cell differs from the one ``setup_source`` writes."""
    commit = commit or read_pin(root)
    stale = []
    for path in notebook_paths(root):
        nb = read_notebook(path)
        if "".join(nb["cells"][SETUP_CELL]["source"]) != expected_setup(path, nb, commit):
            stale.append(path.name)
    return stale


def set_pin(ref: str | None = None, root: Path = ROOT) -> str:
    """Pin ``ref`` (default: the last commit that changed the package) in the pin file and in
    every setup cell; the full hash pinned. Nothing is written unless every check passes."""
    uncommitted = uncommitted_package_changes(root)
    if uncommitted:
        raise PinError(
            f"the package has uncommitted changes ({', '.join(uncommitted[:5])}): commit them "
            "first, so that the pin can point at them."
        )
    commit = resolve(ref, root) if ref is not None else last_package_commit(root)
    changed = package_changes(commit, root)
    if changed:
        raise PinError(
            f"{commit[:12]} holds an older package than HEAD ({', '.join(changed[:5])} changed "
            f"since): the notebooks would install it. Pin {last_package_commit(root)[:12]} "
            "or a later commit."
        )
    updates = {}
    for path in notebook_paths(root):
        nb = read_notebook(path)
        cell = nb["cells"][SETUP_CELL]
        if cell["cell_type"] != "code":
            raise PinError(f"{path.name}: cell {SETUP_CELL} is not the setup code cell.")
        source = expected_setup(path, nb, commit).splitlines(keepends=True)
        if cell["source"] != source:
            cell["source"] = source
            updates[path] = nb
    (root / PIN_FILE).write_text(commit + "\n", encoding="utf-8")
    for path, nb in updates.items():
        write_notebook(path, nb)
        print(f"{path.name}: setup cell pinned to {commit[:12]}")
    return commit


def main(argv: list[str], root: Path = ROOT) -> int:
    try:
        if argv == ["--check"]:
            found = problems(root)
            for line in found:
                print(f"Pin: {line}")
            if not found:
                print(f"Every setup cell installs force-of-cnn at {read_pin(root)[:12]}.")
            return 1 if found else 0
        if len(argv) > 1 or (argv and argv[0].startswith("-")):
            print(__doc__)
            return 2
        commit = set_pin(argv[0] if argv else None, root)
    except PinError as err:
        print(f"Pin not changed: {err}", file=sys.stderr)
        return 1
    print(f"Pinned force-of-cnn at {commit}.")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
