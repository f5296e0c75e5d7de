"""What ``tools.site`` checks before it builds anything: that every file the site is made of is
there and readable, and that the folders it will empty are its own.

Both raise ``RuntimeError`` with the sentence a user needs, before Sphinx is even imported, so a
missing notebook or a wrong ``--out`` fails in a second instead of after the build.
"""

from __future__ import annotations

import os
from pathlib import Path

from shared import catalogue

from .notebooks import notebook_problem


def text_problem(path: Path) -> str | None:
    """Why the Markdown file ``path`` cannot be read, or None when it can."""
    try:
        path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return f"{path} is missing"
    except (OSError, UnicodeDecodeError) as error:
        return f"{path} cannot be read as UTF-8 text ({error})"
    return None


def check_sources(root: Path, docs: list[str]) -> None:
    """The README, every notebook of the catalogue and the ``docs`` pages (repository paths) are
    there and readable; otherwise one RuntimeError listing each file that is not."""
    problems = [text_problem(root / "README.md"), *(text_problem(root / d) for d in docs)]
    problems += [notebook_problem(root / "notebooks" / nb.file_name) for nb in catalogue.NOTEBOOKS]
    problems = [p for p in problems if p]
    if problems:
        raise RuntimeError(
            "the site is built from these files, and they cannot be used:\n  "
            + "\n  ".join(problems)
            + "\nRestore them (`git checkout -- FILE` brings back the committed version), "
            "then build again."
        )


def check_owned_folder(folder: Path, marker: str, keep: dict[str, Path] | None = None) -> Path:
    """``folder``, resolved, once it is sure that emptying it loses nothing: it does not exist,
    is empty, or holds ``marker`` (left by an earlier build); and it neither is nor holds any
    folder of ``keep`` (a description of each, such as "the course folder", to its path).
    Otherwise a RuntimeError that says why and what to do."""
    folder = folder.expanduser().resolve()
    for label, other in (keep or {}).items():
        other = other.expanduser().resolve()
        if folder == other or folder in other.parents:
            where = label if folder == other else f"{other}, {label}"
            raise RuntimeError(
                f"{folder} is, or holds, {where}, which the build must not delete: choose "
                "another folder (the default is build/site)."
            )
    if folder.exists() and not folder.is_dir():
        raise RuntimeError(f"{folder} is a file, not a folder: choose a folder for the site.")
    if folder.is_dir() and any(folder.iterdir()) and not (folder / marker).is_file():
        raise RuntimeError(
            f"{folder} already holds files that this tool did not write (it has no {marker} "
            "file), and the build empties its folder first. Choose a new or empty folder, "
            "or delete this one yourself if nothing in it is needed."
        )
    existing = next(p for p in (folder, *folder.parents) if p.exists())
    if not existing.is_dir() or not os.access(existing, os.W_OK | os.X_OK):
        raise RuntimeError(f"cannot write into {existing}: choose a folder you can write to.")
    return folder
