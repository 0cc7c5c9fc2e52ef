"""``modelreg.load``: built-in loaders (scikit-learn through joblib, ONNX Runtime) on small
real models made here, and loaders as plugins of the group ``modelreg.loaders``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

import modelreg
from modelreg import LoaderError, NotFoundError, Registry
from modelreg.loaders import installed_loaders
from tests.artifacts.stores import Store, registry_on


def _data() -> tuple[Any, Any]:
    import numpy as np

    rng = np.random.default_rng(7)
    x = rng.normal(size=(60, 4)).astype(np.float32)
    y = (x[:, 0] + 0.5 * x[:, 1] > 0).astype(np.int64)
    return x, y


def _fitted() -> Any:
    from sklearn.linear_model import LogisticRegression

    x, y = _data()
    return LogisticRegression().fit(x, y)


def _registry(tmp_path: Path, model_id: str, framework: str) -> Registry:
    reg = registry_on(tmp_path / "reg", Store("file", (tmp_path / "store").as_uri()))
    reg.create_model(model_id, name=model_id, framework=framework)
    return reg


def test_sklearn_model_saved_with_joblib_loads_and_predicts(tmp_path: Path) -> None:
    import joblib

    clf = _fitted()
    path = tmp_path / "clf.joblib"
    joblib.dump(clf, path)
    reg = _registry(tmp_path, "churn-sk", "sklearn")
    reg.register_version("churn-sk", artifacts={"model": path}, stage="production")
    loaded = modelreg.load("churn-sk@production", reg)
    x, _ = _data()
    assert type(loaded) is type(clf)
    assert (loaded.predict(x) == clf.predict(x)).all()
    assert (loaded.coef_ == clf.coef_).all()


def test_onnx_model_loads_as_an_inference_session(tmp_path: Path) -> None:
    from skl2onnx import to_onnx

    clf = _fitted()
    x, _ = _data()
    path = tmp_path / "clf.onnx"
    path.write_bytes(to_onnx(clf, x[:1], target_opset=17).SerializeToString())
    reg = _registry(tmp_path, "churn-onnx", "onnx")
    reg.register_version("churn-onnx", artifacts={"model": path})
    session = modelreg.load("churn-onnx@1", reg)
    (label, *_) = session.run(None, {session.get_inputs()[0].name: x})
    assert (label == clf.predict(x)).all()


def test_loader_named_by_the_caller_and_errors(tmp_path: Path) -> None:
    import joblib

    path = tmp_path / "clf.joblib"
    joblib.dump(_fitted(), path)
    reg = _registry(tmp_path, "custom-model", "custom")
    reg.register_version("custom-model", artifacts={"model": path})
    with pytest.raises(NotFoundError, match="no loader serves framework 'custom'"):
        modelreg.load("custom-model@1", reg)
    assert modelreg.load("custom-model@1", reg, loader="sklearn").predict(_data()[0]).shape == (60,)
    with pytest.raises(NotFoundError, match="no loader 'pickle' is installed"):
        modelreg.load("custom-model@1", reg, loader="pickle")
    with pytest.raises(LoaderError, match=r"loader 'onnx' could not load .*clf\.joblib"):
        modelreg.load("custom-model@1", reg, loader="onnx")


def test_built_in_loaders_come_through_the_entry_point_group() -> None:
    found = {i.name: i for i in installed_loaders()}
    assert found["sklearn"].entry_point == "modelreg.loaders.sklearn:SklearnLoader"
    assert found["onnx"].frameworks == ("onnx",)
    assert all(i.error is None for i in found.values())


def test_a_plugin_loader_is_found_through_the_group(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    plugin = tmp_path / "plugin"
    (plugin / "textloader.py").parent.mkdir()
    (plugin / "textloader.py").write_text(
        "class TextLoader:\n"
        "    name = 'text'\n"
        "    description = 'plain text'\n"
        "    frameworks = ('custom',)\n"
        "    def load(self, path):\n"
        "        return path.read_text().upper()\n"
    )
    info = plugin / "textloader-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: textloader\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text("[modelreg.loaders]\ntext = textloader:TextLoader\n")
    monkeypatch.syspath_prepend(str(plugin))
    src = tmp_path / "hello.txt"
    src.write_text("hello")
    reg = _registry(tmp_path, "greeter", "custom")
    reg.register_version("greeter", artifacts={"model": src})
    assert modelreg.load("greeter@1", reg) == "HELLO"
