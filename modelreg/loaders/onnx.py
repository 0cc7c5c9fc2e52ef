"""ONNX models: an ONNX Runtime inference session (CPU unless told otherwise).

An ONNX file is a graph of operators, not code: loading it runs nothing of its author's.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any


class OnnxLoader:
    name = "onnx"
    description = "ONNX graphs, as an onnxruntime.InferenceSession"
    frameworks = ("onnx",)

    def __init__(self, providers: Sequence[str] = ("CPUExecutionProvider",)) -> None:
        self.providers = list(providers)

    def load(self, path: Path) -> Any:
        import onnxruntime

        return onnxruntime.InferenceSession(str(path), providers=self.providers)
