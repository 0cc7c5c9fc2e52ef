"""A transaction: changes to models gathered, rendered, checked and committed as one commit.

A transaction reads through a snapshot of the working tree with its own pending
changes laid over it, so a write sees the writes before it. :meth:`commit`
renders each touched manifest once (:mod:`modelreg.render`), checks it with the
rules (:mod:`modelreg.rules`) and asks the git store for one commit;
:meth:`rollback` removes what the transaction uploaded. As a context manager it
commits when the block ends and rolls back when it raises; holding the writer's lock
is the opener's business (:meth:`Registry.transaction`).
"""

from __future__ import annotations

import datetime as dt
import gc
import os
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any, TypedDict, TypeVar

from modelreg import aliases, cards, limits, lineage, render, retired, rules, yamlio
from modelreg.cache import Head, Point
from modelreg.config import RegistryConfig
from modelreg.errors import ConflictError, NotFoundError, RuleViolationError
from modelreg.gitstore import GitStore, blob_id
from modelreg.layout import manifest_path
from modelreg.listing import Listed
from modelreg.manifest import Artifact, Lineage, Model, Version, id_errors
from modelreg.query import Page, Query, Summary, apply
from modelreg.refs import VersionRef, select
from modelreg.snapshot import Snapshot, dump, listed
from modelreg.vocabulary import METADATA_FIELDS, Stage
from modelreg.wording import explain

if TYPE_CHECKING:
    from typing_extensions import Unpack

    from modelreg.artifacts import ArtifactBatch, ArtifactStore, ProgressFactory
    from modelreg.manifest import Deployment, Training

MAX_MESSAGE_LINES = 50
GC_SPACING = (20_000, 1_000, 1_000)
"""Python's garbage collection thresholds while a transaction is open (the defaults are
700, 10, 10): a transaction of thousands of versions builds thousands of models, which
the older generations' collections would otherwise walk again and again (half of the
time of reading 10,000 cached models). Young garbage is still collected."""


class ModelFields(TypedDict, total=False):
    """The fields of a new model besides its id (``name`` and ``framework`` are needed)."""

    name: str
    framework: str
    description: str
    type: str | None
    source: str | None
    owner: str | None
    organization: str | None
    workspace: str | None
    customer: str | None
    tags: Sequence[str]
    labels: Mapping[str, str]
    annotations: Mapping[str, Any]


class VersionFields(TypedDict, total=False):
    """What a new version may bring; its number and creation time are the registry's."""

    label: str | None
    description: str | None
    metrics: Mapping[str, float] | None
    hyperparameters: Mapping[str, Any] | None
    training: Training | Mapping[str, Any] | None
    artifacts: Mapping[str, Artifact | str | os.PathLike[str]] | None
    stage: Stage | str
    tags: Sequence[str]
    labels: Mapping[str, str] | None
    annotations: Mapping[str, Any] | None
    lineage: Lineage | Mapping[str, Any] | None
    hash: bool
    progress: ProgressFactory | None


def now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc).replace(microsecond=0)


class Transaction:
    """Pending changes over ``base`` (a working-tree snapshot), committed to ``store``.

    ``artifacts`` gives the artifact store (asked only when a version brings local
    files); ``title`` heads the message of a commit of several changes.
    """

    def __init__(
        self,
        base: Snapshot,
        store: GitStore,
        *,
        artifacts: Callable[[], ArtifactStore],
        title: str | None = None,
    ) -> None:
        self.base = base
        self.store = store
        self.config: RegistryConfig = base.config
        self.title = title
        self._artifacts = artifacts
        self.models: dict[str, Model | None] = {}  # state after the writes (None: deleted)
        self.files: dict[str, bytes | None] = {}  # other files (deploy specs); None: removed
        self.messages: list[str] = []
        self.batches: list[ArtifactBatch] = []  # uploads, removed again on rollback
        self.committed: str | None = None  # the commit made, once made
        # each manifest read as stored: its bytes, model and append point, read once
        # for the writes and for the commit
        self._stored: dict[str, tuple[bytes, Model, Point]] = {}
        # versions appended to a stored manifest whose model was never built: a model
        # only appended to is written from what its head (below) says, at any size
        self._tails: dict[str, list[Version]] = {}
        self._heads: dict[str, tuple[bytes, Head]] = {}  # bytes and head, read once
        self._gc_before = gc.get_threshold()  # the collector's setting before the block

    # ------------------------------------------------------------- reading

    def read_bytes(self, relpath: str) -> bytes | None:
        """A file as it will be committed (pending files first, then the working tree)."""
        if relpath in self.files:
            return self.files[relpath]
        return self.base.read_bytes(relpath)

    def retired_numbers(self) -> dict[str, int] | None:
        """The record of retired numbers as it will be committed (see
        :meth:`Snapshot.retired_numbers`)."""
        data = self.read_bytes(retired.RETIRED_FILE)
        if data is None:
            return None
        return retired.load(data, self.base.repo_path(retired.RETIRED_FILE))[0]

    def files_under(self, folder: str) -> list[str]:
        """The files below ``folder`` as the working tree has them."""
        return self.base.files_under(folder)

    def _as_stored(self, model_id: str) -> tuple[bytes, Model, Point] | None:
        """The manifest's bytes, model and append point in the working tree (read once),
        None if there is none."""
        found = self._stored.get(model_id)
        if found is None:
            head = self._heads.get(model_id)
            data = self.base.read_bytes(manifest_path(model_id)) if head is None else head[0]
            if data is None:
                return None
            model, point = self.base.parse_full(model_id, data)
            found = self._stored[model_id] = (data, model, point)
        return found

    def _head(self, model_id: str) -> tuple[bytes, Head] | None:
        """The manifest's bytes and head in the working tree (read once), None if there
        is none."""
        found = self._heads.get(model_id)
        if found is None:
            data = self.base.read_bytes(manifest_path(model_id))
            if data is None:
                return None
            found = self._heads[model_id] = (data, self.base.head(model_id, data))
        return found

    def _built(self, model_id: str) -> None:
        """Build the model of versions appended to a stored manifest (its tail): for a
        write or a read that needs more than its head."""
        added = self._tails.pop(model_id, None)
        if added is not None:
            stored = self._as_stored(model_id)
            assert stored is not None  # a tail is only begun on a stored manifest
            model = stored[1]
            self.models[model_id] = model.model_copy(update={"versions": [*model.versions, *added]})

    @property
    def touched(self) -> list[str]:
        """The ids of the models this transaction writes (or deletes)."""
        return [*self.models, *self._tails]

    def get(self, model_id: str) -> Model:
        """The model as the writes so far left it. Raises :class:`NotFoundError`."""
        self._built(model_id)
        if model_id not in self.models:
            stored = self._as_stored(model_id)
            return self.base.get(model_id) if stored is None else stored[1]
        found = self.models[model_id]
        if found is None:
            raise NotFoundError(f"no model {model_id!r} in the registry")
        return found

    def exists(self, model_id: str) -> bool:
        if model_id in self._tails:
            return True
        if model_id in self.models:
            return self.models[model_id] is not None
        return self.base.read_bytes(manifest_path(model_id)) is not None

    def all(self) -> dict[str, Model]:
        for model_id in list(self._tails):
            self._built(model_id)
        merged = dict(self.base.all())
        for model_id, model in self.models.items():
            if model is None:
                merged.pop(model_id, None)
            else:
                merged[model_id] = model
        return merged

    def models_sorted(self) -> list[Model]:
        return [m for _, m in sorted(self.all().items())]

    def page(self, query: Query | None = None) -> Page[Model]:
        return apply(self.all().values(), query or Query())

    def summaries(self, query: Query | None = None) -> Page[Summary]:
        return apply((Summary.of(m) for m in self.all().values()), query or Query())

    def list_json(self, query: Query | None = None) -> Listed:
        models = self.all()
        page = apply((Summary.of(m) for m in models.values()), query or Query())
        parts = tuple(listed(s, dump(models[s.id])) for s in page.items)
        ids = [s.id for s in page.items]
        return Listed(Page(ids, page.total, page.limit, page.offset), parts=parts)

    def documents(self, ids: Iterable[str]) -> dict[str, Mapping[str, Any]]:
        models = self.all()
        return {i: models[i].model_dump(mode="json", by_alias=True, exclude_none=True) for i in ids}

    def search_documents(self, full: bool) -> Iterator[Mapping[str, Any]]:
        """Every model, pending writes included, as the JSON data version search reads."""
        del full  # built from the models either way: no cache holds pending states
        for _, model in sorted(self.all().items()):
            yield model.model_dump(mode="json", by_alias=True, exclude_none=True)

    def resolve(self, spec: str) -> tuple[Model, Version]:
        ref = VersionRef.parse(spec)
        model = self.get(ref.model_id)
        return model, select(model, ref.selector)

    # ------------------------------------------------------------- gathering

    def put(
        self,
        model_id: str,
        model: Model | None,
        message: str,
        files: Mapping[str, bytes | None] | None = None,
    ) -> None:
        """Record the new state of one manifest (None: deleted) and other files: it
        replaces whatever state the writes before left (a tail included)."""
        self._tails.pop(model_id, None)
        self.models[model_id] = model
        self.files.update(files or {})
        self.messages.append(message)

    def write_file(self, relpath: str, data: bytes | None) -> None:
        """Write (None: remove) a file of the registry other than a manifest, such as a
        model card, in this transaction's commit."""
        self.files[relpath] = data

    def create_model(self, model_id: str, **fields: Unpack[ModelFields]) -> Model:
        """Add a new model manifest. Raises :class:`ConflictError` if it exists, and
        :class:`RuleViolationError` if ``model_id`` cannot name a model."""
        # before the id names any file
        if bad_id := "; ".join(explain(e) for e in id_errors(model_id)):
            raise RuleViolationError(f"id: {bad_id}")
        if self.exists(model_id):
            raise ConflictError(f"model {model_id!r} already exists")
        data: dict[str, Any] = {k: v for k, v in fields.items() if v is not None}
        data.update(id=model_id, tags=list(fields.get("tags", ())), created_at=now())
        numbers = self.retired_numbers()
        floor = (
            numbers.get(model_id, 0)
            if numbers is not None
            else self._retired_in_history(model_id)  # a registry without the record
        )
        if floor:
            data["first_version"] = floor + 1
        model = _validated(Model, data)
        self.put(model_id, model, f"{model_id}: create model")
        return model

    def register_version(self, model_id: str, **fields: Unpack[VersionFields]) -> Version:
        """Append a new version (its number assigned here, never reused).

        Artifacts given as local paths are uploaded to the artifact store first
        and removed again if the commit does not happen; URLs are recorded with the
        size and sha256 read from their store (``hash=False``: size only). ``progress``
        is called with (URI, total bytes) per transfer and returns a callable fed the
        bytes moved. Raises :class:`ArtifactError` when a transfer fails.

        ``lineage.parent`` may be any reference (``churn-base@champion``); it is recorded
        as the number it resolves to, and :class:`NotFoundError` is raised if it does not.
        """
        label = fields.get("label")
        archived, number = self._next(model_id)
        pinned = self._pinned(fields.get("lineage"))
        if archived:
            raise RuleViolationError(
                f"{model_id} is archived; run `modelreg unarchive {model_id}` to register versions"
            )
        stored: dict[str, Artifact] = {}
        batch = None
        for role, src in (fields.get("artifacts") or {}).items():
            if isinstance(src, Artifact):
                stored[role] = src
                continue
            if batch is None:
                batch = self._artifacts().batch(progress=fields.get("progress"))
                self.batches.append(batch)
            stored[role] = batch.add(model_id, number, role, src, hash=fields.get("hash", True))
        version = _validated(
            Version,
            {
                "version": number,
                "label": label,
                "description": fields.get("description"),
                "stage": Stage.named(fields.get("stage", Stage.NONE)),
                "created_at": now(),
                "metrics": dict(fields.get("metrics") or {}),
                "hyperparameters": dict(fields.get("hyperparameters") or {}),
                "training": fields.get("training"),
                "tags": list(fields.get("tags") or ()),
                "labels": dict(fields.get("labels") or {}),
                "annotations": dict(fields.get("annotations") or {}),
                "lineage": pinned,
                "artifacts": stored,
            },
        )
        label_txt = f" ({label})" if label else ""
        self._append(model_id, version, f"{model_id}: register version {number}{label_txt}")
        return version

    def add_version(self, model_id: str, version: Version) -> Version:
        """Append a version made elsewhere (an import), keeping its number, creation time
        and artifacts as given (artifacts are recorded, not uploaded).

        Raises :class:`RuleViolationError` when the number is not above every number the
        model has had (numbers only grow) or the model is archived. A version arriving in
        production takes the place of the current production version, as in
        :meth:`set_stage`.
        """
        archived, number = self._next(model_id)
        if archived:
            raise RuleViolationError(f"{model_id} is archived; unarchive it to register versions")
        floor = number - 1
        if version.version <= floor:
            raise RuleViolationError(
                f"{model_id}: version {version.version} cannot be added: numbers only grow "
                f"and {floor} is taken"
            )
        label_txt = f" ({version.label})" if version.label else ""
        self._append(model_id, version, f"{model_id}: add version {version.version}{label_txt}")
        return version

    def _next(self, model_id: str) -> tuple[bool, int]:
        """Whether the model is archived, and the number its next version takes: above
        every number it has had. Raises :class:`NotFoundError`."""
        found = None if model_id in self.models else self._head(model_id)
        if found is not None:
            head, added = found[1], self._tails.get(model_id)
            archived, first, last = head.archived, head.first_version, head.latest
            if added:
                last = added[-1].version
        else:
            model = self.get(model_id)
            archived, first = model.archived, model.first_version
            # versions are in ascending order (a rule checked at commit): the last is the latest
            last = model.versions[-1].version if model.versions else 0
        return archived, max(last, (first or 1) - 1) + 1

    def _append(self, model_id: str, version: Version, message: str) -> None:
        """Append ``version`` (validated on its own: the rest of the model is unchanged).
        When appending is all this transaction does to a stored manifest, the version
        joins its tail and no model is built; a version arriving in production takes the
        place of the production version, as in :meth:`set_stage`."""
        found = None if model_id in self.models else self._head(model_id)
        alone = version.stage not in (Stage.PRODUCTION, Stage.CHALLENGER)
        if alone and found is not None and found[1].point is not None:
            self._tails.setdefault(model_id, []).append(version)
            self.messages.append(message)
            return
        model = self.get(model_id)
        new = model.model_copy(update={"versions": [*model.versions, version]})
        if version.stage == Stage.PRODUCTION:
            new = self._with_stage(new, version.version, Stage.PRODUCTION)[0]
        self.put(model_id, new, message)

    def _retired_in_history(self, model_id: str) -> int:
        from modelreg.history import History  # git's log, only for a registry without the record

        return History(self.store, self.base).retired_versions(model_id)

    def _pinned(self, lineage: Lineage | Mapping[str, Any] | None) -> dict[str, Any] | None:
        """Lineage as data, its parent reference resolved to ``MODEL@NUMBER``."""
        if lineage is None:
            return None
        data = (
            lineage.model_dump(exclude_none=True) if isinstance(lineage, Lineage) else dict(lineage)
        )
        parent = data.get("parent")
        if parent:
            try:
                model, version = self.resolve(str(parent))
            except NotFoundError as exc:
                raise NotFoundError(f"parent {parent} does not resolve: {exc}") from None
            data["parent"] = f"{model.id}@{version.version}"
        return data

    def update(self, /, model_id: str, **fields: Any) -> Model:
        """Change metadata (name, description, type, framework, source, owner, organization,
        workspace, customer, tags, labels, annotations); ``None`` removes an optional field."""
        unknown = set(fields) - set(METADATA_FIELDS)
        if unknown:
            raise RuleViolationError(
                f"cannot update {', '.join(sorted(unknown))} "
                f"(updatable: {', '.join(METADATA_FIELDS)})"
            )
        model = self.get(model_id)
        if fields.get("tags") is not None:
            fields["tags"] = list(fields["tags"])
        for name in ("labels", "annotations"):
            if name in fields:
                fields[name] = dict(fields[name] or {})
        new = _changed(model, **fields)
        if new != model:
            changed = ", ".join(f for f in fields if getattr(model, f) != getattr(new, f))
            self.put(model_id, new, f"{model_id}: update {changed}")
        return new

    def set_stage(self, model_id: str, version: int, stage: Stage | str) -> Model:
        """Move a version to a stage. Promoting to production demotes the previous production
        version (to archived, or to none while it is still deployed) in the same commit."""
        stage = Stage.named(stage)
        model = self.get(model_id)
        new, notes = self._with_stage(model, version, stage)
        if new != model:
            extra = f" ({'; '.join(notes)})" if notes else ""
            self.put(model_id, new, f"{model_id}: move version {version} to {stage.value}{extra}")
        return new

    def _with_stage(self, model: Model, number: int, stage: Stage) -> tuple[Model, list[str]]:
        if model.version(number) is None:
            raise NotFoundError(f"{model.id} has no version {number}")
        rules.enforce(rules.stage_move(model, number, stage, self.config), model.id)
        d = model.deployment
        deployed = {d.version, d.challenger.version if d.challenger else None} if d else set()
        notes: list[str] = []
        versions = []
        for v in model.versions:
            if v.version == number:
                v = v.model_copy(update={"stage": stage})
            elif stage == Stage.PRODUCTION and v.stage == Stage.PRODUCTION:
                # the old production version steps down in the same commit
                down = Stage.NONE if v.version in deployed else Stage.ARCHIVED
                notes.append(f"version {v.version} to {down.value}")
                v = v.model_copy(update={"stage": down})
            versions.append(v)
        return _changed(model, versions=[v.model_dump() for v in versions]), notes

    def set_alias(self, spec: str, alias: str) -> Model:
        """Point ``alias`` at the version ``spec`` names (``churn-xgb@7``, ``@production``),
        moving it if it pointed elsewhere. Raises :class:`RuleViolationError` for a name
        that is a stage or is malformed, :class:`NotFoundError`."""
        model, version = self.resolve(spec)
        new, message = aliases.set_alias(model, alias, version.version)
        if new != model:
            self.put(model.id, new, message)
        return new

    def remove_alias(self, model_id: str, alias: str, *, force: bool = False) -> Model:
        """Remove ``alias``; refused while its version is deployed unless ``force``.
        Raises :class:`NotFoundError`, :class:`RuleViolationError`."""
        new, message = aliases.remove_alias(self.get(model_id), alias, force=force)
        self.put(model_id, new, message)
        return new

    def update_version(
        self,
        spec: str,
        *,
        description: str | None = None,
        labels: Mapping[str, str] | None = None,
        annotations: Mapping[str, Any] | None = None,
    ) -> Model:
        """Change what may change on a released version: its description, labels and
        annotations (each given replaces the old one whole)."""
        model, version = self.resolve(spec)
        update: dict[str, Any] = {}
        if description is not None:
            update["description"] = description
        if labels is not None:
            update["labels"] = dict(labels)
        if annotations is not None:
            update["annotations"] = dict(annotations)
        new_version = _validated(Version, {**version.model_dump(), **update})
        if new_version == version:
            return model
        versions = [new_version if v is version else v for v in model.versions]
        new = model.model_copy(update={"versions": versions})
        changed = ", ".join(f for f in update if getattr(version, f) != getattr(new_version, f))
        self.put(model.id, new, f"{model.id}: version {version.version}: update {changed}")
        return new

    def archive(self, model_id: str) -> Model:
        """Mark the whole model archived (its status becomes archived)."""
        model = self.get(model_id)
        rules.enforce(rules.archiving(model))
        if model.archived:
            return model
        new = _changed(model, archived=True)
        self.put(model_id, new, f"{model_id}: archive model")
        return new

    def unarchive(self, model_id: str) -> Model:
        """Bring an archived model back (its status becomes registered again)."""
        model = self.get(model_id)
        if not model.archived:
            return model
        new = _changed(model, archived=False)
        self.put(model_id, new, f"{model_id}: unarchive model")
        return new

    def delete(self, model_id: str) -> None:
        """Remove the manifest (git history keeps it). Refused while the model is deployed."""
        model = self.get(model_id)
        rules.enforce(rules.deletion(model))
        children = lineage.children_of_model(self.all(), model_id)
        if children:
            raise RuleViolationError(
                f"{model_id} is the parent of {', '.join(children)} (lineage.parent); "
                "their lineage would point nowhere: archive it instead"
            )
        highest = max(model.latest_version, (model.first_version or 1) - 1)
        numbers = retired.retire(self.retired_numbers() or {}, model_id, highest)
        files: dict[str, bytes | None] = {retired.RETIRED_FILE: retired.dumps(numbers)}
        if self.read_bytes(cards.card_path(model_id)) is not None:
            files[cards.card_path(model_id)] = None  # the card goes with its manifest
        self.put(model_id, None, f"{model_id}: delete model", files)

    def set_deployment(
        self,
        model_id: str,
        deployment: Deployment | None,
        *,
        files: Mapping[str, bytes | None] | None = None,
        message: str,
    ) -> Model:
        """Record (or with None, remove) the deployment block, and write ``files``."""
        model = self.get(model_id)
        new = _changed(model, deployment=deployment.model_dump() if deployment else None)
        self.put(model_id, new, message, files)
        return new

    # ------------------------------------------------------------- committing

    def message(self) -> str:
        """The commit message: the one change, or a title and a line per change."""
        if self.title is None and len(self.messages) == 1:
            return self.messages[0]
        title = self.title or f"{len(self.messages)} registry changes"
        lines = [f"- {m}" for m in self.messages[:MAX_MESSAGE_LINES]]
        if len(self.messages) > MAX_MESSAGE_LINES:
            lines.append(f"- ... and {len(self.messages) - MAX_MESSAGE_LINES} more")
        return title + "\n\n" + "\n".join(lines) + "\n"

    def rendered(self) -> dict[str, bytes | None]:
        """The files of the commit: each touched manifest checked and written once.
        Raises :class:`RuleViolationError` naming every rule a manifest breaks."""
        changes: dict[str, bytes | None] = dict(self.files)
        problems: list[str] = []
        for model_id, tail in list(self._tails.items()):
            stored_bytes, head = self._heads[model_id]
            violations = rules.check_appended(head.count, head.latest, head.first_version, tail)
            if violations:
                problems += [f"{model_id}: {_field(v.path)}: {v.message}" for v in violations]
                continue
            assert head.point is not None  # a tail is only begun where versions can go
            written = (
                None
                if violations is None
                else render.append(stored_bytes.decode(), tail, head.point)
            )
            if written is None:  # rare: checked, or written, as a whole model instead
                self._built(model_id)
                continue
            self.base.cache.put_appended(
                blob_id(written.data), head.blob, tail, written.point, model_id
            )
            changes[manifest_path(model_id)] = written.data
        for model_id, model in self.models.items():
            path = manifest_path(model_id)
            if model is None:
                changes[path] = None
                continue
            stored = self._as_stored(model_id)
            data, old, point = (None, None, None) if stored is None else stored
            added = None if old is None else render.added_versions(old, model)
            violations = (
                rules.check_model(model, self.config)
                if added is None
                else rules.check_added(model, len(added), self.config)
            )
            if violations:
                problems += [f"{model_id}: {_field(v.path)}: {v.message}" for v in violations]
                continue
            written = render.manifest(
                path,
                model,
                text=None if data is None else data.decode("utf-8"),
                old=old,
                point=point,
                parse=self.base.reparse(model_id),
                max_bytes=self.config.policy.max_manifest_bytes,
            )
            if written.point is not None:
                self.base.cache.put(
                    blob_id(written.data),
                    model,
                    written.point,
                    written=True,
                    replaces=None if data is None else blob_id(data),
                )
            changes[path] = written.data
        if problems:
            raise RuleViolationError("; ".join(problems))
        return changes

    def commit(self) -> str | None:
        """Make the one commit (None when nothing changed). The caller holds the lock.
        Raises :class:`InvalidManifestError` when a file is over the size that reading it
        back would refuse (a write must never break the next read)."""
        changes = self.rendered()
        named = {self.base.repo_path(path): data for path, data in changes.items()}
        limits.check_files(named, self.config.policy.max_manifest_bytes)
        if changes:
            self.committed = self.store.commit(changes, self.message())
        return self.committed

    def __enter__(self) -> Transaction:
        """Python's garbage collections are spaced out (see :data:`GC_SPACING`) until
        the block ends."""
        self._gc_before = gc.get_threshold()
        gc.set_threshold(*(max(a, b) for a, b in zip(self._gc_before, GC_SPACING, strict=False)))
        return self

    def __exit__(self, kind: type[BaseException] | None, *rest: object) -> None:
        """Commit when the block ends normally; remove the uploads when it raises (or
        when the commit itself fails, as on a broken rule). The garbage collector's
        previous setting is put back."""
        try:
            if kind is not None:
                self.rollback()
                return
            try:
                self.commit()
            except BaseException:
                self.rollback()
                raise
        finally:
            gc.set_threshold(*self._gc_before)

    def rollback(self) -> None:
        """Remove what this transaction uploaded."""
        for batch in self.batches:
            batch.rollback()


def _field(path: Sequence[str | int]) -> str:
    return yamlio.format_path([*path])


V = TypeVar("V", Model, Version)


def _validated(kind: type[V], data: dict[str, Any]) -> V:
    try:
        return kind.model_validate(data)
    except Exception as exc:  # pydantic.ValidationError, phrased for the field
        raise RuleViolationError(_short_validation(exc)) from None


def _changed(model: Model, **update: Any) -> Model:
    data = model.model_dump(by_alias=True)
    data.update(update)
    return _validated(Model, data)


def _short_validation(exc: Exception) -> str:
    format_path = yamlio.format_path
    errors = getattr(exc, "errors", None)
    if callable(errors):
        return "; ".join(
            f"{format_path([p for p in e['loc'] if isinstance(p, (str, int))])}: " + explain(e)
            for e in errors()
        )
    return str(exc)
