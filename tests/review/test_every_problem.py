"""``validate`` reports every problem of a file in one run: the YAML dialect's, the
schema's and the rules' (on the part of the file that can be read), each at its line."""

from __future__ import annotations

import json
from pathlib import Path

from modelreg import Registry
from tests.conftest import RunCli
from tests.review.pullrequest import MANIFEST, branch, commit, edit, line_of

BAD_FRAMEWORK = ("framework: xgboost", "framework: sklern\nlabels:\n  team: 1.10")


def found(run_cli: RunCli, root: Path, *args: str) -> set[tuple[str, int]]:
    """(field, line) of every problem ``validate --json ARGS`` reports."""
    r = run_cli("validate", "--json", *args, cwd=root)
    assert r.code == 3, r.out + r.err
    problems = json.loads(r.out)["problems"]
    assert all(p["file"] == p["path"] == MANIFEST for p in problems), problems
    pairs = {(p["field"], p["line"]) for p in problems}
    assert len(pairs) == len(problems), problems  # each said once
    return pairs


def test_a_bad_framework_a_float_label_and_two_production_versions(
    churn: Registry, run_cli: RunCli
) -> None:
    root = churn.root
    edit(root / MANIFEST, *BAD_FRAMEWORK)
    text = edit(root / MANIFEST, "stage: none", "stage: production")
    production = line_of(text, "stage: production", line_of(text, "- version: 2"))
    assert found(run_cli, root) == {
        ("framework", line_of(text, "framework: sklern")),
        ("labels.team", line_of(text, "team: 1.10")),
        ("versions[1].stage", production),  # the second of the two
    }
    r = run_cli("validate", cwd=root)
    assert f"{MANIFEST}:{production}:10: versions[1].stage: more than one production" in r.out
    assert "3 problem(s)" in r.err


def test_yaml_level_problems_hide_nothing(churn: Registry, run_cli: RunCli) -> None:
    root = churn.root
    edit(root / MANIFEST, *BAD_FRAMEWORK)
    edit(root / MANIFEST, "stage: none", "stage: no")  # a YAML 1.1 boolean
    edit(root / MANIFEST, "  label: v1.1.0\n", "  label: v1.1.0\n  label: v1.1.1\n")
    text = edit(root / MANIFEST, "tags:\n", "aliases:\n  champion: 7\ntags:\n")
    assert found(run_cli, root) == {
        ("framework", line_of(text, "framework: sklern")),
        ("labels.team", line_of(text, "team: 1.10")),
        ("aliases.champion", line_of(text, "champion: 7")),  # a rule across versions
        ("versions[0].stage", line_of(text, "stage: no")),
        ("versions[1].label", line_of(text, "label: v1.1.1")),  # the duplicate key
    }


def test_yaml_level_problems_with_two_production_versions(churn: Registry, run_cli: RunCli) -> None:
    root = churn.root
    edit(root / MANIFEST, "  label: v1.0.0\n  stage: none", "  label: v1.0.0\n  stage: production")
    edit(root / MANIFEST, "accuracy: 0.89", "accuracy: 012")  # octal in YAML 1.1 only
    text = edit(root / MANIFEST, "    accuracy: 0.92", "    accuracy: 0.92\n    accuracy: 0.93")
    production = line_of(text, "stage: production", line_of(text, "- version: 2"))
    assert found(run_cli, root, "--base", "HEAD") == {
        ("versions[0].metrics.accuracy", line_of(text, "accuracy: 012")),
        ("versions[1].metrics.accuracy", line_of(text, "accuracy: 0.93")),
        ("versions[1].stage", production),
    }


def test_change_rules_run_on_a_file_that_does_not_load(churn: Registry, run_cli: RunCli) -> None:
    root = churn.root
    branch(root, "feature")
    edit(root / MANIFEST, *BAD_FRAMEWORK)
    text = edit(root / MANIFEST, "accuracy: 0.89", "accuracy: 0.99")  # a released metric
    commit(root, "edit by hand")
    expected = {
        ("framework", line_of(text, "framework: sklern")),
        ("labels.team", line_of(text, "team: 1.10")),
        ("versions[0].metrics.accuracy", line_of(text, "accuracy: 0.99")),
    }
    assert found(run_cli, root, "--base", "main") == expected
    r = run_cli("validate", "--base", "main", "--format", "github", cwd=root)
    annotations = r.out.splitlines()
    assert len(annotations) == 3
    assert all(a.startswith(f"::error file={MANIFEST},line=") for a in annotations)
    assert any("version 1 is released: its metrics cannot change" in a for a in annotations)
    # the same file read from a commit names the commit
    r = run_cli("validate", "--ref", "feature", "--json", cwd=root)
    assert {p["ref"] for p in json.loads(r.out)["problems"]} == {"feature"}


def test_a_part_left_out_is_not_reported_again_by_the_rules(
    churn: Registry, run_cli: RunCli
) -> None:
    """A version whose number cannot be read is left out of what the rules check: its
    own problem is reported, not a "version 2 was removed" it would seem to make."""
    root = churn.root
    text = edit(root / MANIFEST, "- version: 2", "- version: '2'")
    assert found(run_cli, root) == {("versions[1].version", line_of(text, "version: '2'"))}
    # a metric refused by the schema is not a released metric changed
    edit(root / MANIFEST, "- version: '2'", "- version: 2")
    text = edit(root / MANIFEST, "accuracy: 0.92", "accuracy: high")
    assert found(run_cli, root) == {("versions[1].metrics.accuracy", line_of(text, "high"))}


def test_versions_left_out_keep_the_others_at_their_lines(churn: Registry, run_cli: RunCli) -> None:
    root = churn.root
    edit(root / MANIFEST, "- version: 1\n", "- version: one\n")
    text = edit(root / MANIFEST, "tags:\n", "aliases:\n  best: 2\n  gone: 9\ntags:\n")
    text = edit(
        root / MANIFEST,
        "metrics:\n    accuracy: 0.92",
        "metrics:\n    accuracy: 0.92\n"
        + ("- version: 3\n  stage: production\n  created_at: 2026-01-01T00:00:00Z\n"),
    )
    assert found(run_cli, root) == {
        ("versions[0].version", line_of(text, "version: one")),
        ("aliases.gone", line_of(text, "gone: 9")),
        # the second production version is versions[2] of the file, whatever was left out
        ("versions[2].stage", line_of(text, "stage: production", line_of(text, "version: 3"))),
    }


def test_diff_and_errors_name_files_from_where_the_user_is(
    churn: Registry, run_cli: RunCli
) -> None:
    root = churn.root
    branch(root, "feature")
    text = edit(root / MANIFEST, *BAD_FRAMEWORK)
    line = line_of(text, "framework: sklern")
    r = run_cli("diff", "main", cwd=root / "models")
    assert r.code == 3
    assert f"  churn-xgb/model.yaml:{line}:12: framework: 'sklern' is not one of" in r.out
    assert f"churn-xgb/model.yaml:{line + 2}:9: labels.team:" in r.out
    r = run_cli("diff", "main", "--json", cwd=root / "models")
    (model,) = json.loads(r.out)["models"]
    assert model["kind"] == "invalid" and len(model["problems"]) == 2
    assert model["problems"][0].startswith(f"{MANIFEST}:{line}:12: framework:")
    r = run_cli("show", "churn-xgb", cwd=root / "models" / "churn-xgb")
    assert r.code == 3
    assert r.err.splitlines()[0].startswith(f"error: model.yaml:{line}:12: framework:")
    commit(root, "broken")
    r = run_cli("show", "churn-xgb", "--ref", "feature", cwd=root / "models")
    assert r.err.splitlines()[0].startswith(f"error: {MANIFEST}@feature:{line}:12: framework:")


def test_a_broken_parent_manifest_still_resolves_its_children(
    churn: Registry, run_cli: RunCli
) -> None:
    churn.create_model("churn-ft", name="Fine-tuned", framework="xgboost")
    churn.register_version("churn-ft", lineage={"parent": "churn-xgb@2"})
    text = edit(churn.root / MANIFEST, *BAD_FRAMEWORK)
    # the parent's own problems, and no "parent does not resolve" for its child
    assert found(run_cli, churn.root) == {
        ("framework", line_of(text, "framework: sklern")),
        ("labels.team", line_of(text, "team: 1.10")),
    }
    edit(churn.root / MANIFEST, "- version: 2\n", "- version: '2'\n")
    r = run_cli("validate", "--json", cwd=churn.root)
    child = [p for p in json.loads(r.out)["problems"] if p["path"] != MANIFEST]
    assert [(p["path"], p["field"]) for p in child] == [
        ("models/churn-ft/model.yaml", "versions[0].lineage.parent")
    ]


def test_every_problem_of_the_config_is_named_from_where_the_user_is(
    registry: Registry, run_cli: RunCli
) -> None:
    config = registry.root / "modelreg.yaml"
    text = edit(config, "\nkind: Registry\n", "\nkind: Registry\nkind: Registry\ncolour: blue\n")
    r = run_cli("validate", cwd=registry.root)
    assert r.code == 3
    assert r.out.splitlines() == [
        f"modelreg.yaml:{line_of(text, 'kind:') + 1}:1: kind: duplicate key "
        f"(first at line {line_of(text, 'kind:')})",
        f"modelreg.yaml:{line_of(text, 'colour:')}:1: colour: unknown field",
    ]
    assert r.err == "2 problem(s)\n"
    r = run_cli("validate", "--json", cwd=registry.root)  # scripts and CI get the format asked
    assert r.code == 3
    problems = json.loads(r.out)["problems"]
    assert [(p["path"], p["field"]) for p in problems] == [
        ("modelreg.yaml", "kind"),
        ("modelreg.yaml", "colour"),
    ]
    r = run_cli("validate", "--format", "github", cwd=registry.root)
    assert r.code == 3 and r.out.count("::error file=modelreg.yaml,line=") == 2
    r = run_cli("validate", cwd=registry.root / "models")  # outside the folder: the full path
    assert r.out.splitlines()[1] == f"{config}:{line_of(text, 'colour:')}:1: colour: unknown field"


def test_change_rules_compare_with_what_can_be_read_of_a_broken_base(
    churn: Registry, run_cli: RunCli
) -> None:
    """A base that does not load (merged before validate ran in CI) is compared with as
    far as it can be read: a fix of its framework still may not edit a released metric."""
    root = churn.root
    edit(root / MANIFEST, "framework: xgboost", "framework: sklern")
    commit(root, "a broken manifest on main")
    branch(root, "feature")
    edit(root / MANIFEST, "framework: sklern", "framework: xgboost")
    text = edit(root / MANIFEST, "accuracy: 0.89", "accuracy: 0.99")
    assert found(run_cli, root, "--base", "main") == {
        ("versions[0].metrics.accuracy", line_of(text, "accuracy: 0.99"))
    }
    edit(root / MANIFEST, "accuracy: 0.99", "accuracy: 0.89")
    assert run_cli("validate", "--base", "main", cwd=root).code == 0


def test_problems_are_listed_by_file_and_line(churn: Registry, run_cli: RunCli) -> None:
    root = churn.root
    edit(root / MANIFEST, "accuracy: 0.89", "accuracy: 0.99")  # a change rule, line ~20
    edit(root / MANIFEST, "  label: v1.1.0\n", "  label: v1.1.0\n  labels: {team: 1.10}\n")
    r = run_cli("validate", cwd=root)  # the schema's problem is found first, listed second
    fields = [line.split(": ")[1] for line in r.out.splitlines()]
    assert fields == ["versions[0].metrics.accuracy", "versions[1].labels.team"]
