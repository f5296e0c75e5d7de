"""MNIST from the canonical IDX files: download, verify, cache, parse, split, normalise.

The cache folder is ``$MNIST_DATA_DIR`` (default ``~/.cache/force-of-cnn/mnist``); a relative
``$MNIST_DATA_DIR`` is taken relative to the course folder, so ``make run``, ``make test`` and a
notebook opened in Jupyter all mean the same folder. Files may be gzipped or raw, directly in
that folder or in ``MNIST/raw/`` below it (torchvision's layout). Every file is checked against
the SHA-256 of its uncompressed content before it is used.

Downloads come from ``$MNIST_MIRROR`` first when it is set (your institution's own copy), then
from ``MIRRORS``. A download gives up on a mirror that cannot be reached, is too slow (see
``Limits``) or sends more than the file can be, and tries the next one at once.
"""

from __future__ import annotations

import dataclasses
import hashlib
import http.client
import os
import time
import urllib.error
import urllib.parse
import urllib.request
import zlib
from pathlib import Path

import numpy as np

from . import config, report

DATA_ENV = "MNIST_DATA_DIR"
MIRROR_ENV = "MNIST_MIRROR"
DEFAULT_DATA_DIR = Path("~/.cache/force-of-cnn/mnist")

#: name of the uncompressed file -> SHA-256 of its content
CHECKSUMS = {
    "train-images-idx3-ubyte": "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",
    "train-labels-idx1-ubyte": "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5",
    "t10k-images-idx3-ubyte": "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
    "t10k-labels-idx1-ubyte": "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2",
}
FILE_NAMES = tuple(CHECKSUMS)

#: Known-good mirrors of the gzipped files (the original host often refuses downloads). Read
#: when a download starts, so changing this tuple takes effect at once.
MIRRORS = (
    "https://ossci-datasets.s3.amazonaws.com/mnist/",
    "https://storage.googleapis.com/cvdf-datasets/mnist/",
)

#: The shapes each file must have.
EXPECTED_SHAPES = {
    "train-images-idx3-ubyte": (60000, 28, 28),
    "train-labels-idx1-ubyte": (60000,),
    "t10k-images-idx3-ubyte": (10000, 28, 28),
    "t10k-labels-idx1-ubyte": (10000,),
}

#: The size of each uncompressed file in bytes: a 4-byte magic number, 4 bytes per dimension,
#: then one byte per value. A gzipped copy is smaller; anything larger is not MNIST.
SIZES = {name: 4 + 4 * len(shape) + int(np.prod(shape)) for name, shape in EXPECTED_SHAPES.items()}

VAL_SIZE = 2000


def data_dir() -> Path:
    """The cache folder: ``$MNIST_DATA_DIR`` if set, else ``~/.cache/force-of-cnn/mnist``.

    A relative ``$MNIST_DATA_DIR`` is relative to the course folder (``config.project_root``),
    not to the folder a notebook's kernel runs in, which is ``notebooks/``.
    """
    folder = Path(os.environ.get(DATA_ENV) or DEFAULT_DATA_DIR).expanduser()
    if not folder.is_absolute():
        folder = config.project_root() / folder
    return folder


def mirror_urls() -> tuple[str, ...]:
    """Where downloads come from, in order: ``$MNIST_MIRROR`` first when set, then
    ``MIRRORS``. Each is a URL of a folder that holds the four ``.gz`` files."""
    own = os.environ.get(MIRROR_ENV, "").strip()
    if not own:
        return tuple(MIRRORS)
    own = own if own.endswith("/") else own + "/"
    return (own, *(m for m in MIRRORS if m != own))


def _check_folder(folder: Path) -> None:
    if folder.exists() and not folder.is_dir():
        raise RuntimeError(
            f"The MNIST cache folder {folder} is a file, not a folder: point {DATA_ENV} at the "
            "folder that holds the four MNIST files (or at an empty one to download them)."
        )


# ----------------------------------------------------------------------------- reading files


def candidates(name: str, folder: Path) -> list[Path]:
    """Every copy of ``name`` that exists: raw, then gzipped, in ``folder`` then in
    ``folder/MNIST/raw``. The first one that passes its checksum is used."""
    found = []
    for base in (folder, folder / "MNIST" / "raw"):
        for candidate in (base / name, base / f"{name}.gz"):
            if candidate.is_file():
                found.append(candidate)
    return found


def find_file(name: str, folder: Path) -> Path | None:
    """The first of ``name``, ``name.gz`` in ``folder`` or ``folder/MNIST/raw`` that exists."""
    found = candidates(name, folder)
    return found[0] if found else None


def gunzip(raw: bytes, limit: int) -> bytes:
    """Decompress gzipped bytes, refusing to produce more than ``limit`` bytes: a small file
    that inflates to gigabytes (a "gzip bomb") is stopped after ``limit`` of them."""
    inflater = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)  # 16+: expect a gzip header
    try:
        content = inflater.decompress(raw, limit + 1)
    except zlib.error as err:
        raise ValueError(f"is not a gzip file ({err})") from None
    if len(content) > limit:
        raise ValueError(f"decompresses to more than {limit:,} bytes, so it is not MNIST")
    if not inflater.eof:
        raise ValueError("is not a complete gzip file: it is truncated or corrupt")
    return content


def problem_with(raw: bytes, name: str, compressed: bool) -> tuple[bytes, str | None]:
    """The uncompressed content of one copy of file ``name``, and what is wrong with it (None
    when its SHA-256 is the canonical one)."""
    if compressed:
        try:
            raw = gunzip(raw, SIZES[name])
        except ValueError as err:
            return raw, str(err)
    actual = hashlib.sha256(raw).hexdigest()
    if actual != CHECKSUMS[name]:
        return raw, (
            f"has the wrong checksum (expected SHA-256 {CHECKSUMS[name]}, got {actual}), so it "
            "is corrupt or not the canonical MNIST file"
        )
    return raw, None


def read_verified(path: Path, name: str, compressed: bool | None = None) -> bytes:
    """The uncompressed bytes of ``path``, after checking them against the known SHA-256.

    ``compressed`` defaults to whether the file name ends in ``.gz``.
    """
    path = Path(path)
    if compressed is None:
        compressed = path.name.endswith(".gz")
    try:
        size = path.stat().st_size
        if size > SIZES[name] + (SIZES[name] // 100 if compressed else 0):
            raise RuntimeError(
                f"{path} holds {size:,} bytes, more than the {SIZES[name]:,} of the MNIST file "
                f"{name}: delete it and load again to download a fresh copy."
            )
        raw = path.read_bytes()
    except PermissionError:
        raise RuntimeError(
            f"Cannot read {path}: permission denied. Make it readable (chmod a+r) or ask the "
            f"folder's owner to, or point {DATA_ENV} at a folder of your own."
        ) from None
    except OSError as err:
        raise RuntimeError(
            f"Cannot read {path} ({err.strerror or err}): delete it and load again to download "
            "a fresh copy."
        ) from None
    content, problem = problem_with(raw, name, compressed)
    if problem:
        if "checksum" in problem:
            problem = f"Checksum mismatch for {path}: it {problem}"
        else:
            problem = f"{path} {problem}"
        raise RuntimeError(f"{problem}. Delete it and load again to download a fresh copy.")
    return content


def parse_idx(raw: bytes, expected_shape: tuple[int, ...] | None = None) -> np.ndarray:
    """Parse an IDX file of unsigned bytes (magic 0x00000801 or 0x00000803) into a uint8 array."""
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] != 0x08:
        raise ValueError(
            f"Not an IDX file of unsigned bytes: magic number {raw[:4].hex() or 'missing'}, "
            "expected 00000801 (labels) or 00000803 (images)."
        )
    ndim = raw[3]
    header = 4 + 4 * ndim
    if ndim == 0 or len(raw) < header:
        raise ValueError(f"IDX header is truncated or names {ndim} dimensions.")
    shape = tuple(int.from_bytes(raw[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim))
    if expected_shape is not None and shape != tuple(expected_shape):
        raise ValueError(f"IDX dimensions are {shape}, expected {tuple(expected_shape)}.")
    size = int(np.prod(shape))
    if len(raw) - header != size:
        raise ValueError(
            f"IDX body holds {len(raw) - header} bytes but the header's dimensions {shape} "
            f"need {size}."
        )
    return np.frombuffer(raw, dtype=np.uint8, offset=header).reshape(shape).copy()


# ----------------------------------------------------------------------------- downloading


@dataclasses.dataclass(frozen=True)
class Limits:
    """When a download gives up on a mirror and tries the next one."""

    timeout: float = 10.0  # seconds to connect, and the longest silence while receiving
    deadline: float = 600.0  # seconds for the whole file
    stall_seconds: float = 30.0  # a mirror must send at least stall_bytes ...
    stall_bytes: int = 64 * 1024  # ... in every stall_seconds


class MirrorFailed(Exception):
    """One try at one mirror failed. ``reached``: the server answered (so the internet works);
    ``retry``: a second try might succeed (the transfer broke off or arrived damaged)."""

    def __init__(self, message: str, reached: bool = True, retry: bool = False):
        super().__init__(message)
        self.reached, self.retry = reached, retry


def download(
    name: str,
    folder: Path,
    mirrors: tuple[str, ...] | None = None,
    attempts: int = 2,
    limits: Limits = Limits(),
    progress: bool = True,
) -> Path:
    """Download ``name.gz`` into ``folder`` from the first mirror that delivers it intact.

    ``mirrors`` defaults to ``mirror_urls()``. A mirror that cannot be reached, answers with an
    error or a web page, or breaks one of the ``limits`` is left at once; a transfer that breaks
    off or arrives
    damaged is tried ``attempts`` times. Only a verified file is written (atomically), so
    nothing that looks like a good file is ever left behind.
    """
    folder = Path(folder)
    _check_folder(folder)
    sources = mirror_urls() if mirrors is None else tuple(mirrors)
    final = folder / f"{name}.gz"
    failures: list[MirrorFailed] = []
    for mirror in sources:
        url = mirror + final.name
        for attempt in range(1, attempts + 1):
            try:
                raw = _fetch(url, name, limits, progress)
                problem = problem_with(raw, name, compressed=True)[1]
                if problem:
                    raise MirrorFailed(f"the file it sent {problem}", retry=True)
            except MirrorFailed as err:
                failures.append(MirrorFailed(f"{url} (try {attempt}): {err}", err.reached))
                if not err.retry:
                    break
                if attempt < attempts:
                    time.sleep(0.5 * attempt)
                continue
            report.write_atomic(final, raw, advice=f", or point {DATA_ENV} at another folder")
            return final
    if any(f.reached for f in failures):
        advice = (
            f"The mirrors answered but none delivered the file: try again later, or set "
            f"{MIRROR_ENV} to another copy.\n{_missing_help(folder, online=True)}"
        )
    else:
        advice = _missing_help(folder)
    lines = "\n  ".join(str(f) for f in failures) or "no mirror to try"
    raise RuntimeError(f"Could not download {name}.gz:\n  {lines}\n{advice}")


def _fetch(url: str, name: str, limits: Limits, progress: bool) -> bytes:
    """The bytes at ``url``, or MirrorFailed saying why not."""
    limit = SIZES[name]  # a gzipped file is always smaller than the raw one
    start = time.monotonic()
    try:
        response = urllib.request.urlopen(url, timeout=limits.timeout)
    except urllib.error.HTTPError as err:
        raise MirrorFailed(f"the server answered HTTP {err.code} ({err.reason})") from None
    except (urllib.error.URLError, OSError, ValueError) as err:
        reason = getattr(err, "reason", err)
        raise MirrorFailed(f"could not connect ({reason})", reached=False) from None
    with response:
        if "html" in (response.headers.get("Content-Type") or ""):
            raise MirrorFailed(_WEB_PAGE)
        announced = int(response.headers.get("Content-Length") or 0)
        if announced > limit:
            raise MirrorFailed(f"it announced {announced:,} bytes, more than {name} can be")
        bar = _Progress(url, announced) if progress else None
        try:
            raw = _receive(response, limit, limits, start, bar)
        finally:
            if bar:
                bar.close(time.monotonic() - start)
    if announced and len(raw) < announced:
        raise MirrorFailed(f"it sent {len(raw):,} of {announced:,} bytes", retry=True)
    if raw.lstrip()[:1] == b"<":
        raise MirrorFailed(_WEB_PAGE)
    return raw


def _receive(response, limit: int, limits: Limits, start: float, bar) -> bytes:
    """The body of ``response``, read as it arrives: at most ``limit`` bytes, within
    ``limits``."""
    chunks, received = [], 0
    window_start, window_bytes = start, 0
    while True:
        try:
            chunk = response.read1(1 << 16)  # whatever has arrived, at most 64 KiB
        except TimeoutError:
            raise MirrorFailed(f"it sent nothing for {limits.timeout:g} s") from None
        except (OSError, http.client.HTTPException) as err:
            raise MirrorFailed(f"the transfer broke off ({err})", retry=True) from None
        if not chunk:
            break
        chunks.append(chunk)
        received += len(chunk)
        window_bytes += len(chunk)
        now = time.monotonic()
        if received > limit:
            raise MirrorFailed(f"it sent more than {limit:,} bytes, more than the file can be")
        if now - start > limits.deadline:
            raise MirrorFailed(f"it took longer than {limits.deadline:g} s ({received:,} bytes)")
        if now - window_start >= limits.stall_seconds:
            if window_bytes < limits.stall_bytes:
                raise MirrorFailed(
                    f"it stalled: {window_bytes:,} bytes in {now - window_start:.0f} s"
                )
            window_start, window_bytes = now, 0
        if bar:
            bar.update(received)
    return b"".join(chunks)


_WEB_PAGE = (
    "it sent a web page (HTML), not the gzip file: perhaps the login page of a proxy or a "
    "Wi-Fi network"
)


class _Progress:
    """Download progress as plain text on one line: ``25% 50% 75% 100%``. It looks the same in
    a terminal, a notebook and a log file, and needs no widget library."""

    def __init__(self, url: str, total: int):
        parts = urllib.parse.urlsplit(url)
        where = parts.netloc or "a local folder"
        size = f" ({_size(total)})" if total else ""
        print(f"downloading {parts.path.rsplit('/', 1)[-1]}{size} from {where}:", end="")
        self.total, self.shown, self.received = total, 0, 0

    def update(self, received: int) -> None:
        self.received = received
        if self.total:
            while self.shown < 75 and 100 * received >= (self.shown + 25) * self.total:
                self.shown += 25
                print(f" {self.shown}%", end="", flush=True)

    def close(self, seconds: float) -> None:
        done = "done" if not self.total or self.received >= self.total else "stopped"
        print(f" {done}, {_size(self.received)} in {seconds:.1f} s", flush=True)


def _size(count: int) -> str:
    return f"{count / 1e6:.1f} MB" if count >= 100_000 else f"{count / 1e3:.1f} kB"


def _missing_help(folder: Path, online: bool = False) -> str:
    files = ", ".join(f"{n}(.gz)" for n in FILE_NAMES)
    first = "Copy" if online else "Either connect to the internet, or copy"
    return (
        f"MNIST is not in the cache folder {folder} and could not be downloaded. {first} the "
        f"four files {files} into that folder, or point the {DATA_ENV} environment variable at "
        f"a folder that has them, or set {MIRROR_ENV} to the URL of a folder serving the .gz "
        "files."
    )


# ----------------------------------------------------------------------------- loading


def load_mnist(folder: str | Path | None = None, download_missing: bool = True):
    """MNIST as uint8 arrays: ``(train_x, train_y), (test_x, test_y)``.

    Shapes (60000, 28, 28), (60000,), (10000, 28, 28), (10000,). Files missing from the cache
    folder are downloaded (unless ``download_missing=False``); every file is verified. Of
    several copies of a file (raw and gzipped, say), the first intact one is used.
    """
    folder = Path(folder).expanduser() if folder is not None else data_dir()
    _check_folder(folder)
    arrays = {}
    for name in FILE_NAMES:
        content, damaged = None, []
        for path in candidates(name, folder):
            try:
                content = read_verified(path, name)
                break
            except RuntimeError as err:
                damaged.append(err)
        if content is None and damaged:
            raise damaged[0]
        if content is None and not download_missing:
            raise RuntimeError(_missing_help(folder))
        if content is None:
            content = read_verified(download(name, folder), name)
        for err in damaged:  # an intact copy was found after a damaged one
            print(f"Ignored a damaged copy of {name} and used an intact one. {err}")
        arrays[name] = parse_idx(content, EXPECTED_SHAPES[name])
    return (
        (arrays["train-images-idx3-ubyte"], arrays["train-labels-idx1-ubyte"]),
        (arrays["t10k-images-idx3-ubyte"], arrays["t10k-labels-idx1-ubyte"]),
    )


def split_val_test(
    labels: np.ndarray, val_size: int = VAL_SIZE, seed: int = config.SEED
) -> tuple[np.ndarray, np.ndarray]:
    """Split indices of ``labels`` into a stratified validation set and a test set.

    Each class gives the validation set its share of ``val_size`` (largest remainders round),
    drawn with a fixed seed: the same indices on every call and every machine. Both index
    arrays are sorted.
    """
    labels = np.asarray(labels)
    if labels.ndim != 1 or labels.size == 0:
        raise ValueError(f"labels must be a non-empty 1-D array, got shape {labels.shape}.")
    if not np.issubdtype(labels.dtype, np.integer):
        raise ValueError(f"labels must be integers, got dtype {labels.dtype}.")
    if not 0 < val_size < labels.size:
        raise ValueError(f"val_size must be between 1 and {labels.size - 1}, got {val_size}.")
    classes, counts = np.unique(labels, return_counts=True)
    exact = counts * val_size / labels.size
    per_class = np.floor(exact).astype(int)
    short = val_size - per_class.sum()
    per_class[np.argsort(-(exact - per_class), kind="stable")[:short]] += 1

    rng = np.random.default_rng(seed)
    val_parts = []
    for cls, take in zip(classes, per_class, strict=True):
        members = np.flatnonzero(labels == cls)
        val_parts.append(rng.permutation(members)[:take])
    val_idx = np.sort(np.concatenate(val_parts))
    test_idx = np.setdiff1d(np.arange(labels.size), val_idx)
    return val_idx, test_idx


def indices_fingerprint(indices: np.ndarray) -> str:
    """SHA-256 of the indices as int64: a short way to show two runs used the same split."""
    return hashlib.sha256(np.asarray(indices, dtype=np.int64).tobytes()).hexdigest()


@dataclasses.dataclass
class Splits:
    """The course's data: training images, and the test file split into validation and test."""

    train_x: np.ndarray
    train_y: np.ndarray
    val_x: np.ndarray
    val_y: np.ndarray
    test_x: np.ndarray
    test_y: np.ndarray
    val_indices: np.ndarray
    test_indices: np.ndarray

    def summary(self) -> str:
        rows = [
            ("train", self.train_x, self.train_y),
            ("validation", self.val_x, self.val_y),
            ("test", self.test_x, self.test_y),
        ]
        return "\n".join(
            f"{name:<10} images {str(x.shape):<16} labels {str(y.shape):<9} {x.dtype}"
            for name, x, y in rows
        )

    def split_info(self) -> dict:
        """What results files record so the comparison can check every run used one split."""
        return {
            "train_size": int(len(self.train_y)),
            "val_size": int(len(self.val_y)),
            "test_size": int(len(self.test_y)),
            "val_indices_sha256": indices_fingerprint(self.val_indices),
            "test_indices_sha256": indices_fingerprint(self.test_indices),
        }


def load_splits(train_limit: int | None = None, folder: str | Path | None = None) -> Splits:
    """MNIST split the course's way: 60,000 train, 2,000 validation, 8,000 test.

    ``train_limit`` keeps only the first N training images (fast mode).
    """
    (train_x, train_y), (test_x, test_y) = load_mnist(folder)
    if train_limit is not None:
        if not 0 < train_limit <= len(train_y):
            raise ValueError(
                f"train_limit must be between 1 and {len(train_y)}, got {train_limit}."
            )
        train_x, train_y = train_x[:train_limit], train_y[:train_limit]
    val_idx, test_idx = split_val_test(test_y)
    return Splits(
        train_x,
        train_y,
        test_x[val_idx],
        test_y[val_idx],
        test_x[test_idx],
        test_y[test_idx],
        val_idx,
        test_idx,
    )


def random_shift(images: np.ndarray, max_shift: int, rng: np.random.Generator) -> np.ndarray:
    """Each image moved by its own random whole-pixel offset in [-max_shift, max_shift] along
    both axes, the uncovered border filled with background (0). A new draw every call: the
    training set looks slightly different every epoch, which makes memorising it harder."""
    images = np.asarray(images)
    if images.ndim != 3 or images.dtype != np.uint8:
        raise ValueError(
            f"random_shift expects uint8 images (N, H, W), got {images.dtype} {images.shape}."
        )
    if not isinstance(max_shift, int) or not 0 <= max_shift < min(images.shape[1:]):
        raise ValueError(
            f"max_shift must be a whole number of pixels from 0 to "
            f"{min(images.shape[1:]) - 1}, got {max_shift!r}."
        )
    if max_shift == 0:
        return images.copy()
    count, height, width = images.shape
    padded = np.pad(images, ((0, 0), (max_shift, max_shift), (max_shift, max_shift)))
    dy, dx = rng.integers(0, 2 * max_shift + 1, size=(2, count))
    rows = dy[:, None, None] + np.arange(height)[None, :, None]
    cols = dx[:, None, None] + np.arange(width)[None, None, :]
    return padded[np.arange(count)[:, None, None], rows, cols]


def normalize(
    images: np.ndarray, recipe: config.Recipe = config.FULL_RECIPE, channels_last: bool = True
) -> np.ndarray:
    """uint8 images (N, 28, 28) -> float32 (N, 28, 28, 1) or (N, 1, 28, 28), zero mean, unit std.

    Uses the training set's pixel mean and standard deviation from the recipe.
    """
    images = np.asarray(images)
    if images.ndim != 3 or images.dtype != np.uint8:
        raise ValueError(
            f"normalize expects uint8 images of shape (N, height, width), got {images.dtype} "
            f"{images.shape}."
        )
    scaled = (images.astype(np.float32) / 255.0 - recipe.pixel_mean) / recipe.pixel_std
    return scaled[..., None] if channels_last else scaled[:, None]
