"""The README's examples are executed, so they cannot drift from the product.

- the ``bash`` session under "The CLI" runs as it stands in a temporary folder;
- the ``python`` library example runs in a fresh registry;
- the example manifest is committed to a registry and passes ``modelreg validate``;
- every other ``modelreg ...`` line of the README and docs/ names a real command and
  real options (parsed by the CLI itself).
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from modelreg import Registry
from tests.conftest import git

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
DOCS = [README, *sorted((ROOT / "docs").glob("*.md"))]
BLOCK = re.compile(r"^```(\w*)\n(.*?)^```", re.S | re.M)


def blocks(path: Path, lang: str) -> list[str]:
    return [body for kind, body in BLOCK.findall(path.read_text(encoding="utf-8")) if kind == lang]


def cli_session() -> str:
    (session,) = [b for b in blocks(README, "bash") if b.startswith("modelreg init")]
    return session


def test_the_readme_cli_session_runs_as_written(tmp_path: Path) -> None:
    (tmp_path / "model.bst").write_bytes(b"booster bytes")
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    done = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", cli_session()],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    reg = Registry.open(tmp_path / "my-registry")
    model = reg.get("churn-xgb")
    assert model.production is not None and model.production.label == "v1.2.0"
    assert "q4" in model.tags
    assert [m.id for m in reg.list().items] == ["churn-xgb"]


def test_the_readme_library_example_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # the library section's example (the fetch example names a remote registry)
    (snippet,) = [b for b in blocks(README, "python") if "from modelreg import Query" in b]
    reg = Registry.init(tmp_path / "reg")
    git(reg.root, "tag", "v1.0")
    (reg.root / "model.bst").write_bytes(b"booster bytes")
    monkeypatch.chdir(reg.root)
    exec(compile(snippet, "README.md", "exec"), {})  # the example, as a user pastes it
    model = Registry.open(reg.root).get("churn-xgb")
    assert [v.version for v in model.versions] == [1, 2]
    assert model.versions[0].artifacts["model"].size == len(b"booster bytes")


def test_the_readme_manifest_validates(tmp_path: Path, run_cli) -> None:  # type: ignore[no-untyped-def]
    (manifest,) = [b for b in blocks(README, "yaml") if "kind: Model" in b]
    reg = Registry.init(tmp_path / "reg")  # its modelreg.yaml has the gpu-a100-40gb profile
    path = reg.root / "models" / "churn-xgb" / "model.yaml"
    path.parent.mkdir()
    path.write_text(manifest)
    git(reg.root, "add", "-A")
    git(reg.root, "commit", "-qm", "the README's manifest")
    r = run_cli("-R", str(reg.root), "validate")
    assert r.code == 0, r.out + r.err
    model = Registry.open(reg.root).get("churn-xgb")
    assert model.deployment is not None and model.deployment.challenger is not None
    assert model.version(model.deployment.challenger.version) is not None


def documented_commands() -> list[tuple[str, str]]:
    found = []
    for path in DOCS:
        for body in blocks(path, "bash") + blocks(path, ""):
            text = body.replace("\\\n", " ")
            for line in text.splitlines():
                line = line.strip()
                if not line.startswith("modelreg ") or "[" in line.split("#")[0]:
                    continue  # a synopsis with [OPTIONAL] parts is not a command line
                for part in line.split("#")[0].split(";"):
                    found.append((path.name, part.strip()))
    return found


@pytest.mark.parametrize(("doc", "line"), documented_commands())
def test_documented_commands_name_real_options(doc: str, line: str, run_cli) -> None:  # type: ignore[no-untyped-def]
    args = shlex.split(line)[1:]
    # --help is eager: the parser still rejects an unknown command or option first
    r = run_cli(*args, "--help")
    assert r.code == 0, f"{doc}: {line}\n{r.err}"
