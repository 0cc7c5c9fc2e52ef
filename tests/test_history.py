"""History as a lookup: what a history derives is kept by commit and blob ids, read back
by later processes without libgit2, and never stale, whatever happens to the branch."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from modelreg import Registry
from modelreg.cli._common import emit_json, emit_plain_json
from modelreg.events import Holders, alias_periods, stage_periods
from modelreg.vocabulary import Stage
from tests.conftest import RunCli, git, head

PATH = "models/churn-xgb/model.yaml"


def derived_afresh(run_cli: RunCli, root: Path, tmp: Path, *args: str) -> object:
    """``history ARGS --json`` in a fresh clone of ``root`` (nothing derived yet)."""
    clone = tmp / f"clone-{len(list(tmp.glob('clone-*')))}"
    git(tmp, "clone", "--quiet", "--no-local", str(root), str(clone))
    git(clone, "checkout", "--quiet", "--detach", head(root))
    assert not (clone / ".git" / "modelreg").exists()
    return history_json(run_cli, clone, *args)


def history_json(run_cli: RunCli, root: Path, *args: str) -> object:
    r = run_cli("-R", str(root), "history", *args, "--json")
    assert r.code == 0, r.err
    return json.loads(r.out)


def shas(found: object) -> list[str]:
    assert isinstance(found, list)
    return [c["commit"] for c in found]


def test_a_history_read_back_equals_one_derived_in_a_fresh_clone(
    churn: Registry, run_cli: RunCli, tmp_path: Path
) -> None:
    churn.set_alias("churn-xgb@1", "champion")
    first = history_json(run_cli, churn.root, "churn-xgb")
    assert (churn.root / ".git/modelreg/history/churn-xgb").is_file()
    assert history_json(run_cli, churn.root, "churn-xgb") == first
    assert first == derived_afresh(run_cli, churn.root, tmp_path, "churn-xgb")
    assert shas(first) == git(churn.root, "log", "--format=%H", "--", PATH).split()
    for args in (("--stage", "production"), ("--alias", "champion")):
        read_back = history_json(run_cli, churn.root, "churn-xgb", *args)
        assert read_back == derived_afresh(run_cli, churn.root, tmp_path, "churn-xgb", *args)
        assert read_back and history_json(run_cli, churn.root, "churn-xgb", *args) == read_back


def test_a_new_commit_an_amend_and_a_reset_each_give_the_right_history(
    churn: Registry, run_cli: RunCli, tmp_path: Path
) -> None:
    root = churn.root
    history_json(run_cli, root, "churn-xgb")  # derived and kept at this commit
    history_json(run_cli, root, "churn-xgb", "--stage", "staging")
    base = head(root)

    def check(expected_newest: str) -> list[str]:
        for args in ((), ("--stage", "staging")):
            found = history_json(run_cli, root, "churn-xgb", *args)
            assert found == derived_afresh(run_cli, root, tmp_path, "churn-xgb", *args)
        found_shas = shas(history_json(run_cli, root, "churn-xgb"))
        assert found_shas == git(root, "log", "--format=%H", "--", PATH).split()
        assert found_shas[0] == expected_newest
        return found_shas

    before = shas(history_json(run_cli, root, "churn-xgb"))
    churn.set_stage("churn-xgb", 1, "staging")  # a new commit on top
    staged = head(root)
    assert check(staged)[1:] == before
    # the same commit amended by hand: another stage, another message
    manifest = root / PATH
    manifest.write_text(manifest.read_text().replace("stage: staging", "stage: archived"))
    git(root, "commit", "--quiet", "--amend", "-am", "archived by hand")
    amended = head(root)
    assert check(amended)[1:] == before and amended != staged
    newest = history_json(run_cli, root, "churn-xgb")
    assert isinstance(newest, list) and newest[0]["message"] == "archived by hand"
    assert [e["text"] for e in newest[0]["events"]] == ["version 1 moved none -> archived"]
    assert history_json(run_cli, root, "churn-xgb", "--stage", "staging") == []
    git(root, "reset", "--quiet", "--hard", base)  # the branch back where it was
    assert check(base) == before
    git(root, "reset", "--quiet", "--hard", "HEAD~1")  # and older still
    assert check(head(root)) == before[1:]
    churn.register_version("churn-xgb", label="elsewhere")  # a new line of history
    assert check(head(root))[1:] == before[1:]


def test_a_fresh_history_seen_before_loads_neither_libgit2_nor_gitpython(
    churn: Registry,
) -> None:
    probe = (
        "import sys\n"
        "from modelreg.cli import main\n"
        "try:\n"
        "    main(sys.argv[1:])\n"
        "except SystemExit as exc:\n"
        "    assert not exc.code, exc.code\n"
        "loaded = [m for m in ('pygit2', 'git', 'pydantic_core') if m in sys.modules]\n"
        "print(' '.join(loaded) or 'none', file=sys.stderr)\n"
    )

    def loaded(*args: str) -> str:
        done = subprocess.run(
            [sys.executable, "-c", probe, "history", "churn-xgb", *args, "--json"],
            cwd=churn.root,
            capture_output=True,
            text=True,
        )
        assert done.returncode == 0, done.stderr
        return done.stderr.strip().splitlines()[-1]

    assert "pygit2" in loaded().split()  # the first reads the manifests
    assert loaded() == "none"  # later ones look up what it derived
    assert "pygit2" in loaded("--stage", "production").split()  # who held what: derived once
    for args in ((), ("--stage", "production"), ("--stage", "staging"), ("--alias", "best")):
        assert loaded(*args) == "none"
    churn.register_version("churn-xgb")
    # a new commit: git logs what it added (a git process; GitPython is not loaded for it)
    assert "git" not in loaded().split()
    assert loaded() == "none"


def test_stage_and_alias_periods_looked_up_equal_those_of_the_manifests(
    churn: Registry,
) -> None:
    churn.set_alias("churn-xgb@1", "champion")
    churn.register_version("churn-xgb", stage="staging")
    churn.set_stage("churn-xgb", 3, "production")
    churn.set_alias("churn-xgb@3", "champion")
    churn.set_alias("churn-xgb@2", "fallback")
    # the holders read from each state's manifest, not looked up
    states = [(info, Holders.of(model)) for info, model in churn.past().states("churn-xgb")]
    for reg in (churn, Registry.open(churn.root)):  # derived, then read back
        for stage in Stage:
            assert reg.stage_history("churn-xgb", stage) == stage_periods(states, stage)
        for alias in ("champion", "fallback", "nothing"):
            assert reg.alias_history("churn-xgb", alias) == alias_periods(states, alias)
    assert [p.version for p in churn.stage_history("churn-xgb", "production")] == [2, 3]
    assert [p.version for p in churn.alias_history("churn-xgb", "champion")] == [1, 3]


def test_a_changed_config_derives_the_events_again(churn: Registry, run_cli: RunCli) -> None:
    churn.update("churn-xgb", description="x" * 2000)  # a manifest over 1 KiB
    before = history_json(run_cli, churn.root, "churn-xgb")
    config = churn.root / "modelreg.yaml"
    config.write_text(config.read_text() + "policy:\n  max_manifest_bytes: 1024\n")
    after = history_json(run_cli, churn.root, "churn-xgb")
    assert isinstance(before, list) and isinstance(after, list)
    assert [e["text"] for e in before[0]["events"]] == ["metadata edited: description"]
    # the big state no longer loads: it reads as no manifest, derived again, not reused
    assert [e["text"] for e in after[0]["events"]] == ["model deleted"]


def test_history_json_is_the_same_text_from_either_encoder(
    churn: Registry, capsys: pytest.CaptureFixture[str]
) -> None:
    churn.update("churn-xgb", description="Modèle « churn » \u2013 tab\there\nnew line")
    data = [c.to_dict() for c in churn.history("churn-xgb")]
    data += [p.to_dict() for p in churn.stage_history("churn-xgb", "production")]
    capsys.readouterr()
    emit_json(data)
    rich = capsys.readouterr().out
    emit_plain_json(data)
    assert capsys.readouterr().out == rich


def test_a_fresh_clone_and_a_deleted_folder_of_lookups_give_the_same_history(
    churn: Registry, run_cli: RunCli, tmp_path: Path
) -> None:
    first = history_json(run_cli, churn.root, "churn-xgb")
    shutil.rmtree(churn.root / ".git" / "modelreg")
    assert history_json(run_cli, churn.root, "churn-xgb") == first
    for damaged in (churn.root / ".git/modelreg/history").iterdir():
        damaged.write_bytes(b"damaged")
    for damaged in (churn.root / ".git/modelreg/log").iterdir():
        damaged.write_bytes(b"\x00")
    assert history_json(run_cli, churn.root, "churn-xgb") == first
    assert derived_afresh(run_cli, churn.root, tmp_path, "churn-xgb") == first
