"""Checks that see the learner's computation: features cut from a trained model must give that
model's logits when the rest of the network (its dense layers, given to the check as NumPy
arrays by the notebook) is applied to them in NumPy."""

from __future__ import annotations

import numpy as np

from .answers import Refusal, finite_array, sequence


def dense_stack(weights) -> list[tuple[np.ndarray, np.ndarray]]:
    """Pairs (kernel of shape (inputs, outputs), bias) from a flat list kernel, bias, ..."""
    arrays = [np.asarray(w, dtype=float) for w in weights]
    return list(zip(arrays[::2], arrays[1::2], strict=True))


def apply_dense(features: np.ndarray, stack) -> np.ndarray:
    x = features.reshape(len(features), -1)
    for i, (kernel, bias) in enumerate(stack):
        x = x @ kernel + bias
        if i < len(stack) - 1:
            x = np.maximum(x, 0)  # ReLU between the dense layers, none after the last
    return x


def features_off(answer, stack, feature_shape, images: int, where: str) -> str | None:
    """``answer`` = (features, logits) of ``images`` images; ``None`` when the dense layers
    in ``stack`` turn those features into those logits."""
    if stack is None:
        raise Refusal(
            "this check needs the trained model's dense weights: run the cell that makes q1, q2, "
            "... again, after training"
        )
    what = "a pair, (features, logits), as NumPy arrays"
    items = sequence(answer, what)
    if len(items) != 2:
        raise Refusal(f"expected {what}, got {len(items)} values")
    features = finite_array(items[0], "the features")
    logits = finite_array(items[1], "the logits")
    if features.shape[1:] != tuple(feature_shape) or len(features) != images:
        return (
            f"the features have shape {features.shape}; {where} gives {images} rows of "
            f"{' × '.join(map(str, feature_shape))} for {images} images"
        )
    if logits.shape != (images, 10):
        return f"the logits have shape {logits.shape}, not ({images}, 10)"
    if not np.abs(logits).max() > 0:
        return "the logits are all 0: take them from the trained model"
    from_features = apply_dense(features, stack)
    off = np.abs(from_features - logits).max()
    if off > 1e-3 * max(1.0, np.abs(logits).max()):
        return (
            f"the dense layers turn your features into logits that differ from yours by up to "
            f"{off:.3g}: the features must come from the same model, the same images in the "
            "same order, dropout off, and be laid out as the flatten layer reads them"
        )
    return None
