"""What a merge changed, as CloudEvents 1.0 (JSON format). Pure.

One event per change of :func:`modelreg.events.between` between the two sides of
a comparison: a version registered, a stage moved, an alias moved, a deployment.
Ids are derived from the head commit, the model and the change, so the same merge
emitted twice gives the same ids (a consumer can drop duplicates).
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from modelreg.events import Event

SPEC_VERSION = "1.0"
PREFIX = "dev.modelreg."
TYPES = {
    "created": "model.created",
    "deleted": "model.deleted",
    "metadata": "model.updated",
    "archived": "model.archived",
    "unarchived": "model.unarchived",
    "registered": "version.registered",
    "stage": "version.stage.moved",
    "version-edited": "version.updated",
    "alias": "version.alias.moved",
    "deployed": "model.deployed",
    "undeployed": "model.undeployed",
}


@dataclass(frozen=True)
class Change:
    """One event of one model, with the commit that made it known."""

    model_id: str
    event: Event


def event_type(kind: str) -> str:
    """``registered`` -> ``dev.modelreg.version.registered``."""
    return PREFIX + TYPES.get(kind, "model." + kind)


def cloudevent(
    change: Change, *, source: str, base: str, head: str, time: dt.datetime | None
) -> dict[str, Any]:
    """One CloudEvent (structured JSON mode)."""
    e = change.event
    subject = change.model_id if e.version is None else f"{change.model_id}@{e.version}"
    digest = hashlib.sha256(f"{head}\0{subject}\0{e}".encode()).hexdigest()[:32]
    doc: dict[str, Any] = {
        "specversion": SPEC_VERSION,
        "id": digest,
        "source": source,
        "type": event_type(e.kind),
        "subject": subject,
        "datacontenttype": "application/json",
        "data": {"model": change.model_id, **e.to_dict(), "base": base, "commit": head},
    }
    if time is not None:
        doc["time"] = time.astimezone(dt.timezone.utc).isoformat().replace("+00:00", "Z")
    return doc


def cloudevents(
    changes: Iterable[Change],
    *,
    source: str,
    base: str,
    head: str,
    time: dt.datetime | None = None,
) -> list[dict[str, Any]]:
    """Every change as a CloudEvent, in the order given."""
    return [cloudevent(c, source=source, base=base, head=head, time=time) for c in changes]
