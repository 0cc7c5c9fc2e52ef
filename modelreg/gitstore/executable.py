"""The ``git`` executable: the one way modelreg starts git.

Used where git itself must act: remotes (the user's credential helpers and ssh
config apply), history queries git answers best (log, blame, merge-base, diff),
the configuration as git reads it, and commits in repositories that ask for
what libgit2 does not do (see :mod:`modelreg.gitstore.features`). Each command is
one process started here; GitPython (its ``Repo``, for remotes and checkouts) is
not loaded to start one, which would cost a cold command 0.15 s of imports.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Done:
    """What one git command answered."""

    code: int
    out: str
    err: str

    @property
    def ok(self) -> bool:
        return self.code == 0

    def last_words(self) -> str:
        """git's message without hints, on one line."""
        lines = [
            line.strip().removeprefix("stderr: ").strip("'")
            for line in self.err.strip().splitlines()
            if line.strip() and not line.strip().startswith("hint:")
        ]
        return "; ".join(lines) or "git gave no reason"


class Git:
    """``git`` run in one working tree (or bare git folder)."""

    def __init__(self, cwd: Path) -> None:
        self.cwd = cwd

    def run(self, *args: str, env: Mapping[str, str] | None = None) -> Done:
        """``git ARGS``, standard input closed: exit code, output and error text
        (undecodable bytes kept as surrogates, so odd file names survive the round trip)."""
        return self._started(args, env, None)

    def feed(self, *args: str, data: bytes, env: Mapping[str, str] | None = None) -> Done:
        """``git ARGS`` reading ``data`` on its standard input."""
        return self._started(args, env, data)

    def _started(
        self, args: tuple[str, ...], env: Mapping[str, str] | None, data: bytes | None
    ) -> Done:
        # git's messages in English, as they are quoted and parsed (GitPython does the
        # same); its own environment variables pass through
        full = {**os.environ, "LANGUAGE": "C", "LC_ALL": "C", **(env or {})}
        try:
            done = subprocess.run(
                ["git", *args],
                cwd=self.cwd,
                env=full,
                input=data,
                stdin=subprocess.DEVNULL if data is None else None,
                capture_output=True,
                check=False,
            )
        except OSError as exc:  # no git on PATH, or the folder is gone
            return Done(127, "", f"could not start git: {exc}")
        return Done(
            done.returncode,
            done.stdout.decode("utf-8", "surrogateescape"),
            done.stderr.decode("utf-8", "surrogateescape").removesuffix("\n"),
        )

    def config(self) -> dict[str, str]:
        """Every configuration value git sees here (last one wins), keys lower-cased
        as git prints them: system, global, local and worktree files, includes and
        ``GIT_CONFIG_*`` alike."""
        done = self.run("config", "--list", "-z")
        values: dict[str, str] = {}
        for item in done.out.split("\0"):
            if item:
                key, _, value = item.partition("\n")
                values[key] = value
        return values
