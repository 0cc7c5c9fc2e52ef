"""The write lock: cross-platform (filelock), with a clear error when it stays held."""

from __future__ import annotations

import ast
import threading
from pathlib import Path

import pytest

import modelreg
from modelreg.errors import ConflictError
from modelreg.lockfile import exclusive

POSIX_ONLY = {"fcntl", "termios", "pwd", "grp", "resource", "posix"}


def test_a_held_lock_makes_a_second_writer_wait_then_fail_clearly(tmp_path: Path) -> None:
    path = tmp_path / "modelreg.lock"
    held, release = threading.Event(), threading.Event()

    def holder() -> None:
        with exclusive(path, timeout=5):
            held.set()
            release.wait(10)

    t = threading.Thread(target=holder)
    t.start()
    try:
        assert held.wait(10)
        with (
            pytest.raises(ConflictError, match=r"modelreg\.lock \(waited 0 s\)"),
            exclusive(path, timeout=0.05),
        ):
            pass
    finally:
        release.set()
        t.join()
    with exclusive(path, timeout=1):  # free again once released
        pass


def test_the_package_imports_no_posix_only_module() -> None:
    root = Path(modelreg.__file__).parent
    found = []
    for file in root.rglob("*.py"):
        for node in ast.walk(ast.parse(file.read_text(encoding="utf-8"))):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            found += [(file.name, n) for n in names if n.split(".")[0] in POSIX_ONLY]
    assert found == []
