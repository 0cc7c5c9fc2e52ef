"""``modelreg import mlflow`` against a real MLflow registry (SQLite), artifacts in a local
folder and in S3; the result is compared field by field with what MLflow's client reads."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from pathlib import Path
from typing import Any

import pytest

from modelreg import Registry
from modelreg.importers.mlflow import model_ids, role_of, slug
from modelreg.manifest import Model, Version
from modelreg.vocabulary import Stage
from tests.artifacts.stores import Store, registry_on
from tests.conftest import RunCli, git, head
from tests.importers.mlflowstore import MlflowStore, make_mlflow

STAGES = {"None": "none", "Staging": "staging", "Production": "production", "Archived": "archived"}


def _setup(
    tmp_path: Path, store: Store, monkeypatch: pytest.MonkeyPatch, empty_db: Path
) -> tuple[Registry, MlflowStore]:
    reg = registry_on(tmp_path / "reg", store)
    reg.delete("churn-xgb")  # registry_on's own model: this registry starts empty
    if store.s3 is not None:
        monkeypatch.setenv("MLFLOW_S3_ENDPOINT_URL", store.s3.endpoint)
        monkeypatch.setenv("AWS_ENDPOINT_URL", store.s3.endpoint)
        bucket = store.s3.new_bucket()
        location = f"s3://{bucket}/mlflow"
    else:
        location = (tmp_path / "mlruns").as_uri()
    return reg, make_mlflow(tmp_path, location, empty_db)


def _read(store: Store, uri: str) -> bytes:
    if uri.startswith("file://"):
        return Path(uri.removeprefix("file://")).read_bytes()
    return store.read(uri)


def _compare(reg: Registry, ml: MlflowStore, store: Store) -> None:
    """Every registered model and version MLflow's client reads back, field by field."""
    client = ml.client
    registered = client.search_registered_models()
    ids = model_ids([rm.name for rm in registered])
    for rm in registered:
        model = reg.get(ids[rm.name])
        assert model.name == rm.name
        assert model.description == (rm.description or "")
        _check_model_extras(model, rm)
        versions = client.search_model_versions(f"name='{rm.name}'")
        assert sorted(v.version for v in model.versions) == sorted(int(v.version) for v in versions)
        for mv in versions:
            v = model.version(int(mv.version))
            assert v is not None
            assert v.description == (mv.description or None)
            assert v.stage.value == STAGES[mv.current_stage]
            assert v.created_at == dt.datetime.fromtimestamp(
                mv.creation_timestamp / 1000, dt.timezone.utc
            )
            run = client.get_run(mv.run_id)
            assert v.metrics == run.data.metrics
            assert v.hyperparameters == run.data.params
            _check_version_extras(v, mv, run)
            location = client.get_model_version_download_uri(rm.name, mv.version)
            for role, artifact in v.artifacts.items():
                data = _read(store, artifact.uri)
                assert artifact.size == len(data)
                assert artifact.sha256 == hashlib.sha256(data).hexdigest()
                assert role == "model" or role in ("mlmodel", "model-pkl")
            names = sorted(a.uri.rsplit("/", 1)[-1] for a in v.artifacts.values())
            listed = sorted(
                f.path.rsplit("/", 1)[-1] for f in client.list_artifacts(mv.run_id, "model")
            )
            assert names == listed, location


def _check_model_extras(model: Model, rm: Any) -> None:
    annotations = model.annotations
    assert annotations["mlflow.org/name"] == rm.name
    assert annotations.get("mlflow.org/tags", {}) == rm.tags
    assert model.labels == rm.tags  # every tag of the test is a valid label too
    assert model.aliases == {a: int(n) for a, n in rm.aliases.items()}


def _check_version_extras(v: Version, mv: Any, run: Any) -> None:
    lineage = v.lineage
    assert lineage is not None and lineage.run is not None and lineage.code is not None
    assert lineage.run.id == mv.run_id and lineage.run.tracker == "mlflow"
    assert lineage.code.commit == run.data.tags["mlflow.source.git.commit"]
    assert lineage.code.repository == run.data.tags["mlflow.source.git.repoURL"]
    assert lineage.code.path == "train.py"
    assert v.annotations.get("mlflow.org/tags", {}) == mv.tags
    assert v.labels == mv.tags
    assert v.annotations["mlflow.org/source"] == mv.source


def test_import_matches_what_mlflow_reads_back_and_is_idempotent(
    tmp_path: Path, store: Store, monkeypatch: pytest.MonkeyPatch, mlflow_db: Path, run_cli: RunCli
) -> None:
    reg, ml = _setup(tmp_path, store, monkeypatch, mlflow_db)
    before = head(reg.root)
    r = run_cli("import", "mlflow", "--tracking-uri", ml.uri, "--dry-run", "--json", cwd=reg.root)
    assert r.code == 0, r.err
    planned = json.loads(r.out)
    assert planned["changes"] == 7  # 2 models, 3 versions, 2 aliases
    assert head(reg.root) == before  # a dry run writes nothing

    r = run_cli("import", "mlflow", "--tracking-uri", ml.uri, "--json")
    assert r.code == 0, r.err
    done = json.loads(r.out)
    assert len(done["commits"]) == 2  # one per model
    churn_id = model_ids(["Churn Model"])["Churn Model"]
    assert done["renamed"] == {"Churn Model": churn_id}
    reg = Registry.open(reg.root)
    assert sorted(m.id for m in reg.models()) == sorted([churn_id, "fraud_detector"])
    churn = reg.get(churn_id)
    assert [v.version for v in churn.versions] == [1, 3]  # MLflow's numbers, gap kept
    assert churn.version(3).stage == Stage.PRODUCTION  # type: ignore[union-attr]
    assert set(churn.version(1).artifacts) == {"mlmodel", "model-pkl"}  # type: ignore[union-attr]
    assert set(churn.version(3).artifacts) == {"model"}  # type: ignore[union-attr]
    _compare(reg, ml, store)
    assert git(reg.root, "fsck", "--strict") == ""

    # a second run changes nothing; a new version in MLflow is the only thing added
    after_first = head(reg.root)
    r = run_cli("import", "mlflow", "--tracking-uri", ml.uri, "--json")
    assert json.loads(r.out)["changes"] == 0 and head(reg.root) == after_first
    ml.client.create_model_version("fraud_detector", churn.version(3).artifacts["model"].uri)  # type: ignore[union-attr]
    r = run_cli("import", "mlflow", "--tracking-uri", ml.uri, "--model", "fraud_detector")
    assert r.code == 0 and "new versions: 2" in r.out
    reg = Registry.open(reg.root)
    assert [v.version for v in reg.get("fraud_detector").versions] == [1, 2]
    assert reg.get(churn_id) == churn

    # an alias moved in modelreg stays; one new in MLflow arrives
    reg.set_alias(f"{churn_id}@1", "champion")
    ml.client.set_registered_model_alias("Churn Model", "shadow", "1")
    r = run_cli("import", "mlflow", "--tracking-uri", ml.uri, "--json")
    assert json.loads(r.out)["changes"] == 1
    aliases = Registry.open(reg.root).get(churn_id).aliases
    assert aliases == {"champion": 1, "previous": 1, "shadow": 1}


def test_one_commit_no_hash_and_copy(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, mlflow_db: Path, run_cli: RunCli
) -> None:
    store = Store("file", (tmp_path / "store").as_uri())
    reg, ml = _setup(tmp_path, store, monkeypatch, mlflow_db)
    before = int(git(reg.root, "rev-list", "--count", "HEAD"))
    r = run_cli(
        "import", "mlflow", "--tracking-uri", ml.uri, "--one-commit", "--no-hash", cwd=reg.root
    )
    assert r.code == 0, r.err
    assert int(git(reg.root, "rev-list", "--count", "HEAD")) == before + 1
    reg = Registry.open(reg.root)
    artifacts = [a for m in reg.models() for v in m.versions for a in v.artifacts.values()]
    assert artifacts and all(a.sha256 is None and a.size for a in artifacts)

    other = registry_on(tmp_path / "copy", Store("file", (tmp_path / "copies").as_uri()))
    other.delete("churn-xgb")
    r = run_cli("import", "mlflow", "--tracking-uri", ml.uri, "--copy-artifacts", cwd=other.root)
    assert r.code == 0, r.err
    other = Registry.open(other.root)
    copied = [a for m in other.models() for v in m.versions for a in v.artifacts.values()]
    copies = (tmp_path / "copies").as_uri()
    assert copied and all(a.uri.startswith(copies) and a.sha256 for a in copied)
    _compare(other, ml, Store("file", copies))


def test_since_and_unknown_model(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, mlflow_db: Path, run_cli: RunCli
) -> None:
    store = Store("file", (tmp_path / "store").as_uri())
    reg, ml = _setup(tmp_path, store, monkeypatch, mlflow_db)
    r = run_cli(
        "import",
        "mlflow",
        "--tracking-uri",
        ml.uri,
        "--since",
        "2100-01-01",
        "--json",
        cwd=reg.root,
    )
    assert r.code == 0, r.err
    data = json.loads(r.out)
    assert all(m["add_versions"] == [] for m in data["models"])  # models only, no versions
    r = run_cli("import", "mlflow", "--tracking-uri", ml.uri, "--model", "nope")
    assert r.code == 4 and "MLflow has no registered model 'nope'" in r.err


def test_ids_are_deterministic_and_reported() -> None:
    assert slug("Churn Model") == "churn-model"
    assert slug("prod/Fraud__v2!") == "prod-fraud__v2"
    ids = model_ids(["churn", "Churn", "fraud_detector", "???"])  # "Churn" meets "churn"
    assert ids["churn"] == "churn" and ids["fraud_detector"] == "fraud_detector"
    digest = hashlib.sha256(b"Churn").hexdigest()[:8]
    assert ids["Churn"] == f"churn-{digest}"
    assert ids["???"].startswith("model-")
    # an id does not depend on which other names exist
    assert model_ids(["Churn"])["Churn"] == ids["Churn"]
    assert role_of("MLmodel", set()) == "mlmodel"
    assert role_of("data/model.pkl", {"data-model-pkl"}) == "data-model-pkl-2"


def test_several_production_versions_and_bad_alias_are_reported(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, mlflow_db: Path, run_cli: RunCli
) -> None:
    store = Store("file", (tmp_path / "store").as_uri())
    reg, ml = _setup(tmp_path, store, monkeypatch, mlflow_db)
    ml.stage("Churn Model", 1, "Production")  # MLflow lets two versions be in Production
    ml.client.set_registered_model_alias("Churn Model", "Best", "1")
    r = run_cli("import", "mlflow", "--tracking-uri", ml.uri, cwd=reg.root)
    assert r.code == 0, r.err
    assert "alias 'Best' is not a valid modelreg alias" in r.err
    churn = Registry.open(reg.root).get(model_ids(["Churn Model"])["Churn Model"])
    assert [(v.version, v.stage.value) for v in churn.versions] == [(1, "none"), (3, "production")]
    assert churn.aliases == {"champion": 3, "previous": 1}
