"""scikit-learn (and anything else saved with joblib): ``joblib.load``.

joblib unpickles: only the sha256 check against a reviewed manifest stands
between the bytes and the code they may run (see :mod:`modelreg.loaders`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any


class SklearnLoader:
    name = "sklearn"
    description = "scikit-learn estimators and pipelines saved with joblib.dump"
    frameworks = ("sklearn",)

    def load(self, path: Path) -> Any:
        import joblib

        return joblib.load(path)
