"""Run every notebook the way Google Colab runs it, in a replica of Colab's runtime.

python -m tools.colab_check [--from FOLDER] [NAME ...]

Run it with the Python of the replica (``make colab-check`` builds ``.venv-colab`` from
``tests/colab/runtime.txt`` and calls ``.venv-colab/bin/python -m tools.colab_check``). For each
notebook of ``shared.catalogue`` (or only those NAMEd, by number or name), in fast mode:

- the notebook is copied alone into an empty folder, with no repository next to it;
- ``google.colab`` is importable and imported when the kernel starts, as on Colab;
- the helper package is not installed: the notebook's own, unchanged setup cell installs it with
  ``%pip install "force-of-cnn @ git+https://github.com/<slug>@<ref>"``, which git is told to
  fetch from this checkout instead (``url.<local>.insteadOf``). When the pinned ref is a tag or
  commit of this clone, that version is installed, as on Colab; when it is not (a tag not made
  yet), a snapshot of the working tree is committed under that name in a temporary repository;
- nbval runs the notebook in lax mode with the course's sanitize file.

``--from FOLDER`` takes the notebooks from FOLDER instead of notebooks/ (a scratch copy).
MNIST is read from ``MNIST_DATA_DIR`` when it is set (offline machines); on Colab it downloads.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from shared import catalogue, config, runtime

ROOT = Path(__file__).resolve().parents[1]
SANITIZE = ROOT / "tests" / "nbval_sanitize.cfg"
PACKAGE = "force-of-cnn"

FAKE_COLAB = '''"""Stand-in for Colab's ``google.colab`` (tools/colab_check.py): notebooks only ask
whether it is imported."""
'''
# Colab imports google.colab when the kernel starts; IPython runs this file at start-up.
STARTUP = "import google.colab  # noqa: F401\n"


def git(*args: str, cwd: Path) -> str:
    result = subprocess.run(
        ["git", *args], cwd=cwd, capture_output=True, text=True, check=False, env=_git_env()
    )
    if result.returncode:
        raise RuntimeError(f"git {' '.join(args)} failed in {cwd}: {result.stderr.strip()}")
    return result.stdout.strip()


def _git_env() -> dict:
    env = dict(os.environ, GIT_TERMINAL_PROMPT="0")
    env.pop("GIT_CONFIG_GLOBAL", None)
    return env


def is_ref_here(ref: str) -> bool:
    """True when ``ref`` names a commit in this clone (a tag, a branch or a hash)."""
    try:
        git("rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}", cwd=ROOT)
    except RuntimeError:
        return False
    return True


def snapshot(ref: str, folder: Path) -> Path:
    """A git repository in ``folder`` with this checkout's files (tracked and untracked, not
    ignored) as one commit tagged ``ref``: the helper package as it is now, under the pin's name."""
    listed = git("ls-files", "-z", "--cached", "--others", "--exclude-standard", cwd=ROOT)
    folder.mkdir(parents=True)
    for name in filter(None, listed.split("\0")):
        source = ROOT / name
        if source.is_file():  # skips files deleted but not yet committed
            (folder / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, folder / name)
    git("init", "--quiet", cwd=folder)
    git("add", "--all", cwd=folder)
    identity = ["-c", "user.name=colab-check", "-c", "user.email=colab-check@localhost"]
    git(*identity, "commit", "--quiet", "--message", f"working tree as {ref}", cwd=folder)
    git("tag", ref, cwd=folder)
    return folder


def colab_environment(scratch: Path, source: Path) -> dict:
    """Environment variables for a Colab-like kernel: ``google.colab`` importable and imported at
    start-up, git sending GitHub's URL of the course to ``source``, fast mode."""
    fake = scratch / "fake-colab"
    (fake / "google" / "colab").mkdir(parents=True)  # no google/__init__.py: protobuf shares it
    (fake / "google" / "colab" / "__init__.py").write_text(FAKE_COLAB)
    startup = scratch / "ipython" / "profile_default" / "startup"
    startup.mkdir(parents=True)
    (startup / "00-colab.py").write_text(STARTUP)
    gitconfig = scratch / "gitconfig"
    gitconfig.write_text(
        f'[url "{source.as_uri()}"]\n'
        f"\tinsteadOf = https://github.com/{config.GITHUB_SLUG}\n"
        '[protocol "file"]\n\tallow = always\n'
    )
    env = dict(os.environ)
    for name in ("PYTHONPATH", "VIRTUAL_ENV", config.RESULTS_ENV, "MPLBACKEND"):
        env.pop(name, None)
    env.update(
        PYTHONPATH=str(fake),
        IPYTHONDIR=str(scratch / "ipython"),
        GIT_CONFIG_GLOBAL=str(gitconfig),
        GIT_CONFIG_NOSYSTEM="1",
        GIT_TERMINAL_PROMPT="0",
        COLAB_RELEASE_TAG="colab-check",
        PIP_DISABLE_PIP_VERSION_CHECK="1",
        **{config.FAST_ENV: "1"},
    )
    return env


def uninstall_helper(env: dict, cwd: Path) -> None:
    """Leave the runtime as Colab starts it: without the course's helper package."""
    subprocess.run(
        [sys.executable, "-m", "pip", "uninstall", "--quiet", "--yes", PACKAGE],
        env=env,
        cwd=cwd,
        capture_output=True,
        check=False,
    )
    probe = "import importlib.util, sys; sys.exit(importlib.util.find_spec('shared') is not None)"
    if subprocess.run([sys.executable, "-c", probe], env=env, cwd=cwd, check=False).returncode:
        raise RuntimeError("`shared` is importable before the setup cell ran: remove it first.")


def installed_by_setup_cell(env: dict, cwd: Path) -> str | None:
    """How the helper package got into the runtime, from pip's record of it: e.g.
    ``'git v1.1.0 (commit 3f2a...)'``; None when it is not installed."""
    probe = (
        "import json, importlib.metadata as m\n"
        "try:\n"
        f"    d = m.distribution('{PACKAGE}')\n"
        "except m.PackageNotFoundError:\n"
        "    raise SystemExit(1)\n"
        "v = json.loads(d.read_text('direct_url.json') or '{}').get('vcs_info', {})\n"
        "print(v.get('vcs'), v.get('requested_revision'), v.get('commit_id', '')[:12])"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], env=env, cwd=cwd, capture_output=True, text=True
    )
    if result.returncode:
        return None
    vcs, revision, commit = result.stdout.split()
    return f"{vcs} {revision} (commit {commit})"


def run_notebook(notebook: Path, workdir: Path, env: dict) -> tuple[bool, float, str]:
    """Copy ``notebook`` alone into ``workdir`` and run it under nbval; (passed, seconds, log)."""
    workdir.mkdir(parents=True)
    shutil.copy2(notebook, workdir / notebook.name)
    uninstall_helper(env, workdir)
    command = [
        sys.executable,
        "-m",
        "pytest",
        "--nbval-lax",
        "--nbval-current-env",
        "--sanitize-with",
        str(SANITIZE),
        "-p",
        "no:cacheprovider",
        "--rootdir",
        ".",
        "-q",
        notebook.name,
    ]
    start = time.perf_counter()
    result = subprocess.run(command, cwd=workdir, env=env, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    log = result.stdout + result.stderr
    how = installed_by_setup_cell(env, workdir)
    if how is None:
        return False, seconds, log + f"\nThe setup cell did not install {PACKAGE}."
    return result.returncode == 0, seconds, log + f"\n{PACKAGE} installed by the setup cell: {how}"


def first_failure(log: str, lines: int = 30) -> str:
    """The end of the first failing cell's report in nbval's output, and its summary line."""
    text = re.sub(r"\x1b\[[0-9;]*m", "", log)
    sections = re.split(r"^_{3,} .* _{3,}$", text, flags=re.M)
    first = (sections[1] if len(sections) > 1 else text).split("\n=====", 1)[0]
    summary = [line for line in text.splitlines() if re.match(r"^\d+ (failed|passed)", line)]
    kept = first.strip().splitlines()[-lines:] + summary[-1:]
    return "\n".join("    " + line for line in kept)


def versions_line() -> str:
    found = {name: runtime.installed(name) for name in runtime.TESTED}
    python = ".".join(map(str, sys.version_info[:3]))
    return f"Python {python}; " + ", ".join(f"{n} {v}" for n, v in found.items() if v)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("names", nargs="*", help="notebook numbers or names (default: all)")
    parser.add_argument("--from", dest="folder", type=Path, default=ROOT / "notebooks")
    args = parser.parse_args(argv)
    try:
        chosen = [catalogue.find(n) for n in args.names] or list(catalogue.NOTEBOOKS)
    except ValueError as err:
        parser.error(str(err))
    notebooks = [args.folder / nb.file_name for nb in catalogue.NOTEBOOKS if nb in chosen]
    missing = [str(p) for p in notebooks if not p.is_file()]
    if missing:
        parser.error(f"no such notebook: {', '.join(missing)}")

    ref = runtime.HELPER_REF
    print(f"Colab replica: {versions_line()}")
    with tempfile.TemporaryDirectory(prefix="colab-check-") as tmp:
        scratch = Path(tmp)
        if is_ref_here(ref):
            source = ROOT
            print(f"Setup cells install {PACKAGE} at {ref}, from this clone.")
        else:
            source = snapshot(ref, scratch / "repository")
            print(
                f"Setup cells install {PACKAGE} at {ref}: not a tag or commit of this clone yet, "
                "so the working tree stands in for it (tag the release commit with it)."
            )
        env = colab_environment(scratch, source)
        failed = []
        for number, notebook in enumerate(notebooks, 1):
            passed, seconds, log = run_notebook(notebook, scratch / "content" / notebook.stem, env)
            verdict = "passed" if passed else "FAILED"
            how = log.rsplit("\n", 1)[-1]
            print(
                f"[{number}/{len(notebooks)}] {notebook.name}: {verdict} in {seconds:.0f} s; {how}"
            )
            if not passed:
                failed.append(notebook.name)
                print(first_failure(log))
        uninstall_helper(env, scratch)
    if failed:
        print(f"Colab check failed: {', '.join(failed)}.")
        return 1
    print(f"Colab check passed: {len(notebooks)} of {len(notebooks)} notebooks.")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
