"""The ``git`` executable, through GitPython: the one way modelreg starts git.

Used where git itself must act: remotes (the user's credential helpers and ssh
config apply), history queries git answers best (log, blame, merge-base, diff),
the configuration as git reads it, and commits in repositories that ask for
what libgit2 does not do (see :mod:`modelreg.gitstore.features`).
"""

from __future__ import annotations

import subprocess
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import git


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
    """``git`` run in one working tree (or bare git folder), standard input closed."""

    def __init__(self, cwd: Path) -> None:
        self.cwd = cwd
        self._git: git.Git | None = None

    @property
    def command(self) -> git.Git:
        """GitPython's command object (loaded on first use)."""
        if self._git is None:
            import git

            self._git = git.Git(self.cwd)
        return self._git

    def run(self, *args: str, env: Mapping[str, str] | None = None) -> Done:
        """``git ARGS``: exit code, output and error text (undecodable bytes kept as
        surrogates, so odd file names survive the round trip)."""
        code, out, err = self.command.execute(
            ["git", *args],
            istream=subprocess.DEVNULL,
            with_extended_output=True,
            with_exceptions=False,
            strip_newline_in_stdout=False,
            env=dict(env) if env else None,
        )
        return Done(int(code), str(out), str(err))

    def feed(self, *args: str, data: bytes) -> Done:
        """``git ARGS`` reading ``data`` on its standard input (output decoded as
        :meth:`run` decodes it)."""
        done = subprocess.run(
            ["git", *args], cwd=self.cwd, input=data, capture_output=True, check=False
        )
        return Done(
            done.returncode,
            done.stdout.decode("utf-8", "surrogateescape"),
            done.stderr.decode("utf-8", "surrogateescape"),
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
