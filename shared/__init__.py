"""Force of CNN's helper package: data, configuration, reports and plots for every notebook.

Importing it never imports TensorFlow or PyTorch; each backend notebook imports its own.
"""

from . import config, data, plots, report

__all__ = ["config", "data", "plots", "report"]
__version__ = "1.0.0"
