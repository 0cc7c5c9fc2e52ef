"""The registry's one-commit writes: each a method of :class:`~modelreg.transaction.
Transaction`, called in a transaction of its own (none inside a larger one).

Built on first use, so that a process that only reads never imports the writing code.
"""

from __future__ import annotations

import functools
import types
from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING, Any, Concatenate, ParamSpec, Protocol, TypeVar

if TYPE_CHECKING:
    from modelreg.transaction import Transaction

T = TypeVar("T")
P = ParamSpec("P")

# the transaction's methods the registry offers as one-commit writes
NAMES = (
    "create_model",
    "register_version",
    "add_version",
    "update",
    "set_stage",
    "set_alias",
    "remove_alias",
    "update_version",
    "archive",
    "unarchive",
    "delete",
)


class Transactional(Protocol):
    def transaction(self, message: str | None = None) -> AbstractContextManager[Transaction]: ...


def one_commit(
    write: Callable[Concatenate[Transaction, P], T],
) -> Callable[Concatenate[Transactional, P], T]:
    """``write`` called on a transaction of its own: the same arguments, one commit."""

    @functools.wraps(write)
    def call(owner: Transactional, /, *args: P.args, **kwargs: P.kwargs) -> T:
        with owner.transaction() as tx:
            return write(tx, *args, **kwargs)

    return call


class OneCommit:
    """A class attribute behaving as the method :func:`one_commit` of the transaction's
    method ``name`` makes, made when first looked up."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.call: Callable[..., Any] | None = None

    def __get__(self, owner: object, cls: type | None = None) -> Callable[..., Any]:
        if self.call is None:
            from modelreg.transaction import Transaction

            self.call = one_commit(getattr(Transaction, self.name))
        return self.call if owner is None else types.MethodType(self.call, owner)


def install(cls: type) -> None:
    """Give ``cls`` (which has a ``transaction()`` context) every write of :data:`NAMES`."""
    for name in NAMES:
        setattr(cls, name, OneCommit(name))
