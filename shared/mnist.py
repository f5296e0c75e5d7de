"""MNIST from the canonical IDX files: find, verify, download, cache and parse them.

The cache folder is ``$MNIST_DATA_DIR`` (default ``~/.cache/force-of-cnn/mnist``); a relative
``$MNIST_DATA_DIR`` is taken relative to the course folder, so ``make run``, ``make test`` and a
notebook opened in Jupyter all mean the same folder. Files may be gzipped or raw, directly in
that folder or in ``MNIST/raw/`` below it (torchvision's layout). Every file is checked against
the SHA-256 of its uncompressed content before it is used; a missing one is downloaded from the
mirrors of ``shared.mirrors``.
"""

from __future__ import annotations

import hashlib
import os
import time
import zlib
from pathlib import Path

import numpy as np

from . import config, files, mirrors

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


def data_dir() -> Path:
    """The cache folder: ``$MNIST_DATA_DIR`` if set, else ``~/.cache/force-of-cnn/mnist``.

    A relative ``$MNIST_DATA_DIR`` is relative to the course folder (``config.project_root``),
    not to the folder a notebook's kernel runs in, which is ``notebooks/``.
    """
    folder = Path(os.environ.get(DATA_ENV) or DEFAULT_DATA_DIR).expanduser()
    if not folder.is_absolute():
        folder = config.project_root() / folder
    return folder


def _check_folder(folder: Path) -> None:
    if folder.exists() and not folder.is_dir():
        raise RuntimeError(
            f"The MNIST cache folder {folder} is a file, not a folder: point {DATA_ENV} at the "
            "folder that holds the four MNIST files (or at an empty one to download them)."
        )


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


def download(
    name: str,
    folder: Path,
    sources: tuple[str, ...] | None = None,
    attempts: int = 2,
    limits: mirrors.Limits | None = None,
    progress: bool = True,
) -> Path:
    """Download ``name.gz`` into ``folder`` from the first mirror that delivers it intact.

    ``sources`` defaults to ``mirrors.mirror_urls()``. A mirror that cannot be reached, answers
    with an error or a web page, or breaks one of the ``limits`` is left at once; a transfer
    that breaks off or arrives damaged, and a server error (HTTP 500, 502, 503, 504), are tried
    ``attempts`` times. Only a verified file is written (atomically), so
    nothing that looks like a good file is ever left behind.
    """
    folder = Path(folder)
    _check_folder(folder)
    limits = limits or mirrors.Limits()
    sources = mirrors.mirror_urls() if sources is None else tuple(sources)
    final = folder / f"{name}.gz"
    failures: list[mirrors.MirrorFailed] = []
    for source in sources:
        url = source + final.name
        for attempt in range(1, attempts + 1):
            try:
                raw = mirrors.fetch(url, SIZES[name], limits, progress)
                problem = problem_with(raw, name, compressed=True)[1]
                if problem:
                    raise mirrors.MirrorFailed(f"the file it sent {problem}", retry=True)
            except mirrors.MirrorFailed as err:
                failures.append(mirrors.MirrorFailed(f"{url} (try {attempt}): {err}", err.reached))
                if not err.retry:
                    break
                if attempt < attempts:
                    time.sleep(0.5 * attempt)
                continue
            files.write_atomic(final, raw, advice=f", or point {DATA_ENV} at another folder")
            return final
    if any(f.reached for f in failures):
        advice = (
            f"The mirrors answered but none delivered the file: try again later, or set "
            f"{mirrors.MIRROR_ENV} to another copy.\n{_missing_help(folder, online=True)}"
        )
    else:
        advice = _missing_help(folder)
    lines = "\n  ".join(str(f) for f in failures) or "no mirror to try"
    raise RuntimeError(f"Could not download {name}.gz:\n  {lines}\n{advice}")


def _missing_help(folder: Path, online: bool = False) -> str:
    names = ", ".join(f"{n}(.gz)" for n in FILE_NAMES)
    first = "Copy" if online else "Either connect to the internet, or copy"
    return (
        f"MNIST is not in the cache folder {folder} and could not be downloaded. {first} the "
        f"four files {names} into that folder, or point the {DATA_ENV} environment variable at "
        f"a folder that has them, or set {mirrors.MIRROR_ENV} to the URL of a folder serving the "
        ".gz files."
    )


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
