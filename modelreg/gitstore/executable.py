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
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path


def _environment(env: Mapping[str, str] | None) -> dict[str, str]:
    # git's messages in English, as they are quoted and parsed (GitPython does the
    # same); its own environment variables pass through
    return {**os.environ, "LANGUAGE": "C", "LC_ALL": "C", **(env or {})}


def _answer(code: int, out: bytes, err: bytes) -> Done:
    # undecodable bytes kept as surrogates, so odd file names survive the round trip
    return Done(
        code,
        out.decode("utf-8", "surrogateescape"),
        err.decode("utf-8", "surrogateescape").removesuffix("\n"),
    )


class Running:
    """One git command fed its input by a thread of its own (see :meth:`Git.start`)."""

    def __init__(
        self, cwd: Path, args: tuple[str, ...], env: Mapping[str, str] | None, data: bytes
    ) -> None:
        self._done: Done | None = None
        try:
            self._process: subprocess.Popen[bytes] | None = subprocess.Popen(
                ["git", *args],
                cwd=cwd,
                env=_environment(env),
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
            )
        except OSError as exc:  # no git on PATH, or the folder is gone
            self._process = None
            self._done = Done(127, "", f"could not start git: {exc}")
            return
        self._thread = threading.Thread(target=self._talk, args=(data,), daemon=True)
        self._thread.start()

    def _talk(self, data: bytes) -> None:
        assert self._process is not None
        try:
            out, err = self._process.communicate(data)
        except OSError as exc:
            self._process.kill()
            self._process.wait()
            self._done = Done(1, "", f"could not talk to git: {exc}")
            return
        self._done = _answer(self._process.returncode, out, err)

    @property
    def pid(self) -> int | None:
        """The process's id (None: it could not be started)."""
        return None if self._process is None else self._process.pid

    def wait(self) -> Done:
        """What git answered, once it has ended."""
        if self._process is not None:
            self._thread.join()
        assert self._done is not None
        return self._done


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
        try:
            done = subprocess.run(
                ["git", *args],
                cwd=self.cwd,
                env=_environment(env),
                stdin=subprocess.DEVNULL,
                capture_output=True,
                check=False,
            )
        except OSError as exc:  # no git on PATH, or the folder is gone
            return Done(127, "", f"could not start git: {exc}")
        return _answer(done.returncode, done.stdout, done.stderr)

    def feed(self, *args: str, data: bytes, env: Mapping[str, str] | None = None) -> Done:
        """``git ARGS`` reading ``data`` on its standard input."""
        return self.start(*args, data=data, env=env).wait()

    def start(self, *args: str, data: bytes, env: Mapping[str, str] | None = None) -> Running:
        """``git ARGS`` reading ``data``, run while the caller goes on: a thread feeds
        it and collects what it prints; :meth:`Running.wait` gives the answer."""
        return Running(self.cwd, args, env, data)

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
