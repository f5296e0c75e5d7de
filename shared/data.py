"""The course's data: MNIST split the course's way, random shifts, normalisation.

``load_splits`` gives the 60,000 training images and the 10,000 test images split once,
stratified and with a fixed seed, into 2,000 validation and 8,000 test images: the same indices
in every notebook and on every machine. The files themselves come from ``shared.mnist``
(download, verify, cache, parse).
"""

from __future__ import annotations

import dataclasses
import hashlib
from pathlib import Path

import numpy as np

from . import config, mnist

VAL_SIZE = 2000


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
    (train_x, train_y), (test_x, test_y) = mnist.load_mnist(folder)
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
