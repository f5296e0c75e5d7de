"""Force of CNN's helper package: what the notebooks import, and nothing else.

A reading map, one line per module (the notebooks that use it in brackets):

- ``catalogue``     the course's notebooks in reading order, with their roles (README syllabus)
- ``config``        the training recipe, fast/full mode, learning-rate schedule, seeds, paths (00)
- ``mnist``         find, verify, download, cache and parse the four MNIST files (00, 01-06)
- ``mirrors``       downloading one file from a list of mirrors, within limits (through mnist)
- ``data``          the course's validation/test split, random shifts, normalisation (00, 01-06)
- ``concepts``      convolution, pooling and the layer table in plain NumPy, tested copies (00)
- ``plots``         every figure the notebooks draw (00, 01-07)
- ``metrics``       per-class accuracy, confusion, bias/variance, softmax, mistakes (00, 01-06)
- ``report``        a backend notebook's own run: saving its results, its measured speed (01-06)
- ``results``       the results file of a full run, its folders, what 07 compares (07)
- ``measurements``  the run-times, bench, levers and ablation files, each read whole (07)
- ``files``         atomic writes, and one clear sentence when the disk refuses one (all writers)
- ``machine``       the machine a measurement was made on (every measurement file)
- ``exercises``     the exercises' checks, hints and solutions, a module per notebook (all)
- ``runtime``       what the setup cell prints: versions, tested ranges, GPU advice (every notebook)

No module imports TensorFlow, Keras or PyTorch: each notebook imports its own framework. The
course's own tools (runner, bench, levers, site) live in ``tools/``, outside this package.
"""

from importlib import metadata

from . import catalogue, config, data, metrics, plots, report, results

__all__ = ["catalogue", "config", "data", "metrics", "plots", "report", "results"]

try:  # the one version source is pyproject.toml; installed packages carry it in their metadata
    __version__ = metadata.version("force-of-cnn")
except metadata.PackageNotFoundError:  # imported from a folder that was never pip-installed
    __version__ = "unknown"
