"""Who makes a commit, and when: as git decides it (environment, then configuration).

Pure: values come in as mappings (the environment, git's configuration), a
:class:`Person` comes out. Names and e-mails are cleaned the way git's
``ident.c`` cleans them, so a name such as ``Build Bot <bot@ci>`` or one with a
newline yields a well-formed commit, the same one ``git commit`` makes.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass

from modelreg.errors import GitError

# git's "crud": stripped from both ends of a name or e-mail
_CRUD = frozenset(chr(c) for c in range(33)) | frozenset(",:;<>\"\\'")


def clean(value: str) -> str:
    """``value`` as git writes it into a commit: crud trimmed from both ends,
    and the delimiters of an identity line (newline, ``<``, ``>``) dropped."""
    start, end = 0, len(value)
    while start < end and value[start] in _CRUD:
        start += 1
    while end > start and value[end - 1] in _CRUD:
        end -= 1
    return "".join(c for c in value[start:end] if c not in "\n<>")


@dataclass(frozen=True)
class Person:
    """A cleaned name and e-mail with a time (seconds) and a UTC offset (minutes)."""

    name: str
    email: str
    time: int
    offset: int


def local_offset(when: float) -> int:
    """The local UTC offset at ``when``, in minutes (as git writes a local date)."""
    return (time.localtime(when).tm_gmtoff or 0) // 60


def parse_ident(line: str) -> Person:
    """A ``git var GIT_AUTHOR_IDENT`` line: ``Name <email> 1700000000 +0100``."""
    who, _, when = line.strip().rpartition("> ")
    name, _, email = who.partition(" <")
    seconds, _, zone = when.partition(" ")
    sign = -1 if zone.startswith("-") else 1
    digits = zone.lstrip("+-").rjust(4, "0")
    return Person(name, email, int(seconds), sign * (int(digits[:2]) * 60 + int(digits[2:])))


def needs_git_dates(env: Mapping[str, str]) -> bool:
    """Whether a date is given in the environment (git parses its many formats)."""
    return any(env.get(f"GIT_{role}_DATE") for role in ("AUTHOR", "COMMITTER"))


def person(role: str, env: Mapping[str, str], config: Mapping[str, str], now: float) -> Person:
    """Author (``role="AUTHOR"``) or committer as git would record them at ``now``.

    Raises :class:`GitError` when git would not know who commits (``user.name`` or
    ``user.email`` unset, or nothing left after cleaning).
    """
    name = env.get(f"GIT_{role}_NAME")
    if name is None:
        name = config.get("user.name")
    email = env.get(f"GIT_{role}_EMAIL")
    if email is None:
        email = env.get("EMAIL") if "user.email" not in config else config["user.email"]
    if name is None or email is None:
        missing = "user.name" if name is None else "user.email"
        raise GitError(
            f"git does not know who you are ({missing} is not set): run "
            f"`git config --global {missing} ...`, or set GIT_{role}_NAME and "
            f"GIT_{role}_EMAIL"
        )
    name, email = clean(name), clean(email)
    if not name:
        raise GitError(f"empty git {role.lower()} name: set user.name to a real name")
    return Person(name, email, int(now), local_offset(now))


def message(text: str) -> str:
    """A commit message cleaned as ``git commit -m`` cleans it ("whitespace" mode):
    trailing spaces dropped, runs of blank lines made one, none at either end,
    one final newline."""
    lines = [line.rstrip() for line in text.splitlines()]
    out: list[str] = []
    for line in lines:
        if not line and (not out or not out[-1]):
            continue
        out.append(line)
    while out and not out[-1]:
        out.pop()
    return "\n".join(out) + "\n" if out else ""
