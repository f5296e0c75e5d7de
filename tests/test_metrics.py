"""shared.metrics: per-class accuracy, confusion counts, the bias/variance diagnosis (with and
without the numbers of images behind the errors), softmax and the most confident mistakes."""

import math

import numpy as np
import pytest

from shared import metrics


def test_per_class_accuracy_table():
    y_true = np.array([0, 0, 1, 1, 1, 2])
    y_pred = np.array([0, 1, 1, 1, 1, 0])
    table = metrics.per_class_accuracy(y_true, y_pred)
    assert list(table.columns) == ["images", "correct", "errors", "accuracy %"]
    assert table.loc[0, "accuracy %"] == 50.0 and table.loc[1, "accuracy %"] == 100.0
    assert table.loc[2, "errors"] == 1
    assert np.isnan(table.loc[9, "accuracy %"])  # no images of 9: no accuracy, not 0%


def test_confusion_counts():
    counts = metrics.confusion_counts([0, 1, 1, 9], [0, 1, 2, 9])
    assert counts.sum() == 4 and counts[1, 2] == 1 and counts[9, 9] == 1


@pytest.mark.parametrize(
    "y_true, y_pred, message",
    [
        ([[0, 1]], [0, 1], "1-D"),
        ([0.0, 1.0], [0, 1], "integer"),
        ([0, 10], [0, 1], r"\[0, 9\]"),
        ([0, 1], [0], "equal length"),
        ([], [], "non-empty"),
    ],
)
def test_bad_labels(y_true, y_pred, message):
    with pytest.raises(ValueError, match=message):
        metrics.confusion_counts(y_true, y_pred)


@pytest.mark.parametrize(
    "train, dev, bayes, verdict",
    [
        (0.01, 0.15, 0.0, "high variance"),
        (0.15, 0.16, 0.0, "high bias (underfitting)"),
        (0.15, 0.30, 0.0, "high bias and high variance"),
        (0.15, 0.30, 0.14, "high variance"),
        (0.005, 0.009, 0.0, "good fit"),
    ],
)
def test_diagnose_worked_cases(train, dev, bayes, verdict):
    result = metrics.diagnose(train, dev, bayes)
    assert result.verdict.startswith(verdict)
    assert result.avoidable_bias == pytest.approx(train - bayes)
    assert result.variance == pytest.approx(dev - train)
    assert "verdict" in str(result)


@pytest.mark.parametrize("args", [(1.5, 0.1), (0.1, -0.1), (0.1, 0.2, float("nan")), ("x", 0.1)])
def test_diagnose_rejects_non_fractions(args):
    with pytest.raises(ValueError, match="fraction between 0 and 1"):
        metrics.diagnose(*args)


def test_diagnose_rejects_train_below_bayes():
    with pytest.raises(ValueError, match="Bayes"):
        metrics.diagnose(0.01, 0.02, 0.05)


def test_softmax_and_confident_mistakes():
    logits = np.array([[5.0, 0.0], [0.0, 9.0], [0.0, 1.0], [2.0, 0.0]])
    assert np.allclose(metrics.softmax(logits).sum(axis=1), 1)
    assert metrics.most_confident_mistakes(logits, [0, 0, 0, 1]).tolist() == [1, 3, 2]
    with pytest.raises(ValueError, match="logits"):
        metrics.softmax(np.zeros(3))
    with pytest.raises(ValueError, match="3 labels"):
        metrics.most_confident_mistakes(logits, [0, 0, 0])


def test_epoch_line(make_results):
    row = make_results()["history"][0]
    assert metrics.epoch_line(row, 5) == (
        "epoch 1/5  train loss 0.2000 acc 90.00%  |  val loss 0.1000 acc 97.00%  |  40.0 s"
    )
    with pytest.raises(ValueError, match="missing"):
        metrics.epoch_line({"epoch": 1}, 5)


def test_good_fit_says_which_gap_is_larger():
    assert "variance" in metrics.diagnose(0.002, 0.009).advice
    assert "bias" in metrics.diagnose(0.009, 0.01).advice


# ----------------------------------------------------------------------------- diagnose with counts
# Every backend notebook calls diagnose(train_error=..., dev_error=..., train_images=...,
# dev_images=...): the variance counts as high only above the tolerance AND above two standard
# errors of the dev - training gap, sqrt(p_t (1 - p_t) / n_t + p_d (1 - p_d) / n_d).


def standard_error(train, dev, n_train, n_dev):
    return math.sqrt(train * (1 - train) / n_train + dev * (1 - dev) / n_dev)


def test_the_same_errors_on_many_images_are_variance_and_on_few_are_noise():
    many = metrics.diagnose(0.01, 0.05, train_images=10_000, dev_images=2_000)
    assert many.verdict.startswith("high variance")
    assert many.standard_error == pytest.approx(standard_error(0.01, 0.05, 10_000, 2_000))
    few = metrics.diagnose(0.01, 0.05, train_images=100, dev_images=50)
    assert few.verdict.startswith("good fit")  # a 4-point gap, but 2 standard errors are 6.5
    assert "within two standard errors" in few.advice
    assert metrics.diagnose(0.01, 0.05).verdict.startswith("high variance")  # no counts, no rule


@pytest.mark.parametrize(
    "images, high",
    [(664, False), (1065, False), (1301, True), (1844, True)],  # 1.5, 1.9, 2.1, 2.5 errors
)
def test_the_noise_rule_is_two_standard_errors(images, high):
    """A gap of 1 point between 1% and 2% errors, measured on ``images`` images each: the
    counts are chosen so that the gap is 1.5, 1.9, 2.1 and 2.5 standard errors (and the Bayes
    error is the training error, so that there is no bias to judge)."""
    result = metrics.diagnose(
        0.01, 0.02, bayes_error=0.01, tolerance=0.001, train_images=images, dev_images=images
    )
    ratio = result.variance / standard_error(0.01, 0.02, images, images)
    assert ratio == pytest.approx({664: 1.5, 1065: 1.9, 1301: 2.1, 1844: 2.5}[images], abs=0.01)
    assert result.verdict.startswith("high variance") is high


def test_the_tolerance_still_applies_with_counts():
    """Two standard errors of 0.2 points do not make a 1-point gap high: the tolerance is 2."""
    result = metrics.diagnose(0.01, 0.02, train_images=60_000, dev_images=60_000)
    assert result.variance > 2 * result.standard_error
    assert result.verdict.startswith("good fit")


def test_bias_is_judged_the_same_with_counts():
    result = metrics.diagnose(0.10, 0.101, train_images=10_000, dev_images=2_000)
    assert result.verdict == "high bias (underfitting)"


def test_a_negative_gap_is_called_noise_and_the_counts_are_printed():
    result = metrics.diagnose(0.012, 0.009, train_images=10_000, dev_images=2_000)
    assert result.variance < 0 and result.verdict.startswith("good fit")
    text = str(result)
    assert "The variance is negative" in text
    assert "10,000 training and 2,000 dev images" in text and "±" in text


@pytest.mark.parametrize(
    "counts, message",
    [
        (dict(train_images=10_000), "give both"),
        (dict(dev_images=2_000), "give both"),
        (dict(train_images=0, dev_images=2_000), "positive whole number"),
        (dict(train_images=True, dev_images=2_000), "positive whole number"),
        (dict(train_images=10_000, dev_images=2_000.0), "positive whole number"),
    ],
)
def test_image_counts_are_checked(counts, message):
    with pytest.raises(ValueError, match=message):
        metrics.diagnose(0.01, 0.02, **counts)
