"""shared.files: atomic writes, and one clear sentence for every way a write can fail."""

import errno
import os
import stat

import pytest

from shared import files


@pytest.mark.parametrize("mode", [0o644, 0o664, 0o600])
def test_atomic_writes_keep_the_files_permissions(tmp_path, mode):
    path = tmp_path / "README.md"
    path.write_text("old")
    path.chmod(mode)
    files.write_text_atomic(path, "new ×")
    assert path.read_text(encoding="utf-8") == "new ×"
    assert stat.S_IMODE(path.stat().st_mode) == mode


def test_atomic_writes_give_a_new_file_the_umasks_permissions(tmp_path):
    old = os.umask(0o022)
    try:
        path = files.write_atomic(tmp_path / "new.json", b"{}")
    finally:
        os.umask(old)
    assert stat.S_IMODE(path.stat().st_mode) == 0o644


def no_space(*args, **kwargs):
    raise OSError(errno.ENOSPC, "No space left on device")


class FullDisk:
    """A file whose every write fails as on a full disk."""

    open_fd = staticmethod(os.fdopen)  # the real one, before the test replaces it

    def __init__(self, fd, mode):
        self.file = self.open_fd(fd, mode)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.file.close()

    def write(self, content):
        no_space()


@pytest.mark.parametrize("where", ["write", "rename"])
def test_a_full_disk_is_one_sentence_and_the_old_file_stays(tmp_path, monkeypatch, where):
    path = tmp_path / "run.json"
    path.write_text("old")
    if where == "write":
        monkeypatch.setattr(files.os, "fdopen", FullDisk)
    else:
        monkeypatch.setattr(files.os, "replace", no_space)
    with pytest.raises(RuntimeError) as err:
        files.write_text_atomic(path, "new", advice=", or set FORCE_CNN_RESULTS_DIR")
    assert str(err.value) == (
        f"Cannot write {path} (the disk is full): free some space on the disk of {tmp_path}, "
        "or set FORCE_CNN_RESULTS_DIR."
    )
    assert err.value.__cause__ is None and err.value.__suppress_context__
    assert path.read_text() == "old" and [p.name for p in tmp_path.iterdir()] == ["run.json"]


def test_a_folder_in_the_way_is_named(tmp_path):
    (tmp_path / "run.json").mkdir()
    with pytest.raises(RuntimeError) as err:
        files.write_text_atomic(tmp_path / "run.json", "new")
    assert str(err.value) == (
        f"Cannot write {tmp_path / 'run.json'} (a folder of that name is in the way): move the "
        f"folder {tmp_path / 'run.json'} out of the way."
    )


def test_a_file_in_the_way_of_the_folder_is_named(tmp_path):
    (tmp_path / "results").write_text("")
    with pytest.raises(RuntimeError, match=r"\(a file is in the way of a folder on its path\)"):
        files.write_text_atomic(tmp_path / "results" / "run.json", "new")


def test_no_permission_is_named(tmp_path, monkeypatch):
    def refuse(*args, **kwargs):
        raise PermissionError(errno.EACCES, "Permission denied")

    monkeypatch.setattr(files.tempfile, "mkstemp", refuse)
    with pytest.raises(RuntimeError) as err:
        files.write_atomic(tmp_path / "run.json", b"{}")
    assert str(err.value) == (
        f"Cannot write {tmp_path / 'run.json'} (permission denied): make {tmp_path} writable."
    )


def test_check_writable_wants_room_for_the_file(tmp_path, monkeypatch):
    assert files.check_writable(tmp_path / "new", 10) == tmp_path / "new"
    usage = type("Usage", (), {"free": 100})
    monkeypatch.setattr(files.shutil, "disk_usage", lambda folder: usage)
    with pytest.raises(OSError) as err:
        files.check_writable(tmp_path, 1000)
    assert err.value.errno == errno.ENOSPC and files.reason(err.value) == "the disk is full"
    assert list(tmp_path.iterdir()) == [tmp_path / "new"]  # the probe file is gone
