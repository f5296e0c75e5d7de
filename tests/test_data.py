import contextlib
import gzip
import io
import shutil
import time
import urllib.error

import numpy as np
import pytest

from shared import config, data, files, mirrors, mnist

TRAIN_IMAGES = "train-images-idx3-ubyte"
TEST_LABELS = "t10k-labels-idx1-ubyte"


def gz_bytes(mnist_dir, name):
    return gzip.compress(mnist.read_verified(mnist.find_file(name, mnist_dir), name))


def test_load_mnist_shapes_dtypes_and_speed(mnist_dir):
    start = time.perf_counter()
    (train_x, train_y), (test_x, test_y) = mnist.load_mnist(mnist_dir, download_missing=False)
    elapsed = time.perf_counter() - start
    assert train_x.shape == (60000, 28, 28) and train_y.shape == (60000,)
    assert test_x.shape == (10000, 28, 28) and test_y.shape == (10000,)
    assert {a.dtype for a in (train_x, train_y, test_x, test_y)} == {np.dtype(np.uint8)}
    assert set(np.unique(train_y)) == set(range(10))
    assert train_x.max() == 255
    assert elapsed < 2.0, f"loading MNIST from the cache took {elapsed:.2f} s"


def test_default_folder_comes_from_environment(monkeypatch, tmp_path):
    monkeypatch.setenv(mnist.DATA_ENV, str(tmp_path))
    assert mnist.data_dir() == tmp_path
    monkeypatch.delenv(mnist.DATA_ENV)
    assert mnist.data_dir() == mnist.DEFAULT_DATA_DIR.expanduser()


def test_accepts_raw_files_and_torchvision_layout(mnist_dir, tmp_path):
    raw_folder = tmp_path / "MNIST" / "raw"
    raw_folder.mkdir(parents=True)
    for name in mnist.FILE_NAMES:
        (raw_folder / name).write_bytes(mnist.read_verified(mnist.find_file(name, mnist_dir), name))
    (_, train_y), (_, test_y) = mnist.load_mnist(tmp_path, download_missing=False)
    assert len(train_y) == 60000 and len(test_y) == 10000


def test_checksum_mismatch_names_file_and_sums(tmp_path, mnist_dir):
    bad = tmp_path / TEST_LABELS
    good = mnist.read_verified(mnist.find_file(TEST_LABELS, mnist_dir), TEST_LABELS)
    bad.write_bytes(good[:-1] + bytes([good[-1] ^ 1]))
    with pytest.raises(RuntimeError) as err:
        mnist.read_verified(bad, TEST_LABELS)
    message = str(err.value)
    assert str(bad) in message and mnist.CHECKSUMS[TEST_LABELS] in message
    assert "delete it" in message.lower()


def test_truncated_gzip_is_rejected(tmp_path, mnist_dir):
    payload = gz_bytes(mnist_dir, TEST_LABELS)
    truncated = tmp_path / f"{TEST_LABELS}.gz"
    truncated.write_bytes(payload[: len(payload) // 2])
    with pytest.raises(RuntimeError, match="truncated or corrupt"):
        mnist.read_verified(truncated, TEST_LABELS)


@pytest.mark.parametrize(
    "raw, message",
    [
        (b"", "magic number missing"),
        (b"\x00\x00\x0d\x01" + (3).to_bytes(4, "big") + b"abc", "magic number 00000d01"),
        (b"\x00\x00\x08\x01" + (3).to_bytes(4, "big") + b"ab", "body holds 2 bytes"),
        (b"\x00\x00\x08\x03" + (1).to_bytes(4, "big"), "header is truncated"),
    ],
)
def test_parse_idx_rejects_bad_files(raw, message):
    with pytest.raises(ValueError, match=message):
        mnist.parse_idx(raw)


def test_parse_idx_checks_expected_dimensions():
    raw = b"\x00\x00\x08\x01" + (3).to_bytes(4, "big") + b"\x01\x02\x03"
    assert mnist.parse_idx(raw).tolist() == [1, 2, 3]
    with pytest.raises(ValueError, match=r"dimensions are \(3,\), expected \(4,\)"):
        mnist.parse_idx(raw, (4,))


class FakeResponse(io.BytesIO):
    def __init__(self, payload):
        super().__init__(payload)
        self.headers = {"Content-Length": str(len(payload))}

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


def fake_urlopen(responses, calls):
    """urlopen that answers each call with the next item: bytes, or an exception to raise."""

    def urlopen(url, timeout):
        calls.append(url)
        item = responses.pop(0)
        if isinstance(item, Exception):
            raise item
        return FakeResponse(item)

    return urlopen


def test_no_network_and_no_cache_gives_one_clear_error(monkeypatch, tmp_path):
    calls = []
    offline = [urllib.error.URLError("no route to host")] * 8
    monkeypatch.setattr(mirrors.urllib.request, "urlopen", fake_urlopen(offline, calls))
    monkeypatch.setattr(mnist.time, "sleep", lambda s: None)
    with pytest.raises(RuntimeError) as err:
        mnist.load_mnist(tmp_path / "cache")
    message = str(err.value)
    assert mnist.DATA_ENV in message and str(tmp_path / "cache") in message
    assert all(name in message for name in mnist.FILE_NAMES)
    assert len(calls) == len(mirrors.MIRRORS)  # every mirror asked; an unreachable one only once
    assert "connect to the internet" in message
    assert not (tmp_path / "cache").exists()  # nothing half-written left behind


def test_missing_files_without_download_names_variable(tmp_path):
    with pytest.raises(RuntimeError, match=mnist.DATA_ENV):
        mnist.load_mnist(tmp_path, download_missing=False)


def test_download_retries_then_writes_verified_file(monkeypatch, tmp_path, mnist_dir):
    good = gz_bytes(mnist_dir, TEST_LABELS)
    calls = []
    responses = [urllib.error.URLError("timeout"), good[:100], good]
    monkeypatch.setattr(mirrors.urllib.request, "urlopen", fake_urlopen(responses, calls))
    monkeypatch.setattr(mnist.time, "sleep", lambda s: None)
    path = mnist.download(TEST_LABELS, tmp_path, progress=True)
    assert path == tmp_path / f"{TEST_LABELS}.gz"
    assert [p.name for p in tmp_path.iterdir()] == [path.name]
    assert calls[0].startswith(mirrors.MIRRORS[0]) and calls[2].startswith(mirrors.MIRRORS[1])
    assert mnist.parse_idx(mnist.read_verified(path, TEST_LABELS)).shape == (10000,)


def test_corrupt_download_leaves_nothing(monkeypatch, tmp_path):
    wrong = gzip.compress(b"\x00\x00\x08\x01" + (1).to_bytes(4, "big") + b"\x07")
    monkeypatch.setattr(mirrors.urllib.request, "urlopen", fake_urlopen([wrong] * 4, []))
    monkeypatch.setattr(mnist.time, "sleep", lambda s: None)
    with pytest.raises(RuntimeError, match="the file it sent has the wrong checksum"):
        mnist.download(TEST_LABELS, tmp_path, progress=False)
    assert list(tmp_path.iterdir()) == []


def test_load_downloads_only_missing_files(monkeypatch, tmp_path, mnist_dir):
    for name in mnist.FILE_NAMES:
        if name != TEST_LABELS:
            shutil.copy(mnist.find_file(name, mnist_dir), tmp_path)
    calls = []
    good = gz_bytes(mnist_dir, TEST_LABELS)
    monkeypatch.setattr(mirrors.urllib.request, "urlopen", fake_urlopen([good], calls))
    (_, _), (_, test_y) = mnist.load_mnist(tmp_path)
    assert len(calls) == 1 and calls[0].endswith(f"{TEST_LABELS}.gz")
    assert test_y.shape == (10000,)


# ----------------------------------------------------------------------------- the split


@pytest.fixture(scope="module")
def test_labels(mnist_dir):
    return mnist.load_mnist(mnist_dir, download_missing=False)[1][1]


def test_split_sizes_disjoint_and_complete(test_labels):
    val_idx, test_idx = data.split_val_test(test_labels)
    assert len(val_idx) == 2000 and len(test_idx) == 8000
    assert not set(val_idx) & set(test_idx)
    assert np.array_equal(np.sort(np.concatenate([val_idx, test_idx])), np.arange(10000))


def test_split_is_stratified(test_labels):
    val_idx, test_idx = data.split_val_test(test_labels)
    overall = np.bincount(test_labels, minlength=10) / len(test_labels)
    for part in (val_idx, test_idx):
        share = np.bincount(test_labels[part], minlength=10) / len(part)
        assert np.abs(share - overall).max() < 1 / len(val_idx)


def test_split_is_deterministic_and_pinned(test_labels):
    first = data.split_val_test(test_labels)
    second = data.split_val_test(test_labels.copy())
    assert all(np.array_equal(a, b) for a, b in zip(first, second, strict=True))
    # The same indices on every machine: a change here changes every result in the course.
    assert data.indices_fingerprint(first[0]) == VAL_FINGERPRINT
    other_seed = data.split_val_test(test_labels, seed=config.SEED + 1)[0]
    assert not np.array_equal(other_seed, first[0])


VAL_FINGERPRINT = "9a2d36ce217570305dba6a55f452a7073a52049fd24f6925637cbc872762864b"


@pytest.mark.parametrize(
    "labels, val_size, message",
    [
        (np.zeros((2, 2), int), 1, "1-D"),
        (np.array([0.5, 1.5]), 1, "integers"),
        (np.arange(10), 0, "between 1 and 9"),
        (np.arange(10), 10, "between 1 and 9"),
    ],
)
def test_split_rejects_bad_input(labels, val_size, message):
    with pytest.raises(ValueError, match=message):
        data.split_val_test(labels, val_size)


def test_load_splits_and_summary(mnist_dir):
    splits = data.load_splits(train_limit=1000, folder=mnist_dir)
    assert splits.train_x.shape == (1000, 28, 28)
    assert splits.val_x.shape == (2000, 28, 28) and splits.test_x.shape == (8000, 28, 28)
    assert "validation" in splits.summary()
    info = splits.split_info()
    assert info["train_size"] == 1000 and info["val_indices_sha256"] == VAL_FINGERPRINT
    with pytest.raises(ValueError, match="train_limit"):
        data.load_splits(train_limit=0, folder=mnist_dir)


def test_normalize(mnist_dir):
    train_x = mnist.load_mnist(mnist_dir, download_missing=False)[0][0]
    nhwc = data.normalize(train_x[:5000])
    assert nhwc.shape == (5000, 28, 28, 1) and nhwc.dtype == np.float32
    assert abs(float(data.normalize(train_x).mean())) < 0.01
    assert data.normalize(train_x[:3], channels_last=False).shape == (3, 1, 28, 28)
    with pytest.raises(ValueError, match="uint8"):
        data.normalize(train_x[:3].astype(np.float32))


def test_random_shift_moves_each_image_by_a_bounded_offset():
    image = np.zeros((5, 9, 9), np.uint8)
    image[:, 4, 4] = 200
    shifted = data.random_shift(image, 2, np.random.default_rng(1))
    assert shifted.shape == image.shape and shifted.dtype == np.uint8
    for moved in shifted:
        (row,), (col,) = np.nonzero(moved)
        assert abs(row - 4) <= 2 and abs(col - 4) <= 2 and moved[row, col] == 200
    offsets = {
        tuple(np.argwhere(m)[0])
        for m in data.random_shift(np.repeat(image, 40, 0), 2, np.random.default_rng(2))
    }
    assert len(offsets) == 25  # every offset in [-2, 2] x [-2, 2] turns up


def test_random_shift_is_repeatable_and_validates():
    images = np.arange(2 * 4 * 4, dtype=np.uint8).reshape(2, 4, 4)
    first = data.random_shift(images, 1, np.random.default_rng(0))
    assert np.array_equal(first, data.random_shift(images, 1, np.random.default_rng(0)))
    assert np.array_equal(data.random_shift(images, 0, np.random.default_rng(0)), images)
    with pytest.raises(ValueError, match="uint8"):
        data.random_shift(images.astype(float), 1, np.random.default_rng(0))
    with pytest.raises(ValueError, match="max_shift"):
        data.random_shift(images, 4, np.random.default_rng(0))


# ----------------------------------------------------------------------------- mirrors and limits


def test_mirrors_are_read_when_a_download_starts(monkeypatch, tmp_path, mnist_dir):
    calls = []
    good = gz_bytes(mnist_dir, TEST_LABELS)
    monkeypatch.setattr(mirrors.urllib.request, "urlopen", fake_urlopen([good, good], calls))
    monkeypatch.setattr(mirrors, "MIRRORS", ("https://institution.example/mnist/",))
    mnist.download(TEST_LABELS, tmp_path, progress=False)
    assert calls == [f"https://institution.example/mnist/{TEST_LABELS}.gz"]
    monkeypatch.setenv(mirrors.MIRROR_ENV, "http://own.example/copy")  # a slash is added
    assert mirrors.mirror_urls() == (
        "http://own.example/copy/",
        "https://institution.example/mnist/",
    )
    mnist.download(TEST_LABELS, tmp_path, progress=False)
    assert calls[-1] == f"http://own.example/copy/{TEST_LABELS}.gz"


def test_relative_data_dir_means_the_course_folder(monkeypatch, tmp_path):
    from .conftest import ROOT

    monkeypatch.setenv(mnist.DATA_ENV, "build/mnist")
    monkeypatch.chdir(ROOT / "notebooks")  # where a notebook's kernel runs
    assert mnist.data_dir() == ROOT / "build" / "mnist"
    monkeypatch.chdir(tmp_path)  # outside the course: the working folder
    assert mnist.data_dir() == tmp_path.resolve() / "build" / "mnist"


def test_data_dir_that_is_a_file_is_named(monkeypatch, tmp_path):
    not_a_folder = tmp_path / "mnist.tar"
    not_a_folder.write_text("x")
    monkeypatch.setenv(mnist.DATA_ENV, str(not_a_folder))
    with pytest.raises(RuntimeError, match=r"mnist.tar is a file, not a folder: point MNIST_DATA"):
        mnist.load_mnist()


def test_unreadable_file_is_named(monkeypatch, tmp_path, mnist_dir):
    path = tmp_path / f"{TEST_LABELS}.gz"
    path.write_bytes(gz_bytes(mnist_dir, TEST_LABELS))
    original = mnist.Path.read_bytes

    def read_bytes(self):
        if self == path:
            raise PermissionError(13, "Permission denied", str(self))
        return original(self)

    monkeypatch.setattr(mnist.Path, "read_bytes", read_bytes)
    with pytest.raises(RuntimeError, match="Cannot read .*: permission denied. Make it readable"):
        mnist.read_verified(path, TEST_LABELS)


def test_read_only_cache_is_named(monkeypatch, tmp_path, mnist_dir):

    def refuse(*args, **kwargs):
        raise PermissionError(13, "Permission denied")

    good = gz_bytes(mnist_dir, TEST_LABELS)
    monkeypatch.setattr(mirrors.urllib.request, "urlopen", fake_urlopen([good], []))
    monkeypatch.setattr(files.tempfile, "mkstemp", refuse)
    with pytest.raises(RuntimeError) as err:
        mnist.download(TEST_LABELS, tmp_path, progress=False)
    message = str(err.value)
    assert message.startswith(f"Cannot write {tmp_path / TEST_LABELS}.gz (permission denied)")
    assert f"make {tmp_path} writable, or point {mnist.DATA_ENV} at another folder" in message


def test_damaged_raw_file_does_not_hide_an_intact_gz(tmp_path, mnist_dir, capsys):
    for name in mnist.FILE_NAMES:
        shutil.copy(mnist.find_file(name, mnist_dir), tmp_path / f"{name}.gz")
    (tmp_path / TEST_LABELS).write_bytes(b"\x00" * mnist.SIZES[TEST_LABELS])
    (_, _), (_, test_y) = mnist.load_mnist(tmp_path, download_missing=False)
    assert test_y.shape == (10000,)
    assert f"Checksum mismatch for {tmp_path / TEST_LABELS}" in capsys.readouterr().out


def test_gzip_bomb_in_the_cache_is_refused_with_bounded_memory(tmp_path):
    import tracemalloc

    bomb = tmp_path / f"{TEST_LABELS}.gz"
    bomb.write_bytes(gzip.compress(bytes(5_000_000)))  # 5 KB that inflate to 5 MB
    tracemalloc.start()
    try:
        with pytest.raises(RuntimeError, match="decompresses to more than 10,008 bytes"):
            mnist.read_verified(bomb, TEST_LABELS)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 1_000_000, f"decompressing used {peak:,} bytes"


class Mirror:
    """A web server on 127.0.0.1 for download tests. The first folder of a path says how it
    answers: ``good`` serves the real files, the others misbehave as their names say."""

    def __init__(self, files: dict[str, bytes]):
        import http.server
        import threading

        mirror = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):
                mode, _, name = self.path.strip("/").partition("/")
                with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                    getattr(mirror, mode)(self, name)

        self.files = files
        self.hiccups, self.hiccup_status = {}, 503
        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @staticmethod
    def send(handler, body: bytes, status=200, kind="application/gzip", length=None):
        handler.send_response(status)
        handler.send_header("Content-Type", kind)
        handler.send_header("Content-Length", str(len(body) if length is None else length))
        handler.end_headers()
        handler.wfile.write(body)

    def good(self, handler, name):
        if name not in self.files:
            return self.send(handler, b"not found", 404, "text/plain")
        self.send(handler, self.files[name])

    def corrupt(self, handler, name):
        self.send(handler, gzip.compress(b"\x00\x00\x08\x01" + (1).to_bytes(4, "big") + b"\x07"))

    def error(self, handler, name):
        self.send(handler, b"Internal Server Error", 500, "text/plain")

    def hiccup(self, handler, name):  # the first request of each file fails, as a busy server
        self.hiccups[name] = self.hiccups.get(name, 0) + 1
        if self.hiccups[name] == 1:
            return self.send(handler, b"Service Unavailable", self.hiccup_status, "text/plain")
        self.good(handler, name)

    def html(self, handler, name):
        self.send(handler, b"<html><body>Please log in</body></html>", 200, "text/html")

    def bomb(self, handler, name):
        self.send(handler, gzip.compress(bytes(1_000_000)))

    def trickle(self, handler, name):  # one byte every 50 ms, forever
        self.send(handler, b"", length=1_000)
        while True:
            handler.wfile.write(b"\x1f")
            handler.wfile.flush()
            time.sleep(0.05)

    def endless(self, handler, name):  # as fast as it goes, with no length announced
        handler.send_response(200)
        handler.send_header("Content-Type", "application/gzip")
        handler.end_headers()
        while True:
            handler.wfile.write(bytes(1 << 16))

    def steady(self, handler, name):  # 100 bytes every 20 ms: never stalls, never ends
        handler.send_response(200)
        handler.send_header("Content-Type", "application/gzip")
        handler.end_headers()
        while True:
            handler.wfile.write(bytes(100))
            handler.wfile.flush()
            time.sleep(0.02)

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(scope="module")
def mirror(mnist_dir):
    files = {f"{TEST_LABELS}.gz": gz_bytes(mnist_dir, TEST_LABELS)}
    server = Mirror(files)
    yield server
    server.close()


def fails_with(mirror_urls, *expected, **options):
    """Download the test labels from ``mirror_urls`` into a fresh folder; the error message."""
    import tempfile

    with tempfile.TemporaryDirectory() as folder:
        with pytest.raises(RuntimeError) as err:
            mnist.download(TEST_LABELS, mnist.Path(folder), sources=mirror_urls, **options)
        assert list(mnist.Path(folder).iterdir()) == [], "nothing is left behind"
    message = str(err.value)
    for text in expected:
        assert text in message, message
    return message


@pytest.mark.parametrize(
    "mode, expected, limits",
    [
        ("trickle", "it stalled: ", dict(stall_seconds=0.3, stall_bytes=100)),
        ("steady", "it took longer than 0.5 s", dict(deadline=0.5)),
        ("endless", "it sent more than 10,008 bytes, more than the file can be", {}),
        ("bomb", "decompresses to more than 10,008 bytes", {}),
    ],
)
def test_misbehaving_mirror_is_left_quickly(mirror, mode, expected, limits):
    start = time.perf_counter()
    limits = mirrors.Limits(**limits)
    message = fails_with((f"{mirror.url}/{mode}/",), expected, progress=False, limits=limits)
    assert time.perf_counter() - start < 5
    assert "(try 2)" not in message or mode == "bomb"  # only a damaged file is tried again


def test_dead_mirrors_are_reported_within_seconds():
    import socket

    refused = socket.socket()
    refused.bind(("127.0.0.1", 0))
    port = refused.getsockname()[1]
    refused.close()  # nothing listens there any more
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen()  # accepts the connection, never answers
    start = time.perf_counter()
    try:
        message = fails_with(
            (f"http://127.0.0.1:{port}/", f"http://127.0.0.1:{silent.getsockname()[1]}/"),
            "could not connect",
            "connect to the internet",
            limits=mirrors.Limits(timeout=0.5),
            progress=False,
        )
    finally:
        silent.close()
    assert time.perf_counter() - start < 3
    assert message.count("could not connect") == 2 and "(try 2)" not in message


def test_server_errors_and_web_pages_are_not_called_offline(mirror):
    message = fails_with(
        (f"{mirror.url}/error/", f"{mirror.url}/html/"),
        "the server answered HTTP 500",
        "it sent a web page (HTML)",
        "The mirrors answered but none delivered the file",
        mirrors.MIRROR_ENV,
        progress=False,
    )
    assert "connect to the internet" not in message


def test_damaged_download_is_reported_without_a_temp_file(mirror):
    message = fails_with((f"{mirror.url}/corrupt/",), "the file it sent has the wrong checksum")
    assert ".part" not in message and "Delete it" not in message


def test_environment_mirror_serves_a_shared_cache_readable_by_all(monkeypatch, mirror, tmp_path):
    import os
    import stat

    monkeypatch.setenv(mirrors.MIRROR_ENV, f"{mirror.url}/good/")
    monkeypatch.setattr(mirrors, "MIRRORS", ("http://127.0.0.1:9/",))  # never reached
    old = os.umask(0o022)
    try:
        path = mnist.download(TEST_LABELS, tmp_path, progress=False)
    finally:
        os.umask(old)
    assert stat.S_IMODE(path.stat().st_mode) == 0o644, "others may read a shared cache"


def test_progress_is_plain_text(mirror, tmp_path, capsys):
    mnist.download(TEST_LABELS, tmp_path, sources=(f"{mirror.url}/good/",))
    out = capsys.readouterr().out
    assert out.startswith(f"downloading {TEST_LABELS}.gz (4.5 kB) from 127.0.0.1:")
    assert " 25% 50% 75% done, 4.5 kB in " in out and out.count("\n") == 1


@pytest.mark.kernel
def test_progress_in_a_notebook_kernel_needs_no_widgets_and_shows_no_path(mirror, tmp_path):
    """In a Jupyter kernel tqdm.auto wants ipywidgets and, without them, stored a warning
    with a site-packages path in the notebook."""
    import nbformat
    from nbclient import NotebookClient

    from .test_notebooks import MACHINE_PATHS

    code = (
        "from pathlib import Path\nfrom shared import mnist\n"
        f"mnist.download({TEST_LABELS!r}, Path({str(tmp_path)!r}), "
        f"sources=({mirror.url + '/good/'!r},))\nNone"
    )
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(code)])
    NotebookClient(nb, timeout=60, kernel_name="python3").execute()
    outputs = nb.cells[0].outputs
    text = "".join(o.get("text", "") for o in outputs)
    assert "done, 4.5 kB" in text
    assert {o["name"] for o in outputs} == {"stdout"}, "nothing on stderr"
    assert not MACHINE_PATHS.search(text) and "IProgress" not in text


@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_one_server_error_is_tried_again(mirror, tmp_path, monkeypatch, status):
    """Issue: a single HTTP 500/502/503 from a mirror failed the download."""
    monkeypatch.setattr(mnist.time, "sleep", lambda seconds: None)
    mirror.hiccups, mirror.hiccup_status = {}, status
    path = mnist.download(TEST_LABELS, tmp_path, sources=(f"{mirror.url}/hiccup/",), progress=False)
    assert mirror.hiccups == {f"{TEST_LABELS}.gz": 2}
    assert mnist.parse_idx(mnist.read_verified(path, TEST_LABELS)).shape == (10000,)


def test_a_missing_file_is_not_asked_for_twice(mirror):
    message = fails_with((f"{mirror.url}/good/nothing-",), "HTTP 404", progress=False)
    assert "(try 2)" not in message


def test_a_server_that_keeps_failing_is_left_after_the_tries(mirror, monkeypatch):
    monkeypatch.setattr(mnist.time, "sleep", lambda seconds: None)
    message = fails_with((f"{mirror.url}/error/",), "(try 1)", "(try 2)", progress=False)
    assert "(try 3)" not in message
