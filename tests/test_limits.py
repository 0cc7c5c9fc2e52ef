"""The limits table, enforced before a write commits and when a manifest is read back.

Each test drives the real CLI (or library) on a real repository and checks the
message, the exit code and that nothing was committed.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from modelreg import Registry, limits
from modelreg.errors import InvalidManifestError
from modelreg.schema import parse_manifest
from tests.conftest import RunCli, git, head

MANIFEST = """\
apiVersion: modelreg/v1
kind: Model
id: m
name: M
framework: custom
versions:
  - version: 1
    created_at: 2025-01-01T00:00:00Z
"""


@pytest.fixture
def reg(registry: Registry) -> Registry:
    registry.create_model("m", name="M", framework="custom")
    return registry


def _unchanged(reg: Registry, before: str) -> None:
    assert head(reg.root) == before
    assert git(reg.root, "status", "--porcelain") == ""


# item 6: a write over a read limit breaks every later read
def test_a_params_file_over_the_manifest_limit_is_refused_before_commit(
    reg: Registry, run_cli: RunCli, tmp_path: Path
) -> None:
    config = reg.root / "modelreg.yaml"
    config.write_text(config.read_text() + "policy:\n  max_manifest_bytes: 65536\n")
    git(reg.root, "commit", "-qam", "a small manifest limit")
    before = head(reg.root)
    params = tmp_path / "params.yaml"
    params.write_text("".join(f"p{i}: {'x' * 60}\n" for i in range(1200)))  # ~80 KB
    r = run_cli("register", "m", "--params-file", str(params), cwd=reg.root)
    assert r.code == 3, r.err
    assert "over the limit of 65536 (policy.max_manifest_bytes)" in r.err
    assert "Traceback" not in r.err
    _unchanged(reg, before)
    for args in (["list"], ["show", "m"], ["validate"]):
        assert run_cli(*args, cwd=reg.root).code == 0


# item 7: NaN and Infinity are not JSON
@pytest.mark.parametrize("value", ["Infinity", "-inf", "1e999", "NaN", "nan"])
def test_non_finite_metrics_are_refused(reg: Registry, run_cli: RunCli, value: str) -> None:
    before = head(reg.root)
    r = run_cli("register", "m", "--metric", f"acc={value}", cwd=reg.root)
    assert r.code != 0 and "is not a finite number (NaN and Infinity are not JSON)" in r.err
    assert "internal error" not in r.err and "Traceback" not in r.err
    _unchanged(reg, before)


def test_non_finite_numbers_are_refused_in_params_too(reg: Registry, run_cli: RunCli) -> None:
    r = run_cli("register", "m", "--param", "lr=.inf", cwd=reg.root)
    assert r.code != 0 and "hyperparameters.lr: inf is not a finite number" in r.err


@pytest.mark.parametrize("value", [".inf", "-.inf", ".nan"])
def test_a_hand_edited_non_finite_number_is_refused_on_read(value: str) -> None:
    text = MANIFEST + f"    metrics: {{acc: {value}}}\n"
    with pytest.raises(InvalidManifestError) as caught:
        parse_manifest(text, "models/m/model.yaml")
    problem = caught.value.problems[0]
    assert (problem.line, problem.field) == (9, "versions[0].metrics.acc")
    assert "is not a finite number" in problem.message


def test_every_json_output_is_json(reg: Registry, run_cli: RunCli, tmp_path: Path) -> None:
    assert run_cli("register", "m", "--metric", "acc=0.5", cwd=reg.root).code == 0
    r = run_cli("show", "m", "--json", cwd=reg.root)
    json.loads(r.out, parse_constant=_no_constant)
    assert run_cli("export", str(tmp_path / "site"), cwd=reg.root).code == 0
    for f in (tmp_path / "site").rglob("*.json"):
        json.loads(f.read_text(), parse_constant=_no_constant)


def _no_constant(name: str) -> float:
    raise AssertionError(f"{name} in a JSON output")


# item 8: secrets in URLs
@pytest.mark.parametrize(
    "url",
    [
        "http://user:pw@host.example/model.bin",
        "https://token@host.example/model.bin",
        "https://host.example/model.bin?token=SECRET",
        "https://b.s3.amazonaws.com/m.bin?X-Amz-Algorithm=AWS4&X-Amz-Signature=abc",
        "https://acct.blob.core.windows.net/c/m.bin?sv=2020&sig=abc",
    ],
)
def test_urls_with_credentials_are_refused_and_never_read(
    reg: Registry, run_cli: RunCli, url: str
) -> None:
    before = head(reg.root)
    r = run_cli("register", "m", "--artifact", f"model={url}", cwd=reg.root)
    assert r.code == 6, r.err
    assert "URL carries" in r.err and "SECRET" not in r.err and "pw" not in r.err
    assert "not found" not in r.err  # refused before any attempt to read it
    _unchanged(reg, before)


def test_a_committed_url_with_credentials_is_refused_on_read() -> None:
    text = MANIFEST + "    artifacts:\n      model: {uri: 'https://u:p@h.example/m.bin'}\n"
    with pytest.raises(InvalidManifestError, match="URL carries credentials"):
        parse_manifest(text, "models/m/model.yaml")


def test_plain_urls_pass() -> None:
    for url in ("s3://bucket/m.bin", "https://h.example/m.bin?version=3", "ssh://git@h/r.git"):
        assert limits.url(url) is None


# item 10: symlinks out of the working folder
def test_a_symlink_out_of_the_working_folder_is_refused(
    reg: Registry, run_cli: RunCli, tmp_path: Path
) -> None:
    secret = tmp_path / "outside" / "passwd"
    secret.parent.mkdir()
    secret.write_text("root:x:0:0\n")
    work = tmp_path / "work"
    work.mkdir()
    (work / "model.bin").symlink_to(secret)
    (work / "real.bin").write_bytes(b"weights")
    (work / "inside.bin").symlink_to(work / "real.bin")
    before = head(reg.root)
    r = run_cli("-R", str(reg.root), "register", "m", "--artifact", "model=model.bin", cwd=work)
    assert r.code == 6 and "a symbolic link to" in r.err and "outside the working folder" in r.err
    _unchanged(reg, before)
    assert not list((reg.root / "artifacts").rglob("passwd"))
    r = run_cli("-R", str(reg.root), "register", "m", "--artifact", "model=inside.bin", cwd=work)
    assert r.code == 0, r.err


# item 12: ids and nesting that crashed
@pytest.mark.parametrize(
    ("model_id", "message"),
    [
        ("a" * 300, "at most 63 characters"),
        ("a" * 64, "at most 63 characters"),
        ("con", "reserved device name on Windows"),
        ("con.txt", "reserved device name on Windows"),
        ("lpt1", "reserved device name on Windows"),
        ("abc.", "ends with '.'"),
    ],
)
def test_ids_that_cannot_be_files_everywhere_are_refused(
    registry: Registry, run_cli: RunCli, model_id: str, message: str
) -> None:
    before = head(registry.root)
    r = run_cli("create", model_id, "--name", "x", "--framework", "custom", cwd=registry.root)
    assert r.code != 0 and message in r.err, r.err
    assert "unexpected" not in r.err
    _unchanged(registry, before)


@pytest.mark.parametrize("verb", ["show", "register", "delete", "history"])
def test_a_too_long_id_is_simply_not_found(reg: Registry, run_cli: RunCli, verb: str) -> None:
    r = run_cli(verb, "a" * 300, cwd=reg.root)
    assert r.code == 4 and "no " in r.err and "unexpected" not in r.err, r.err


def test_a_63_character_id_is_fine(registry: Registry, run_cli: RunCli) -> None:
    r = run_cli("create", "a" * 63, "--name", "x", "--framework", "custom", cwd=registry.root)
    assert r.code == 0, r.err


@pytest.mark.parametrize(
    "param",
    [
        "deep=" + "[" * 500 + "]" * 500,
        "deep=" + "[" * 34 + "]" * 34,
        "loop=&a [*a]",
        "loop=&a {x: *a}",
    ],
)
def test_deep_or_recursive_params_are_refused(reg: Registry, run_cli: RunCli, param: str) -> None:
    before = head(reg.root)
    r = run_cli("register", "m", "--param", param, cwd=reg.root)
    assert r.code != 0 and "nested deeper than the limit of" in r.err, r.err
    assert "unexpected" not in r.err
    _unchanged(reg, before)


def test_scan_is_iterative_and_finds_every_kind() -> None:
    deep: list[object] = []
    node = deep
    for _ in range(100_000):  # far past the interpreter's recursion limit
        node.append([])
        node = node[0]  # type: ignore[assignment]
    assert limits.scan(deep)[0].message == limits.depth_message()
    found = limits.scan({"a": [1.0, math.nan], "u": "https://x@h/p", "ok": "x"})
    assert [b.path for b in found] == [("a", 1), ("u",)]


def test_docs_security_names_every_limit_and_every_test_it_cites() -> None:
    import re

    root = Path(__file__).parents[1]
    doc = (root / "docs" / "security.md").read_text()
    for limit in limits.TABLE:
        assert f"| {limit.name} |" in doc, limit.name
    for path in set(re.findall(r"(tests/[\w/]+\.py)::", doc)):
        assert (root / path).is_file(), path
    files = {p.name: p.read_text() for p in (root / "tests").rglob("test_*.py")}
    for name in re.findall(r"::(test_\w+)", doc):
        assert any(f"def {name}(" in text for text in files.values()), name
