"""Run every notebook the way a learner meets it on Google Colab, in a replica of Colab's runtime.

python -m tools.colab_check [NAME ...]

Run it with the Python of the replica: ``make colab-check`` builds ``.venv-colab`` from
``tests/colab/runtime.txt`` and calls ``.venv-colab/bin/python -m tools.colab_check``; any other
interpreter is refused, because the check uninstalls the helper package from the environment it
runs in. For each notebook of ``shared.catalogue`` (or only those NAMEd, by number or name):

- ``main`` is cloned the way GitHub serves it: ``--no-tags --single-branch``, committed history
  only, no working tree, no untracked files. Uncommitted work is not tested: commit it first;
- the notebook is taken from that clone and copied alone into an empty folder;
- ``google.colab`` is importable and imported when the kernel starts, as on Colab;
- the helper package is not installed: the notebook's own, unchanged setup cell installs it from
  ``https://github.com/<slug>``, which git is told to fetch from the clone instead
  (``url.<clone>.insteadOf``); nothing else is redirected;
- nbval runs the notebook in fast mode, lax, with the course's sanitize file; the notebook fails
  when any cell fails or when the setup cell did not install the commit it pins.

MNIST is read from ``MNIST_DATA_DIR`` when it is set (offline machines); on Colab it downloads.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from shared import catalogue, config, runtime

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = "force-of-cnn"
#: Written into the replica's environment by ``make colab-check``; no other one is touched.
REPLICA_MARKER = "colab-replica"
NOTEBOOK_TIMEOUT = 900  # seconds for one notebook in fast mode, setup cell's install included
CELL_TIMEOUT = 600

FAKE_COLAB = '''"""Stand-in for Colab's ``google.colab`` (tools/colab_check.py): notebooks only ask
whether it is imported."""
'''
# Colab imports google.colab when the kernel starts; IPython runs this file at start-up.
STARTUP = "import google.colab  # noqa: F401\n"
# The pin in a setup cell: ``git+{course}@<commit>`` (or the older ``git+https://...@<ref>``).
PINNED = re.compile(r"git\+(?:\{course\}|https://github\.com/[^@\"]+)@([^\"\s]+)\"")


class CheckError(Exception):
    """The check cannot run; the message says why and what to do."""


def git(*args: str, cwd: Path, env: dict | None = None) -> str:
    try:
        result = subprocess.run(
            ["git", *args],
            cwd=cwd,
            capture_output=True,
            text=True,
            timeout=300,
            env=env or _git_env(),
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise CheckError(f"git {' '.join(args)} took over 300 s in {cwd}.") from None
    if result.returncode:
        raise CheckError(f"git {' '.join(args)} failed in {cwd}: {result.stderr.strip()}")
    return result.stdout


def _git_env() -> dict:
    env = dict(os.environ, GIT_TERMINAL_PROMPT="0")
    env.pop("GIT_CONFIG_GLOBAL", None)
    return env


def refuse_other_interpreters(prefix: Path | None = None) -> None:
    """Stop unless this Python is the Colab replica's: the check uninstalls the helper package
    from the environment it runs in, and must never do that to the course's own ``.venv``."""
    prefix = Path(sys.prefix if prefix is None else prefix)
    if not (prefix / REPLICA_MARKER).is_file():
        raise CheckError(
            f"{prefix} is not the Colab replica (it has no {REPLICA_MARKER} file), and the check "
            "would uninstall force-of-cnn from it. Run `make colab-check`, which builds the "
            "replica in .venv-colab and uses its Python."
        )


def published_clone(folder: Path, root: Path = ROOT) -> Path:
    """A bare clone of ``root``'s ``main`` as GitHub publishes it: that branch's history only."""
    branch = config.GITHUB_BRANCH
    try:
        git("rev-parse", "--verify", "--quiet", f"refs/heads/{branch}", cwd=root)
    except CheckError:
        raise CheckError(
            f"{root} has no branch {branch!r}: the check tests what it publishes."
        ) from None
    if git("rev-parse", "--is-shallow-repository", cwd=root).strip() == "true":
        raise CheckError(
            f"{root} is a shallow clone: the pinned commit may be missing from it. "
            "Run `git fetch --unshallow` first."
        )
    git(
        "clone",
        "--quiet",
        "--bare",
        "--no-tags",
        "--single-branch",
        "--branch",
        branch,
        root.as_uri(),
        str(folder),
        cwd=root,
    )
    return folder


def published_file(clone: Path, path: str) -> bytes:
    """``path`` as committed on ``main`` in ``clone``; CheckError when it is not committed."""
    result = subprocess.run(
        ["git", "show", f"{config.GITHUB_BRANCH}:{path}"],
        cwd=clone,
        capture_output=True,
        timeout=60,
        env=_git_env(),
        check=False,
    )
    if result.returncode:
        raise CheckError(f"{path} is not committed on {config.GITHUB_BRANCH}: commit it first.")
    return result.stdout


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
    """Leave the replica as Colab starts it: without the course's helper package."""
    subprocess.run(
        [sys.executable, "-m", "pip", "uninstall", "--quiet", "--yes", PACKAGE],
        env=env,
        cwd=cwd,
        capture_output=True,
        timeout=120,
        check=False,
    )
    probe = "import importlib.util, sys; sys.exit(importlib.util.find_spec('shared') is not None)"
    if subprocess.run([sys.executable, "-c", probe], env=env, cwd=cwd, timeout=60).returncode:
        raise CheckError("`shared` is importable before the setup cell ran: remove it first.")


def installed_commit(env: dict, cwd: Path) -> str | None:
    """The commit pip recorded for the installed helper package; None when it is not installed."""
    probe = (
        "import json, importlib.metadata as m\n"
        "try:\n"
        f"    d = m.distribution('{PACKAGE}')\n"
        "except m.PackageNotFoundError:\n"
        "    raise SystemExit(1)\n"
        "print(json.loads(d.read_text('direct_url.json') or '{}')"
        ".get('vcs_info', {}).get('commit_id', 'not from git'))"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
    )
    return result.stdout.strip() if result.returncode == 0 else None


def pinned_in(notebook_text: str) -> str | None:
    """The ref the setup cell of a notebook installs, read from its committed source."""
    setup = "".join(json.loads(notebook_text)["cells"][1]["source"])
    match = PINNED.search(setup)
    return match.group(1) if match else None


def pip_error(ref: str, env: dict, cwd: Path) -> str:
    """What pip says when asked, in this runtime, for the helper package at ``ref``: its last
    error line, or that it would install (the setup cell then failed for another reason)."""
    wanted = f"{PACKAGE} @ git+https://github.com/{config.GITHUB_SLUG}@{ref}"
    result = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--dry-run", "--no-deps", wanted],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=300,
    )
    if result.returncode == 0:
        return f"pip can install {ref}, so the cell failed for another reason"
    said = [line.strip(" │╰─>") for line in result.stderr.splitlines() if line.strip()]
    errors = [
        line
        for line in said
        if (re.match(r"(error|fatal)\b", line, re.I) or "did not run successfully" in line)
        and "subprocess-exited-with-error" not in line
    ]
    distinct = list(dict.fromkeys(errors))  # pip repeats a subprocess's error once
    return f"pip, asked for {ref}: " + " / ".join(distinct[-2:] or said[-1:])


def run_notebook(name: str, text: bytes, workdir: Path, env: dict, sanitize: Path) -> tuple:
    """Run the committed notebook ``name`` alone in ``workdir``: (passed, seconds, log)."""
    workdir.mkdir(parents=True)
    (workdir / name).write_bytes(text)
    uninstall_helper(env, workdir)
    command = [
        sys.executable,
        "-m",
        "pytest",
        "--nbval-lax",
        "--nbval-current-env",
        f"--nbval-cell-timeout={CELL_TIMEOUT}",
        "--sanitize-with",
        str(sanitize),
        "-p",
        "no:cacheprovider",
        "--rootdir",
        ".",
        "-q",
        name,
    ]
    start = time.perf_counter()
    try:
        result = subprocess.run(
            command,
            cwd=workdir,
            env=env,
            capture_output=True,
            text=True,
            timeout=NOTEBOOK_TIMEOUT,
        )
        log, ran = result.stdout + result.stderr, result.returncode == 0
    except subprocess.TimeoutExpired as err:
        log = f"{err.stdout or ''}\nStopped after {NOTEBOOK_TIMEOUT} s."
        ran = False
    seconds = time.perf_counter() - start
    pinned = pinned_in(text.decode("utf-8"))
    commit = installed_commit(env, workdir)
    if commit is None:
        why = pip_error(pinned, env, workdir) if pinned else "no pin found in the setup cell"
        return False, seconds, log + f"\nThe setup cell did not install {PACKAGE} ({why})."
    if pinned is None or not commit.startswith(pinned):
        return False, seconds, log + f"\nInstalled {PACKAGE} at {commit}, not the pin {pinned}."
    return ran, seconds, log + f"\nThe setup cell installed {PACKAGE} at {commit[:12]}."


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


def check(names: list[str], scratch: Path) -> list[str]:
    """Run the chosen notebooks from a published clone; the names of those that failed."""
    clone = published_clone(scratch / "github" / "force-of-cnn.git")
    head = git("rev-parse", "--short=12", config.GITHUB_BRANCH, cwd=clone).strip()
    print(f"Testing {config.GITHUB_BRANCH} at {head}, cloned with --no-tags --single-branch.")
    sanitize = scratch / "nbval_sanitize.cfg"
    sanitize.write_bytes(published_file(clone, "tests/nbval_sanitize.cfg"))
    texts = {nb: published_file(clone, f"notebooks/{nb}") for nb in names}
    env = colab_environment(scratch, clone)
    failed = []
    for number, (name, text) in enumerate(texts.items(), 1):
        passed, seconds, log = run_notebook(
            name, text, scratch / "content" / Path(name).stem, env, sanitize
        )
        verdict = "passed" if passed else "FAILED"
        how = log.rsplit("\n", 1)[-1]
        print(f"[{number}/{len(texts)}] {name}: {verdict} in {seconds:.0f} s. {how}", flush=True)
        if not passed:
            failed.append(name)
            print(first_failure(log), flush=True)
    uninstall_helper(env, scratch)
    return failed


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("names", nargs="*", help="notebook numbers or names (default: all)")
    args = parser.parse_args(argv)
    try:
        chosen = [catalogue.find(n) for n in args.names] or list(catalogue.NOTEBOOKS)
    except ValueError as err:
        parser.error(str(err))
    names = [nb.file_name for nb in catalogue.NOTEBOOKS if nb in chosen]
    try:
        refuse_other_interpreters()
        print(f"Colab replica: {versions_line()}")
        with tempfile.TemporaryDirectory(prefix="colab-check-") as tmp:
            failed = check(names, Path(tmp))
    except CheckError as err:
        print(f"Colab check not run: {err}", file=sys.stderr)
        return 2
    if failed:
        print(f"Colab check failed: {', '.join(failed)}.")
        return 1
    print(f"Colab check passed: {len(names)} of {len(names)} notebooks.")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
