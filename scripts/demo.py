"""End-to-end demo: a copy of registry_example/ becomes a real git repository, and a
realistic session runs against it through the `modelreg` CLI, printing each command.

Run through `scripts/demo` (which sets up the environment first).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEMO = ROOT / "demo"
REG = DEMO / "registry"
WORK = DEMO / "work"
MODELREG = [sys.executable, "-m", "modelreg"]

# A machine without a git identity still gets a readable history.
# The example manifests name S3 buckets: no lookup may go looking for a cloud's metadata service.
ENV = {
    **os.environ,
    "MODELREG_REGISTRY": str(REG),
    "MODELREG_CACHE": str(DEMO / "cache"),
    "AWS_EC2_METADATA_DISABLED": "true",
}
for key, value in (
    ("GIT_AUTHOR_NAME", "modelreg demo"),
    ("GIT_AUTHOR_EMAIL", "demo@modelreg.dev"),
    ("GIT_COMMITTER_NAME", "modelreg demo"),
    ("GIT_COMMITTER_EMAIL", "demo@modelreg.dev"),
):
    ENV.setdefault(key, value)


def step(title: str) -> None:
    print(f"\n=== {title}", flush=True)


def say(text: str) -> None:
    """What the next step does and what to look for in its output."""
    print(f"# {text}", flush=True)


def run(*args: str, expect: int = 0) -> str:
    shown = " ".join(a if " " not in a else repr(a) for a in args)
    print(f"$ modelreg {shown}", flush=True)
    done = subprocess.run([*MODELREG, *args], env=ENV, cwd=REG, text=True, capture_output=True)
    out = done.stdout + done.stderr
    print(out.rstrip("\n"))
    if done.returncode != expect:
        print(f"demo: expected exit code {expect}, got {done.returncode}", file=sys.stderr)
        sys.exit(1)
    if expect:
        print(f"(exit code {expect}, as expected: the error above is the point of this step)")
    return done.stdout


def git(*args: str) -> None:
    subprocess.run(["git", *args], cwd=REG, env=ENV, check=True, capture_output=True)


def main() -> None:
    step("A real git repository from registry_example/")
    shutil.rmtree(DEMO, ignore_errors=True)
    shutil.copytree(ROOT / "registry_example", REG, symlinks=False)
    WORK.mkdir(parents=True)
    git("init", "-q", "-b", "main")
    git("add", "-A")
    git("commit", "-q", "-m", "Import the example registry")
    print(f"registry at {REG}")
    run("list")
    run("validate")

    step("Register a new model and a version with real artifacts")
    (WORK / "model.bst").write_bytes(os.urandom(256 * 1024))
    (WORK / "encoders.pkl").write_bytes(os.urandom(16 * 1024))
    (WORK / "config.json").write_text('{"threshold": 0.42}\n')
    run(
        "create",
        "fraud-detector",
        "--name",
        "Fraud Detector",
        "--framework",
        "xgboost",
        "--type",
        "classification",
        "--source",
        "experiment",
        "--owner",
        "user_789",
        "--organization",
        "org_xyz",
        "--workspace",
        "ws_001",
        "--customer",
        "demo-customer",
        "--tag",
        "fraud",
        "--tag",
        "xgboost",
        "--description",
        "Flags suspicious card transactions",
    )
    run(
        "register",
        "fraud-detector",
        "--label",
        "v0.1.0",
        "--description",
        "Baseline",
        "--metric",
        "auc=0.91",
        "--metric",
        "f1_score=0.84",
        "--param",
        "max_depth=6",
        "--param",
        "eta=0.3",
        "--trained-at",
        "2025-03-01T08:00:00Z",
        "--data-window",
        "2024-01-01T00:00:00Z..2025-02-28T23:59:59Z",
        "--artifact",
        f"model={WORK / 'model.bst'}",
        "--artifact",
        f"encoders={WORK / 'encoders.pkl'}",
        "--artifact",
        f"config={WORK / 'config.json'}",
    )
    run(
        "register",
        "fraud-detector",
        "--label",
        "v0.2.0",
        "--description",
        "More trees",
        "--metric",
        "auc=0.94",
        "--metric",
        "f1_score=0.88",
        "--param",
        "max_depth=8",
        "--label",
        "team=fraud",
        "--run-id",
        "run-0042",
        "--tracker",
        "mlflow",
        "--dataset",
        "train=s3://data/fraud/2024.parquet",
        "--parent",
        "fraud-detector@1",
        "--artifact",
        f"model={WORK / 'model.bst'}",
    )

    step("Promote: staging, then production (one production version at a time)")
    run("promote", "fraud-detector@v0.1.0", "production")
    run("promote", "fraud-detector@2", "staging")
    run("promote", "fraud-detector@2", "production")
    run("show", "fraud-detector")
    run("show", "fraud-detector@production")

    step("Artifacts: the bytes behind the manifest, checked against its sha256")
    run("artifacts", "list", "fraud-detector@production")
    run("artifacts", "pull", "fraud-detector@production", str(WORK / "serving"))
    stored = REG / "artifacts" / "fraud-detector" / "2" / "model" / "model.bst"
    good_bytes = stored.read_bytes()
    say(f"The demo now changes the first byte of {stored.relative_to(DEMO)} behind the")
    say("registry's back (a disk fault, a tampered bucket). verify must report a sha256")
    say("mismatch for fraud-detector@2/model and exit with 6:")
    stored.write_bytes(b"\0" + good_bytes[1:])
    run("artifacts", "verify", "fraud-detector", expect=6)
    say("The demo puts the original bytes back: verify passes again.")
    stored.write_bytes(good_bytes)
    run("artifacts", "verify", "fraud-detector")  # the example models' bytes sit in S3 buckets
    say("gc lists objects no commit refers to (none here: every upload was committed).")
    run("artifacts", "gc", "--min-age", "0s")

    step("Using a model by reference: fetched into the local cache, checked")
    run("fetch", "fraud-detector@production")
    # from the registry's git URL, as a serving container with no checkout would
    run("-R", f"git+{REG.as_uri()}@main", "fetch", "fraud-detector@production", "--json")
    run("-R", f"git+{REG.as_uri()}@main", "fetch", "fraud-detector@production", "--offline")
    run("cache", "ls")

    step("Find models")
    run("list", "--framework", "xgboost", "--framework", "tensorflow", "--sort", "name")
    run("list", "--customer", "demo-customer", "--stage", "production")
    run("show", "fraud-detector@production", "--json")

    step("Aliases, version search and lineage")
    run("alias", "fraud-detector@production", "champion")
    run("show", "fraud-detector@champion")
    run("versions", "--where", "metrics.accuracy >= 0.9", "--sort", "-metrics.accuracy")
    run("versions", "--alias", "champion", "--json")
    run("lineage", "solar-gap-filler@2")
    run("alias", "fraud-detector@2", "production", expect=5)  # a stage is not an alias
    run("history", "churn-xgb", "--alias", "champion")

    step("History and audit, from git")
    run("history", "fraud-detector")
    run("history", "fraud-detector", "--stage", "production")
    run("list", "--ref", "HEAD~3")

    step("Rules hold")
    run("promote", "churn-xgb@1", "archived")
    say("churn-xgb is deployed: deleting it must be refused (exit 5) until it is undeployed.")
    run("delete", "churn-xgb", expect=5)
    say("A model that does not exist: exit 4, with the id named.")
    run("register", "no-such-model", expect=4)

    step("A hand edit that breaks the schema is caught with file, line and field")
    manifest = REG / "models" / "fraud-detector" / "model.yaml"
    good = manifest.read_text()
    say("The demo edits models/fraud-detector/model.yaml by hand: `stage: production`")
    say("becomes `stage: no`, which YAML 1.1 reads as false. validate must name the file,")
    say("line, column and field, and exit 3:")
    manifest.write_text(good.replace("stage: production", "stage: no"))
    run("validate", expect=3)
    say("The demo restores the file: valid again.")
    manifest.write_text(good)
    run("validate")

    step("A pull request edits a manifest by hand: the change rules and a PR comment")
    git("checkout", "-q", "-b", "retrain")
    released = manifest.read_text()
    say("On branch retrain the demo rewrites a released metric by hand (auc 0.94 -> 0.99).")
    say("A released version is immutable: validate must flag that line as a GitHub")
    say("annotation and exit 3:")
    manifest.write_text(released.replace("auc: 0.94", "auc: 0.99"))
    run("validate", "--base", "main", "--format", "github", expect=3)
    say("Instead the demo appends version 3 by hand and commits it: valid, and diff")
    say("describes the change as a pull-request comment.")
    manifest.write_text(
        released + "- version: 3\n  label: v0.3.0\n  stage: challenger\n"
        "  created_at: 2025-04-01T09:00:00Z\n  metrics: {auc: 0.96, f1_score: 0.9}\n"
    )
    git("commit", "-q", "-am", "fraud-detector: version 3, retrained on April data")
    run("validate", "--base", "main")
    run("diff", "main", "--format", "markdown")
    git("checkout", "-q", "main")
    git("merge", "-q", "--ff-only", "retrain")
    # a promotion proposed for review: committed on its own branch, the checkout stays on main
    run("promote", "fraud-detector@3", "production", "--branch", "promote-fraud-detector-v3")

    step("The static catalog")
    run("export", str(DEMO / "catalog"))

    step("Deploy: specs for a GitOps engine and the deployment block, in one commit")
    run("targets")
    run(
        "deploy", "fraud-detector@production", "--target", "kubernetes",
        "--hardware", "cpu-small", "--autoscale", "1:5@70",
    )  # fmt: skip
    print((REG / "deploy/kubernetes/fraud-detector/hpa-v2.yaml").read_text().rstrip("\n"))
    run("deploy", "churn-xgb@production", "--target", "kserve", "--challenger", "2",
        "--traffic", "10", "--dry-run")  # fmt: skip
    run("undeploy", "fraud-detector")

    step("What a merge announces, as CloudEvents (what the post-merge workflow posts)")
    run("events", "HEAD~3..HEAD", "--format", "cloudevents")

    step("The catalog site: JSON + HTML, the same files any static host or bucket serves")
    run("export", str(DEMO / "site"))

    print(f"\nDemo finished: the registry is in {REG} (try `git -C {REG} log --oneline`).")
    print(f"Open the catalog: {(DEMO / 'site' / 'index.html').resolve().as_uri()}")


if __name__ == "__main__":
    main()
