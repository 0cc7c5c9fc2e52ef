"""modelreg beside MLflow's model registry (SQLite, in-process client), same workload, one run.

    pip install -e '.[bench]'        # MLflow (skinny) with SQLAlchemy and Alembic
    python benchmarks/peers.py [--models 200] [--versions 10]

The workload of issue 17: MODELS models, then VERSIONS versions each registered
round robin (one commit, or one database transaction, per version); one model's
history in process and as a fresh process; the bytes on disk; listing every
model as a fresh process; promoting every model to production. modelreg
registers versions with metrics and no artifact; MLflow with a source URI and
no run (neither uploads anything). Both run on this machine in the same run, so
the ratio in the last column holds even where the machine is busy (its
absolute figures then are not).
"""

from __future__ import annotations

import argparse
import logging
import os
import subprocess
import sys
import tempfile
import warnings
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from core_bench import MODELREG
from generate import GIT_ENV
from history_bench import best, settle, timed

from modelreg import Registry

os.environ.update(GIT_ENV)


def disk(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def row(name: str, ours: str, theirs: str, ratio: str, note: str = "") -> None:
    print(f"  {name:<40} {ours:>12} {theirs:>12} {ratio:>8}   {note}", flush=True)


def ratio(ours: float, theirs: float, higher_is_better: bool = False) -> str:
    if higher_is_better:
        ours, theirs = theirs, ours
    return f"{ours / theirs:.2f}x" if theirs else "-"


def mib(n: int) -> str:
    return f"{n / 2**20:.1f} MiB"


# -------------------------------------------------------------------- MLflow

MLFLOW_HISTORY = """
import logging, sys
logging.disable(logging.WARNING)
from mlflow import MlflowClient
c = MlflowClient(tracking_uri=sys.argv[1], registry_uri=sys.argv[1])
c.search_model_versions("name='" + sys.argv[2] + "'")
"""

MLFLOW_LIST = """
import logging, sys
logging.disable(logging.WARNING)
from mlflow import MlflowClient
c = MlflowClient(tracking_uri=sys.argv[1], registry_uri=sys.argv[1])
token = None
while True:
    page = c.search_registered_models(max_results=1000, page_token=token)
    token = page.token
    if not token:
        break
"""


class MlflowSide:
    def __init__(self, folder: Path) -> None:
        logging.disable(logging.WARNING)  # MLflow logs every migration step
        warnings.simplefilter("ignore")  # stages are deprecated in MLflow 3
        from mlflow import MlflowClient

        folder.mkdir()
        self.folder = folder
        self.db = folder / "mlflow.db"
        self.uri = f"sqlite:///{self.db}"
        self.client = MlflowClient(tracking_uri=self.uri, registry_uri=self.uri)
        self.client.search_registered_models(max_results=1)  # creates the schema

    def create(self, name: str) -> None:
        self.client.create_registered_model(name)

    def register(self, name: str, n: int) -> None:
        self.client.create_model_version(name, source=f"file:///models/{name}/{n}")

    def history(self, name: str) -> None:
        self.client.search_model_versions(f"name='{name}'")

    def promote(self, name: str, version: int) -> None:
        self.client.transition_model_version_stage(name, str(version), "Production")

    def history_cold(self, name: str) -> float:
        return best([sys.executable, "-c", MLFLOW_HISTORY, self.uri, name], self.folder, runs=3)

    def list_cold(self) -> float:
        return best([sys.executable, "-c", MLFLOW_LIST, self.uri], self.folder, runs=3)


# ------------------------------------------------------------------ modelreg


class ModelregSide:
    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.reg = Registry.init(folder)

    def create(self, name: str) -> None:
        self.reg.create_model(name, name=name, framework="sklearn")

    def register(self, name: str, n: int) -> None:
        self.reg.register_version(name, metrics={"accuracy": 0.5 + n / 1000})

    def history(self, name: str) -> None:
        self.reg.history(name)

    def promote(self, name: str, version: int) -> None:
        self.reg.set_stage(name, version, "production")

    def history_cold(self, name: str) -> float:
        return best([*MODELREG, "history", name, "--json"], self.folder, runs=3)

    def list_cold(self) -> float:
        return best([*MODELREG, "list", "--json", "--limit", "1000000"], self.folder, runs=3)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", type=int, default=200)
    parser.add_argument("--versions", type=int, default=10)
    args = parser.parse_args()
    try:
        import mlflow
    except ImportError:
        sys.exit("MLflow is missing: pip install -e '.[bench]'")
    models, versions = args.models, args.versions
    names = [f"model-{i:05d}" for i in range(models)]
    with tempfile.TemporaryDirectory(prefix="modelreg-peers-") as tmp:
        ours = ModelregSide(Path(tmp) / "registry")
        theirs = MlflowSide(Path(tmp) / "mlflow")
        print(
            f"\n{models:,} models x {versions} versions, round robin, one commit or "
            f"transaction per version (MLflow {mlflow.__version__}, SQLite)"
        )
        row("", "modelreg", "MLflow", "ratio", "(ratio: modelreg's cost / MLflow's)")
        sides = (ours, theirs)
        created = [timed(lambda s=s: [s.create(n) for n in names]) for s in sides]
        row(
            f"create {models:,} models",
            f"{models / created[0]:.0f} /s",
            f"{models / created[1]:.0f} /s",
            ratio(*created),
        )
        total = models * versions

        def register_all(side: ModelregSide | MlflowSide) -> None:
            for v in range(1, versions + 1):
                for name in names:
                    side.register(name, v)

        spent = [timed(lambda s=s: register_all(s)) for s in sides]
        row(
            f"register {total:,} versions",
            f"{total / spent[0]:.0f} /s",
            f"{total / spent[1]:.0f} /s",
            ratio(*spent),
        )
        probe = names[len(names) // 2]
        settle(ours.folder / ".git")  # git's background maintenance shares no CPU with what follows
        warm = [timed(lambda s=s: s.history(probe)) for s in sides]  # a first call may build
        hist = [min(timed(lambda s=s: s.history(probe)) for _ in range(5)) for s in sides]
        row(
            "one model's history, in process",
            f"{hist[0] * 1000:.2f} ms",
            f"{hist[1] * 1000:.2f} ms",
            ratio(*hist),
            f"(first call {warm[0] * 1000:.0f} / {warm[1] * 1000:.0f} ms; target < 5 ms)",
        )
        cold = [s.history_cold(probe) for s in sides]
        row(
            "one model's history, fresh process",
            f"{cold[0]:.2f} s",
            f"{cold[1]:.2f} s",
            ratio(*cold),
            "(target < 0.3 s)",
        )
        listed = [s.list_cold() for s in sides]
        row(
            "list every model, fresh process",
            f"{listed[0]:.2f} s",
            f"{listed[1]:.2f} s",
            ratio(*listed),
        )
        promoted = [timed(lambda s=s: [s.promote(n, versions) for n in names]) for s in sides]
        row(
            f"promote {models:,} models",
            f"{promoted[0]:.2f} s",
            f"{promoted[1]:.2f} s",
            ratio(*promoted),
        )
        ours.reg.close()
        git_dir = ours.folder / ".git"
        size = [disk(git_dir), disk(theirs.folder)]
        row("storage on disk after the run", mib(size[0]), mib(size[1]), ratio(*size))
        subprocess.run(["git", "gc", "--quiet"], cwd=ours.folder, check=True)
        row("  modelreg after `git gc`", mib(disk(git_dir)), "", ratio(disk(git_dir), size[1]))


if __name__ == "__main__":
    main()
