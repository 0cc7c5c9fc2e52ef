"""Publishing a write: one commit, pushed to the remote, or put on a new branch for review.

Writers in different clones meet at ``git push``. A push the remote rejects
because its branch moved on (someone else pushed first) is met by fetching,
moving the local branch to the new remote tip and running the same operation
again there: a version registered meanwhile elsewhere makes this one the
next number. Between attempts a writer waits a random, growing time
(:mod:`modelreg.backoff`, full jitter) so that many writers colliding at once
spread out; it gives up when the push timeout (``git.push_timeout`` of
modelreg.yaml, ``--push-timeout``) would pass before the next attempt. Never
a force push; the commit of a rejected attempt leaves the branch (only the
reflog remembers it) and the artifacts that attempt uploaded are removed, so
nothing is published twice.

The flow does not fetch before the first push: it trusts the remote-tracking
branch (``refs/remotes/REMOTE/BRANCH``) and pays one fetch only when a push is
rejected. A local branch behind that tracking branch is fast-forwarded first;
one with commits of its own that the remote lacks is refused, since a retry
would have to drop them.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Generic, TypeVar

from modelreg.backoff import Backoff
from modelreg.errors import ArtifactExistsError, ConflictError, GitError, ModelregError
from modelreg.gitstore import GitStore, remote

if TYPE_CHECKING:
    from modelreg.artifacts import ArtifactBatch
    from modelreg.config import GitConfig
    from modelreg.manifest import Model
    from modelreg.transaction import Transaction

T = TypeVar("T")


@dataclass(frozen=True)
class Published(Generic[T]):
    """What :meth:`Registry.publish` did.

    ``value`` is what the operation returned (from its last, published run);
    ``commit`` the commit made (None: the operation changed nothing, nothing was
    pushed); ``branch`` the local branch holding it; ``base`` the branch a new
    review branch was made from (None when the change went onto the current
    branch); ``remote`` the remote pushed to (None: not pushed); ``retries`` how
    often the operation ran again on a newer remote tip; ``pull_request`` a link
    to open a pull request, when the remote is a host whose links are known.
    """

    value: T
    commit: str | None
    branch: str
    base: str | None = None
    remote: str | None = None
    retries: int = 0
    pull_request: str | None = None

    @property
    def pushed(self) -> bool:
        return self.remote is not None


@dataclass(frozen=True)
class Writer(Generic[T]):
    """What publishing needs of the registry: where its git lives and which remote to
    push to, how to open a transaction, the operation to run in it, and how to read a
    model as the branch now has it."""

    store: GitStore
    git: GitConfig  # the remote, and the defaults of push and its timeout
    begin: Callable[[], AbstractContextManager[Transaction]]
    op: Callable[[Transaction], T]
    get: Callable[[str], Model]

    @property
    def remote(self) -> str:
        return self.git.remote


@dataclass
class _Attempt:
    commit: str | None = None
    batches: list[ArtifactBatch] = field(default_factory=list)
    models: list[str] = field(default_factory=list)


def publish(
    writer: Writer[T],
    *,
    push: bool | None = None,
    branch: str | None = None,
    retries: int | None = None,
    timeout: float | None = None,
) -> Published[T]:
    """See :meth:`modelreg.registry.Registry.publish`."""
    push = writer.git.push if push is None else push
    timeout = writer.git.push_timeout if timeout is None else timeout
    if retries is not None and retries < 0:
        raise ValueError("retries must be 0 or more")
    if timeout < 0:
        raise ValueError("the push timeout must be 0 or more seconds")
    with writer.store.lock():  # held throughout: no writer of this clone slips in between
        if branch is not None:
            return _on_new_branch(writer, branch, push=push)
        if not push:
            value, attempt = _attempt(writer)
            return Published(value, attempt.commit, _branch_or_head(writer.store))
        return _pushed(writer, retries=retries, timeout=timeout)


def _attempt(writer: Writer[T]) -> tuple[T, _Attempt]:
    """Run the operation as one transaction; the commit it made, with its uploads."""
    with writer.begin() as tx:  # one commit for the whole op
        value = writer.op(tx)
    if tx.committed is None:
        return value, _Attempt()
    return value, _Attempt(tx.committed, list(tx.batches), tx.touched)


def _branch_or_head(store: GitStore) -> str:
    try:
        return remote.current_branch(store)
    except GitError:
        return "HEAD"


def _pushed(writer: Writer[T], *, retries: int | None, timeout: float) -> Published[T]:
    store = writer.store
    name = writer.remote
    remote.remote_url(store, name)  # a clear error before anything is written
    branch = remote.current_branch(store)
    base = _start_point(store, name, branch)
    backoff = Backoff(timeout)
    tries = 0

    def again() -> bool:
        """Another attempt may start (after a jittered wait)."""
        return (retries is None or tries < retries) and backoff.wait()

    attempt: _Attempt | None = None
    while True:
        if attempt is None:
            try:
                value, attempt = _attempt(writer)
            except ArtifactExistsError:
                # On a store the clones share, another clone may have taken this version
                # number (and its upload path) first: if the remote moved on, the same
                # operation runs again on its tip, as after a rejected push.
                tip = remote.fetch(store, name, branch)
                if not _moved_on(store, base, tip) or not again():
                    raise
                assert tip is not None
                remote.move_branch(store, tip)
                tries += 1
                base = tip
                continue
        if attempt.commit is None:
            return Published(value, None, branch)
        outcome = remote.push(store, name, branch)
        if outcome.ok:
            return Published(value, attempt.commit, branch, remote=name, retries=tries)
        kept = (
            f"the change is committed locally as {attempt.commit[:12]} on {branch}: "
            f"push it later with `git push {name} {branch}`, or drop it with "
            "`git reset --keep HEAD~1`"
        )
        if not outcome.rejected:
            raise GitError(f"pushing {branch} to {name} failed: {outcome.message}; {kept}")
        tip = remote.fetch(store, name, branch)
        if tip is not None and tip == base and outcome.lock_race and again():
            # another push held the remote's ref lock and may not have landed yet:
            # the same commit, pushed again after a moment
            tries += 1
            continue
        if tip is None or tip == base:
            # nobody else moved the branch: the remote refused this very change
            raise GitError(f"{name} refused the push of {branch}: {outcome.message}; {kept}")
        if base is None or not remote.is_ancestor(store, base, tip):
            raise ConflictError(
                f"{name}/{branch} now has a history that does not contain this clone's "
                f"(rewritten or unrelated); nothing is moved: {kept}"
            )
        try:
            remote.move_branch(store, tip)  # the attempt's commit leaves the branch, unpublished
        except ConflictError as exc:
            raise ConflictError(f"{exc}; {kept}") from None
        _discard_uploads(writer, attempt)
        if not again():
            raise ConflictError(
                f"{name}/{branch} moved on {tries + 1} time(s) in {backoff.elapsed:.1f}s "
                f"while this change was being pushed ({_bound(retries, timeout)}); nothing "
                f"was published (this clone is now at {tip[:12]}): try again, or allow more "
                "time with --push-timeout (git.push_timeout in modelreg.yaml)"
            )
        tries += 1
        base = tip
        attempt = None  # the same operation runs again, on the new tip


def _bound(retries: int | None, timeout: float) -> str:
    limit = f"push timeout {timeout:g}s"
    return limit if retries is None else f"{limit}, at most {retries} retries"


def _moved_on(store: GitStore, base: str | None, tip: str | None) -> bool:
    """The remote's tip moved forward from ``base`` (fetched as ``tip``)."""
    return (
        tip is not None
        and base is not None
        and tip != base
        and remote.is_ancestor(store, base, tip)
    )


def _start_point(store: GitStore, name: str, branch: str) -> str | None:
    """The remote tip the first attempt builds on (None: the remote lacks the branch and
    the push creates it), after fast-forwarding a local branch that is behind it."""
    tracking = remote.local_tip(store, f"refs/remotes/{name}/{branch}")
    if tracking is None:
        tracking = remote.fetch(store, name, branch)
        if tracking is None:
            return None
    head = store.head()
    if head == tracking:
        return tracking
    if head is None or remote.is_ancestor(store, head, tracking):
        remote.move_branch(store, tracking)
        return tracking
    ahead = remote.count_between(store, tracking, head)
    behind = remote.count_between(store, head, tracking)
    state = f"has diverged from {name}/{branch}" if behind else "is ahead of " + f"{name}/{branch}"
    raise ConflictError(
        f"{branch} {state} ({ahead} local commit(s) not on the remote): push or rebase them "
        f"first (git pull --rebase {name} {branch} && git push {name} {branch}), "
        "or write without --push"
    )


def _discard_uploads(writer: Writer[T], attempt: _Attempt) -> None:
    """Remove what a discarded attempt uploaded, except files the new tip refers to
    (another clone may have reused the very same bytes at the same place)."""
    if not any(b.uploaded for b in attempt.batches):
        return
    keep: set[str] = set()
    for model_id in attempt.models:
        with contextlib.suppress(ModelregError):
            model = writer.get(model_id)
            keep.update(a.uri for v in model.versions for a in v.artifacts.values())
    for batch in attempt.batches:
        batch.rollback(keep)


def _on_new_branch(writer: Writer[T], name: str, *, push: bool) -> Published[T]:
    """Commit on a new branch ``name`` made at HEAD; the checkout returns to where it was."""
    store = writer.store
    remote.check_branch_name(store, name)
    if remote.local_tip(store, f"refs/heads/{name}") is not None:
        raise ConflictError(f"a branch named {name!r} already exists: choose another name")
    base = remote.current_branch(store)
    origin = writer.remote
    url = None
    if push:
        url = remote.remote_url(store, origin)
        if remote.remote_has_branch(store, origin, name):
            raise ConflictError(
                f"{origin} already has a branch named {name!r}: choose another name"
            )
    remote.switch(store, name, create=True)
    attempt: _Attempt | None = None
    try:
        value, attempt = _attempt(writer)
    finally:
        remote.switch(store, base)
        if attempt is None or attempt.commit is None:
            remote.delete_branch(store, name)
    if attempt.commit is None:
        return Published(value, None, base)
    if not push:
        return Published(value, attempt.commit, name, base=base)
    outcome = remote.push(store, origin, name, set_upstream=True)
    if not outcome.ok:
        raise GitError(
            f"pushing branch {name} to {origin} failed: {outcome.message}; the change is "
            f"committed on the local branch {name} ({attempt.commit[:12]}): push it later "
            f"with `git push -u {origin} {name}`"
        )
    assert url is not None
    return Published(
        value,
        attempt.commit,
        name,
        base=base,
        remote=origin,
        pull_request=pull_request_url(url, base, name),
    )


_HOSTED = re.compile(
    r"^(?:(?:https?|ssh)://)?(?:[^@/]+@)?(?P<host>github\.com|gitlab\.com)[:/]"
    r"(?P<path>[^\s]+?)(?:\.git)?/?$"
)


def pull_request_url(remote_url: str, base: str, branch: str) -> str | None:
    """The page that opens a pull (merge) request from ``branch`` into ``base`` on
    github.com or gitlab.com; None for other hosts."""
    from urllib.parse import quote

    found = _HOSTED.match(remote_url)
    if found is None:
        return None
    host, path = found["host"], found["path"]
    if host == "github.com":
        return f"https://github.com/{path}/compare/{quote(base)}...{quote(branch)}?expand=1"
    return (
        f"https://gitlab.com/{path}/-/merge_requests/new"
        f"?merge_request%5Bsource_branch%5D={quote(branch)}"
        f"&merge_request%5Btarget_branch%5D={quote(base)}"
    )
