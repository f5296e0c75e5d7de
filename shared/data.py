"""MNIST from the canonical IDX files: download, verify, cache, parse, split, normalise.

The cache folder is ``$MNIST_DATA_DIR`` (default ``~/.cache/force-of-cnn/mnist``). Files may be
gzipped or raw, directly in that folder or in ``MNIST/raw/`` below it (torchvision's layout).
Every file is checked against the SHA-256 of its uncompressed content before it is used.
"""

from __future__ import annotations

import dataclasses
import gzip
import hashlib
import os
import tempfile
import time
import urllib.request
import zlib
from pathlib import Path

import numpy as np

from . import config

DATA_ENV = "MNIST_DATA_DIR"
DEFAULT_DATA_DIR = Path("~/.cache/force-of-cnn/mnist")

#: name of the uncompressed file -> SHA-256 of its content
CHECKSUMS = {
    "train-images-idx3-ubyte": "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",
    "train-labels-idx1-ubyte": "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5",
    "t10k-images-idx3-ubyte": "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
    "t10k-labels-idx1-ubyte": "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2",
}
FILE_NAMES = tuple(CHECKSUMS)

#: Known-good mirrors of the gzipped files (the original host often refuses downloads).
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

VAL_SIZE = 2000


def data_dir() -> Path:
    """The cache folder: ``$MNIST_DATA_DIR`` if set, else ``~/.cache/force-of-cnn/mnist``."""
    return Path(os.environ.get(DATA_ENV) or DEFAULT_DATA_DIR).expanduser()


# ----------------------------------------------------------------------------- reading files


def find_file(name: str, folder: Path) -> Path | None:
    """The first of ``name``, ``name.gz`` in ``folder`` or ``folder/MNIST/raw`` that exists."""
    for base in (folder, folder / "MNIST" / "raw"):
        for candidate in (base / name, base / f"{name}.gz"):
            if candidate.is_file():
                return candidate
    return None


def read_verified(path: Path, name: str, compressed: bool | None = None) -> bytes:
    """The uncompressed bytes of ``path``, after checking them against the known SHA-256.

    ``compressed`` defaults to whether the file name ends in ``.gz``.
    """
    raw = Path(path).read_bytes()
    if compressed is None:
        compressed = str(path).endswith(".gz")
    if compressed:
        try:
            raw = gzip.decompress(raw)
        except (EOFError, OSError, zlib.error) as err:
            raise RuntimeError(
                f"{path} is not a complete gzip file ({err}); it is truncated or corrupt. "
                "Delete it and load again to download a fresh copy."
            ) from err
    actual = hashlib.sha256(raw).hexdigest()
    expected = CHECKSUMS[name]
    if actual != expected:
        raise RuntimeError(
            f"Checksum mismatch for {path}: expected SHA-256 {expected}, got {actual}. "
            "The file is corrupt or not the canonical MNIST file: delete it and load again "
            "to download a fresh copy."
        )
    return raw


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


def download(
    name: str,
    folder: Path,
    mirrors: tuple[str, ...] = MIRRORS,
    attempts: int = 2,
    timeout: float = 30.0,
    progress: bool = True,
) -> Path:
    """Download ``name.gz`` into ``folder``, trying each mirror ``attempts`` times.

    The file is written to a temporary name, verified, then renamed: a failed or corrupt
    download never leaves anything behind that looks like a good file.
    """
    folder.mkdir(parents=True, exist_ok=True)
    final = folder / f"{name}.gz"
    errors = []
    for mirror in mirrors:
        for attempt in range(1, attempts + 1):
            fd, tmp_name = tempfile.mkstemp(prefix=f".{name}.", suffix=".part", dir=folder)
            tmp = Path(tmp_name)
            try:
                with os.fdopen(fd, "wb") as out:
                    _fetch(mirror + final.name, out, timeout, progress)
                read_verified(tmp, name, compressed=True)
                os.replace(tmp, final)
                return final
            except Exception as err:  # noqa: BLE001 - every failure means: try the next one
                errors.append(f"{mirror}{final.name} (try {attempt}): {err}")
                if attempt < attempts:
                    time.sleep(0.5 * attempt)
            finally:
                tmp.unlink(missing_ok=True)
    raise RuntimeError(
        f"Could not download {name}.gz from any mirror:\n  "
        + "\n  ".join(errors)
        + "\n"
        + _missing_help(folder)
    )


def _fetch(url: str, out, timeout: float, progress: bool) -> None:
    with urllib.request.urlopen(url, timeout=timeout) as response:
        total = int(response.headers.get("Content-Length") or 0) or None
        bar = None
        if progress:
            from tqdm.auto import tqdm

            bar = tqdm(total=total, unit="B", unit_scale=True, desc=url.rsplit("/", 1)[-1])
        try:
            while chunk := response.read(1 << 16):
                out.write(chunk)
                if bar is not None:
                    bar.update(len(chunk))
        finally:
            if bar is not None:
                bar.close()


def _missing_help(folder: Path) -> str:
    files = ", ".join(f"{n}(.gz)" for n in FILE_NAMES)
    return (
        f"MNIST is not in the cache folder {folder} and could not be downloaded. Either connect "
        f"to the internet, or copy the four files {files} into that folder, or point the "
        f"{DATA_ENV} environment variable at a folder that has them."
    )


# ----------------------------------------------------------------------------- loading


def load_mnist(folder: str | Path | None = None, download_missing: bool = True):
    """MNIST as uint8 arrays: ``(train_x, train_y), (test_x, test_y)``.

    Shapes (60000, 28, 28), (60000,), (10000, 28, 28), (10000,). Files missing from the cache
    folder are downloaded (unless ``download_missing=False``); every file is verified.
    """
    folder = Path(folder).expanduser() if folder is not None else data_dir()
    arrays = {}
    for name in FILE_NAMES:
        path = find_file(name, folder)
        if path is None:
            if not download_missing:
                raise RuntimeError(_missing_help(folder))
            path = download(name, folder)
        arrays[name] = parse_idx(read_verified(path, name), EXPECTED_SHAPES[name])
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
