"""Helpers for the pull-request tests: edit manifests by hand and commit them with git."""

from __future__ import annotations

from pathlib import Path

from tests.conftest import git, head

MANIFEST = "models/churn-xgb/model.yaml"

VERSION_3 = """\
- version: 3
  label: v1.2.0
  description: Hand-written
  stage: staging
  created_at: 2026-01-01T00:00:00Z
  metrics:
    accuracy: 0.95
"""


def commit(root: Path, message: str) -> str:
    """Stage everything under ``root``'s repository and commit; the new commit's id."""
    git(root, "add", "-A")
    git(root, "commit", "-qm", message)
    return head(root)


def edit(path: Path, old: str, new: str) -> str:
    """Replace ``old`` (which must be there) by ``new`` in the file; the new text."""
    text = path.read_text()
    assert old in text, f"{old!r} not in {path}"
    text = text.replace(old, new, 1)
    path.write_text(text)
    return text


def append(path: Path, block: str) -> str:
    text = path.read_text() + block
    path.write_text(text)
    return text


def line_of(text: str, needle: str, start: int = 0) -> int:
    """1-based line number of the first line containing ``needle`` at or after line ``start``."""
    for i, line in enumerate(text.splitlines(), 1):
        if i > start and needle in line:
            return i
    raise AssertionError(f"{needle!r} not found")


def branch(root: Path, name: str) -> None:
    """Check out a new branch ``name`` from the current one."""
    git(root, "checkout", "-qb", name)
