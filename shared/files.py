"""Writing files safely: all or nothing, and one clear sentence when the disk says no.

Every file the course writes (results, measurements, downloads, the README's tables) goes
through ``write_atomic``: the content goes to a temporary file beside the target, which is then
renamed over it, so a reader sees the old file or the new one, never half of one. Whatever the
operating system refuses (a full disk, a folder in the way, no permission) becomes one
``RuntimeError`` that names the file, says what went wrong in words and what to do.
"""

from __future__ import annotations

import errno
import os
import shutil
import stat
import tempfile
from pathlib import Path

#: What each refusal means, in words a learner can act on.
REASONS = {
    errno.ENOSPC: "the disk is full",
    errno.EDQUOT: "the disk quota is used up",
    errno.EACCES: "permission denied",
    errno.EPERM: "permission denied",
    errno.EROFS: "the file system is read-only",
    errno.EISDIR: "a folder of that name is in the way",
    errno.ENOTDIR: "a file is in the way of a folder on its path",
    errno.EEXIST: "a file is in the way of a folder on its path",
}


def reason(err: OSError) -> str:
    """What ``err`` means, in words (``'the disk is full'``), else the system's own."""
    return REASONS.get(err.errno, err.strerror or str(err))


def refusal(path: Path, err: OSError, advice: str = "") -> RuntimeError:
    """The one error for a write to ``path`` that failed with ``err``.

    ``advice`` names another way out, e.g. ``", or set FORCE_CNN_RESULTS_DIR"``.
    """
    why = reason(err)
    if err.errno in (errno.ENOSPC, errno.EDQUOT):
        todo = f"free some space on the disk of {path.parent}"
    elif err.errno == errno.EISDIR:
        todo = f"move the folder {path} out of the way"
    elif err.errno in (errno.ENOTDIR, errno.EEXIST):
        todo = f"move the file on the path to {path.parent} out of the way"
    else:
        todo = f"make {path.parent} writable"
    return RuntimeError(f"Cannot write {path} ({why}): {todo}{advice}.")


def write_atomic(path: str | Path, content: str | bytes, advice: str = "") -> Path:
    """Write ``content`` to a temporary file beside ``path``, then rename it over ``path``.

    The new file keeps the old one's permissions (a new file gets the usual ones for this
    user's umask, e.g. rw-r--r--). Any failure leaves the old file as it was, no temporary
    file behind, and raises the ``RuntimeError`` of ``refusal``; ``advice`` is added to it.
    """
    path = Path(path)
    mode = _file_mode(path)
    tmp = None
    try:
        if path.is_dir():
            raise IsADirectoryError(errno.EISDIR, os.strerror(errno.EISDIR), str(path))
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
        with os.fdopen(fd, "wb") as out:
            out.write(content.encode("utf-8") if isinstance(content, str) else content)
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except OSError as err:
        raise refusal(path, err, advice) from None
    finally:
        if tmp is not None and Path(tmp).exists():
            Path(tmp).unlink(missing_ok=True)
    return path


def write_text_atomic(path: str | Path, text: str, advice: str = "") -> Path:
    """Write ``text`` (UTF-8) to ``path`` atomically: see ``write_atomic``."""
    return write_atomic(path, text, advice)


def check_writable(folder: str | Path, needed_bytes: int = 0) -> Path:
    """Make sure a file of ``needed_bytes`` can be written in ``folder`` (created if missing):
    the folder accepts a new file and its disk has that much space free. Returns the folder;
    raises ``OSError`` with the reason otherwise (callers turn it into their own sentence)."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryFile(dir=folder):
        pass
    free = shutil.disk_usage(folder).free
    if free < needed_bytes:
        raise OSError(errno.ENOSPC, f"{free:,} bytes free, {needed_bytes:,} needed")
    return folder


def _file_mode(path: Path) -> int:
    """The permission bits of ``path``, or those a new file gets under the current umask.
    (A temporary file is created owner-only, so they are set explicitly.)"""
    try:
        return stat.S_IMODE(path.stat().st_mode)
    except OSError:
        umask = os.umask(0)  # reading the umask means setting it; put it straight back
        os.umask(umask)
        return 0o666 & ~umask
