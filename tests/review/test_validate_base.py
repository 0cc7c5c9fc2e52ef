"""`modelreg validate --base`: real repositories with branches, merges and shallow clones."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from modelreg import Registry
from modelreg.cli.review import github_annotation
from modelreg.errors import Problem
from modelreg.manifest import Deployment
from tests.conftest import RunCli, git
from tests.review.pullrequest import MANIFEST, VERSION_3, append, commit, edit, line_of


def branch(root: Path, name: str) -> None:
    git(root, "checkout", "-qb", name)


def test_a_hand_added_version_passes(churn: Registry, run_cli) -> None:  # type: ignore[no-untyped-def]
    root = churn.root
    branch(root, "feature")
    append(root / MANIFEST, VERSION_3)
    r = run_cli("validate", "--base", "main", cwd=root)  # the working tree, uncommitted
    assert r.code == 0, r.err
    assert "valid (1 changed manifest(s) since" in r.out + r.err
    commit(root, "churn-xgb: version 3 by hand")
    r = run_cli("validate", "--base", "main", "--format", "json", cwd=root)
    data = json.loads(r.out)
    assert r.code == 0 and data["valid"] and data["changed"] == ["churn-xgb"]
    assert data["merge_base"] == git(root, "rev-parse", "main").strip()


def test_an_edit_of_a_released_version_is_located_in_the_new_file(churn: Registry, run_cli) -> None:  # type: ignore[no-untyped-def]
    root = churn.root
    branch(root, "feature")
    text = edit(root / MANIFEST, "accuracy: 0.92", "accuracy: 0.97")
    commit(root, "better numbers")
    r = run_cli("validate", "--base", "main", cwd=root)
    assert r.code == 3
    line = line_of(text, "accuracy: 0.97")
    assert (
        f"{MANIFEST}:{line}:15: versions[1].metrics.accuracy: version 2 is released: "
        "its metrics cannot change" in r.out
    )
    assert "1 problem(s)" in r.err
    # without a base the file is valid on its own
    assert run_cli("validate", cwd=root).code == 0


def test_formats_json_and_github(churn: Registry, run_cli) -> None:  # type: ignore[no-untyped-def]
    root = churn.root
    branch(root, "feature")
    text = edit(
        root / MANIFEST,
        "- version: 1\n  label: v1.0.0\n  stage: none",
        "- version: 1\n  label: v1.0.1\n  stage: none",
    )
    r = run_cli("validate", "--base", "main", "--json", cwd=root)
    (problem,) = json.loads(r.out)["problems"]
    assert problem == {
        "file": MANIFEST,
        "path": MANIFEST,  # from the top of the git repository, for programs
        "ref": None,  # read from the working tree, not from a commit
        "line": line_of(text, "v1.0.1"),
        "column": 10,
        "field": "versions[0].label",
        "message": "version 1 is released: its label cannot change (only stage, "
        "description, labels and annotations may); register a new version instead",
    }
    r = run_cli("validate", "--base", "main", "--format", "github", cwd=root)
    assert r.code == 3
    assert r.out.splitlines()[0] == (
        f"::error file={MANIFEST},line={problem['line']},col=10,title=modelreg validate::"
        "versions[0].label: version 1 is released: its label cannot change (only stage, "
        "description, labels and annotations may); register a new version instead"
    )


def test_github_annotations_escape_what_github_requires() -> None:
    p = Problem("a,b:c/model.yaml", 3, None, "f", "100% sure\r\nnext")
    assert github_annotation(p) == (
        "::error file=a%2Cb%3Ac/model.yaml,line=3,title=modelreg validate::f: 100%25 sure%0D%0Anext"
    )
    assert github_annotation(Problem("x.yaml", None, None, "", "no place")) == (
        "::error file=x.yaml,title=modelreg validate::no place"
    )


def test_a_removed_version_and_the_three_dot_base(churn: Registry, run_cli) -> None:  # type: ignore[no-untyped-def]
    root = churn.root
    branch(root, "feature")
    git(root, "checkout", "-q", "main")
    churn.register_version("churn-xgb", label="v2.0.0")  # main moves on after the fork
    git(root, "checkout", "-q", "feature")
    # two dots would see version 3 removed; the merge-base does not have it
    assert run_cli("validate", "--base", "main", cwd=root).code == 0
    text = (root / MANIFEST).read_text()
    (root / MANIFEST).write_text(text[: text.index("- version: 2")])
    commit(root, "drop version 2")
    r = run_cli("validate", "--base", "main", cwd=root)
    assert r.code == 3
    assert f"{MANIFEST}:{line_of(text, '- version: 1')}:1: versions: version 2 was removed" in r.out


def test_a_deployed_model_cannot_be_deleted(churn: Registry, run_cli) -> None:  # type: ignore[no-untyped-def]
    import datetime as dt

    with churn.transaction() as tx:
        tx.set_deployment(
            "churn-xgb",
            Deployment(target="kserve", version=2, deployed_at=dt.datetime.now(dt.timezone.utc)),
            message="deploy",
        )
    root = churn.root
    branch(root, "feature")
    base_text = (root / MANIFEST).read_text()
    git(root, "rm", "-rq", "models/churn-xgb")
    commit(root, "delete churn-xgb")
    r = run_cli("validate", "--base", "main", cwd=root)
    assert r.code == 3
    line = line_of(base_text, "target: kserve")
    merge_base = git(root, "merge-base", "main", "HEAD").strip()
    # the file is gone: its line is in the base version, named by the merge-base commit
    assert f"{MANIFEST}@{merge_base[:12]}:{line}:" in r.out
    assert "deleted while deployed (version 2 on kserve)" in r.out
    assert "base version of the file" in r.out


def test_a_recreated_model_cannot_reuse_old_numbers(churn: Registry, run_cli) -> None:  # type: ignore[no-untyped-def]
    root = churn.root
    old = (root / MANIFEST).read_text()
    churn.delete("churn-xgb")
    branch(root, "feature")
    (root / MANIFEST).parent.mkdir(parents=True)
    (root / MANIFEST).write_text(old.replace("accuracy: 0.92", "accuracy: 0.5"))
    r = run_cli("validate", "--base", "main", cwd=root)  # untracked: still seen
    assert r.code == 3
    assert "version 1 is new but its number is taken" in r.out
    assert "an earlier model churn-xgb (since deleted) had versions up to 2" in r.out


def test_the_promotion_policy_from_modelreg_yaml(churn: Registry, run_cli) -> None:  # type: ignore[no-untyped-def]
    root = churn.root
    append(
        root / "modelreg.yaml",
        "policy:\n  promotion:\n    production_from: [challenger, staging]\n",
    )
    commit(root, "strict promotion")
    branch(root, "feature")
    edit(root / MANIFEST, "stage: production", "stage: archived")
    text = edit(root / MANIFEST, "stage: none", "stage: production")
    r = run_cli("validate", "--base", "main", cwd=root)
    assert r.code == 3, r.out
    (line,) = [ln for ln in r.out.splitlines() if "policy" in ln]
    assert line.startswith(f"{MANIFEST}:{line_of(text, 'stage: production')}:10: versions[0].stage")
    assert (
        "version 1 moved from none: the policy allows production only from challenger, staging"
        in line
    )


def test_a_registry_in_a_subfolder_reports_paths_from_the_repository_top(
    tmp_path: Path,
    run_cli: RunCli,
) -> None:
    mono = tmp_path / "mono"
    mono.mkdir()
    git(mono, "init", "-qb", "main")
    (mono / "app.py").write_text("print('hi')\n")
    commit(mono, "app")
    reg = Registry.init(mono / "ml" / "registry")
    reg.create_model("m", name="M", framework="onnx")
    reg.register_version("m", metrics={"auc": 0.7})
    branch(mono, "feature")
    manifest = reg.root / "models/m/model.yaml"
    edit(manifest, "auc: 0.7", "auc: 0.8")
    r = run_cli("validate", "--base", "main", "--format", "github", cwd=reg.root / "models")
    assert r.code == 3
    assert r.out.startswith("::error file=ml/registry/models/m/model.yaml,line=")
    r = run_cli("-R", str(reg.root), "validate", "--json", cwd=tmp_path)  # from outside
    assert r.code == 3
    (problem,) = json.loads(r.out)["problems"]
    assert problem["file"] == problem["path"] == "ml/registry/models/m/model.yaml"
    # text names the file as a compiler does: from the folder the command runs in
    r = run_cli("-R", str(reg.root), "validate", cwd=tmp_path)
    assert r.out.startswith(f"mono/ml/registry/models/m/model.yaml:{problem['line']}:")
    r = run_cli("validate", cwd=reg.root / "models")
    assert r.out.startswith(f"m/model.yaml:{problem['line']}:")
    r = run_cli("-R", "registry", "validate", cwd=mono / "ml")
    assert r.out.startswith(f"registry/models/m/model.yaml:{problem['line']}:")


def test_the_new_side_can_be_a_commit(churn: Registry, run_cli) -> None:  # type: ignore[no-untyped-def]
    root = churn.root
    branch(root, "feature")
    edit(root / MANIFEST, "accuracy: 0.89", "accuracy: 0.1")
    commit(root, "bad")
    git(root, "checkout", "-q", "main")
    assert run_cli("validate", "--base", "main", cwd=root).code == 0
    r = run_cli("validate", "--base", "main", "--ref", "feature", cwd=root)
    assert r.code == 3 and "its metrics cannot change" in r.out


def test_shallow_clone_without_the_base_says_how_to_fetch_it(
    churn: Registry, tmp_path: Path
) -> None:
    root = churn.root
    branch(root, "feature")
    append(root / MANIFEST, VERSION_3)
    commit(root, "v3")
    clone = tmp_path / "clone"
    git(tmp_path, "clone", "-q", "--depth", "1", "--no-single-branch", f"file://{root}", str(clone))
    git(clone, "checkout", "-q", "feature")
    for base in ("origin/main", "0123456789abcdef0123456789abcdef01234567"):
        done = subprocess.run(
            [sys.executable, "-m", "modelreg", "validate", "--base", base],
            cwd=clone,
            capture_output=True,
            text=True,
        )
        assert done.returncode == 7, done.stderr
        assert "Traceback" not in done.stderr
        assert "fetch-depth: 0" in done.stderr and "git fetch --unshallow" in done.stderr
    git(clone, "fetch", "-q", "--unshallow")
    done = subprocess.run(
        [sys.executable, "-m", "modelreg", "validate", "--base", "origin/main"],
        cwd=clone,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr


def test_two_branches_that_each_register_version_3_fail_once_merged(
    churn: Registry, run_cli: RunCli
) -> None:
    root = churn.root
    branch(root, "alice")
    append(root / MANIFEST, VERSION_3)
    alice = commit(root, "alice: version 3")
    git(root, "checkout", "-q", "main")
    branch(root, "bob")
    bob_block = VERSION_3.replace("v1.2.0", "v1.2.1").replace("0.95", "0.96")
    append(root / MANIFEST, bob_block)
    bob = commit(root, "bob: version 3")
    git(root, "checkout", "-q", "main")
    git(root, "merge", "-q", "alice")
    merge = subprocess.run(["git", "merge", "-q", "bob"], cwd=root, capture_output=True, text=True)
    assert merge.returncode != 0  # both appended at the same place: a textual conflict
    # resolved as a person would: keep both blocks
    kept = git(root, "show", f"alice:{MANIFEST}") + bob_block
    (root / MANIFEST).write_text(kept)
    commit(root, "merge bob")
    first, second = (
        line_of(kept, "- version: 3"),
        line_of(kept, "- version: 3", line_of(kept, "- version: 3")),
    )
    r = run_cli("validate", "--base", "HEAD~1", cwd=root)
    assert r.code == 3
    (problem,) = r.out.splitlines()  # the duplicate, and no edit of the released version 3
    assert "appears twice" in problem
    assert problem.startswith(f"{MANIFEST}:{second}:")
    assert f"the other is at line {first}" in problem
    assert f"line {first} from {alice[:10]} (alice: version 3)" in problem
    assert f"line {second} from {bob[:10]} (bob: version 3)" in problem
    # plain validate names both lines too
    plain = run_cli("validate", cwd=root)
    assert plain.code == 3 and f"the other is at line {first}" in plain.out


def test_a_renamed_model_folder_is_refused(churn: Registry, run_cli) -> None:  # type: ignore[no-untyped-def]
    root = churn.root
    branch(root, "feature")
    git(root, "mv", "models/churn-xgb", "models/churn")
    text = edit(root / "models/churn/model.yaml", "id: churn-xgb", "id: churn")
    r = run_cli("validate", "--base", "main", cwd=root)
    assert r.code == 3
    assert r.out.startswith(f"models/churn/model.yaml:{line_of(text, 'id: churn')}:5: id: ")
    assert "model churn is model churn-xgb renamed" in r.out


def test_bad_input_gets_a_message_and_an_exit_code(
    churn: Registry, run_cli: RunCli, tmp_path: Path
) -> None:
    root = churn.root
    branch(root, "feature")
    edit(root / MANIFEST, "framework: xgboost", "framework: xgboost\nframework: onnx")
    r = run_cli("validate", "--base", "main", cwd=root)
    assert r.code == 3 and "duplicate key" in r.out.lower(), r.out
    assert run_cli("validate", "--format", "yaml", cwd=root).code == 2
    assert run_cli("diff", cwd=root).code == 2
    r = run_cli("validate", "--base", "no-such-branch", cwd=root)
    assert r.code == 7 and "'no-such-branch' is not in this clone" in r.err
    plain = tmp_path / "plain"  # a registry folder that is not in a git repository
    (plain / "models").mkdir(parents=True)
    (plain / "modelreg.yaml").write_text((root / "modelreg.yaml").read_text())
    assert run_cli("validate", cwd=plain).code == 0
    r = run_cli("validate", "--base", "main", cwd=plain)
    assert r.code == 7 and "not inside a git repository" in r.err and "Traceback" not in r.err


def test_one_manifest_cache_for_both_sides(churn: Registry, run_cli) -> None:  # type: ignore[no-untyped-def]
    from modelreg.cache import ManifestCache
    from modelreg.gitstore import blob_id

    root = churn.root
    cache = root / ".git" / "modelreg" / "manifests.cache"
    base_blob = blob_id((root / MANIFEST).read_bytes())
    branch(root, "feature")
    append(root / MANIFEST, VERSION_3)
    cache.unlink(missing_ok=True)
    assert run_cli("validate", "--base", "main", cwd=root).code == 0
    saved = ManifestCache(cache).raw
    assert {base_blob, blob_id((root / MANIFEST).read_bytes())} <= set(saved)


def test_a_pull_request_is_checked_for_what_it_changes(churn: Registry, run_cli: RunCli) -> None:
    root = churn.root
    other = root / "models/other/model.yaml"
    other.parent.mkdir()
    other.write_text("id: other\nname: Other\nframework: onnx\nflavour: odd\n")
    git(root, "add", "-A")
    git(root, "commit", "-qm", "a broken manifest on the base, by hand")
    assert run_cli("validate", cwd=root).code == 3  # without a base: everything
    branch(root, "feature")
    edit(root / MANIFEST, "accuracy: 0.92", "accuracy: 0.5")
    r = run_cli("validate", "--base", "main", cwd=root)
    assert r.code == 3 and "models/churn-xgb/model.yaml" in r.out  # a released metric edited
    assert "other" not in r.out  # the untouched manifest is the base's business
    git(root, "checkout", "-q", "--", MANIFEST)
    config = root / "modelreg.yaml"
    config.write_text(config.read_text() + "# a new policy would be checked against all\n")
    r = run_cli("validate", "--base", "main", cwd=root)
    assert r.code == 3 and "models/other/model.yaml:4:1: flavour" in r.out


def test_plain_validate_checks_uncommitted_edits_against_head(
    churn: Registry, run_cli: RunCli
) -> None:
    root = churn.root
    edit(root / MANIFEST, "accuracy: 0.92", "accuracy: 0.99")
    r = run_cli("validate", "--json", cwd=root)
    assert r.code == 3
    report = json.loads(r.out)
    assert report["base"] == "HEAD" and report["changed"] == ["churn-xgb"]
    assert [p["field"] for p in report["problems"]] == ["versions[1].metrics.accuracy"]
    # the commit as it stands (--ref) has nothing to compare with unless asked
    assert run_cli("validate", "--ref", "HEAD", cwd=root).code == 0
    edit(root / MANIFEST, "accuracy: 0.99", "accuracy: 0.92")
    r = run_cli("validate", cwd=root)
    assert r.code == 0 and "valid" in r.out


def test_a_scoped_check_still_resolves_lineage(churn: Registry, run_cli: RunCli) -> None:
    root = churn.root
    churn.create_model("churn-ft", name="Fine-tuned", framework="xgboost")
    churn.register_version("churn-ft", lineage={"parent": "churn-xgb@1"})
    churn.create_model("churn-eu", name="EU", framework="xgboost")
    branch(root, "feature")
    churn.register_version("churn-eu", lineage={"parent": "churn-ft@1"})
    # the parent's manifest is untouched: it is read to resolve the new version's parent
    assert run_cli("validate", "--base", "main", cwd=root).code == 0
    git(root, "rm", "-q", "models/churn-xgb/model.yaml")
    git(root, "commit", "-qm", "a parent deleted by hand")
    r = run_cli("validate", "--base", "main", cwd=root)
    assert r.code == 3 and "churn-ft/model.yaml" in r.out and "does not resolve" in r.out
