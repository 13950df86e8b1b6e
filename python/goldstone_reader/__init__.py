"""Read goldstone run directories with numpy: run.json, metrics, analyses and checkpoints."""

from .run import Run, load_run

__all__ = ["Run", "load_run"]
__version__ = "0.1.0"
