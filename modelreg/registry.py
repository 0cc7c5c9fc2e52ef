"""The registry: operations and rules over a folder of manifests in git.

Reads come from the working tree (what you see on disk) or, with ``ref=``,
from any commit, tag or branch (read-only time travel). Every write is one
commit; :meth:`Registry.transaction` groups several writes into one.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import gc
import os
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from modelreg import yamlio
from modelreg.cache import ManifestCache
from modelreg.config import CONFIG_FILE, MANIFEST_FILE, MODELS_DIR, RegistryConfig
from modelreg.errors import (
    ConflictError,
    InvalidManifestError,
    ModelregError,
    NotFoundError,
    Problem,
    ReadOnlyError,
    RuleViolationError,
)
from modelreg.events import Event, StagePeriod, between, stage_periods
from modelreg.gitstore import CommitInfo, GitStore, blob_id, find_worktree
from modelreg.manifest import (
    METADATA_FIELDS,
    Artifact,
    Deployment,
    Model,
    Stage,
    Training,
    Version,
    to_document,
)
from modelreg.query import Page, Query, Summary, apply
from modelreg.refs import VersionRef, select
from modelreg.rules import check_model, problems_at
from modelreg.schema import load_manifest, parse_config
from modelreg.wording import did_you_mean, explain

if TYPE_CHECKING:
    from modelreg.artifacts import (
        ArtifactBatch,
        ArtifactStore,
        ProgressFactory,
        PullResult,
        StoredObject,
        VerifyResult,
    )
    from modelreg.deploy import DeployRequest, DeployResult, UndeployResult
    from modelreg.publish import Published

HEADER = "# yaml-language-server: $schema=../../schemas/model.schema.json\n"
# the documented key order of a manifest: the order of the model's fields
ORDER = tuple(f.alias or name for name, f in Model.model_fields.items())
UPDATABLE = METADATA_FIELDS
MAX_MESSAGE_LINES = 50
List = list  # the builtin, where Registry.list shadows it
_T = TypeVar("_T")


def manifest_path(model_id: str) -> str:
    return f"{MODELS_DIR}/{model_id}/{MANIFEST_FILE}"


STORE_NOTE = """\
# Artifacts go to ./artifacts (git-ignored). A shared store lets others and deploy
# targets read them: artifacts: {root: s3://bucket/models} (or gs://, az://, ...).
"""

# What `modelreg init` writes after the registry's name: the profiles and target that
# `modelreg deploy --help` uses, to edit or extend (schemas/registry.schema.json).
DEPLOY_DEFAULTS = """\
# Hardware profiles, named by `modelreg deploy --hardware NAME`: each maps onto every target.
hardware:
  cpu-small:
    description: 1 vCPU, 2 GiB
    kubernetes:
      resources:
        requests: {cpu: 500m, memory: 1Gi}
        limits: {cpu: "1", memory: 2Gi}
    sagemaker: {instance_type: ml.m5.large, vcpus: 2}
  gpu-a100-40gb:
    description: one NVIDIA A100 40 GB
    gpus: 1
    kubernetes:
      resources:
        requests: {cpu: "4", memory: 32Gi, nvidia.com/gpu: 1}
        limits: {cpu: "8", memory: 64Gi, nvidia.com/gpu: 1}
      tolerations:
      - {key: nvidia.com/gpu, operator: Exists, effect: NoSchedule}
    sagemaker: {instance_type: ml.p4d.24xlarge, vcpus: 96, gpus: 8}
# `modelreg deploy` without --target uses default_target; `modelreg targets` lists them.
deploy:
  default_target: kubernetes
  targets:
    kubernetes: {namespace: models}
    kserve: {namespace: models}  # reads artifacts from s3://, gs://, ... (not a local folder)
"""


def find_registry(start: Path) -> Path:
    """The folder holding ``modelreg.yaml``: ``start`` or the nearest parent."""
    start = start.resolve()
    if not start.exists():
        raise NotFoundError(f"{start} does not exist (check -R/--registry or $MODELREG_REGISTRY)")
    for folder in (start, *start.parents):
        if (folder / CONFIG_FILE).is_file():
            return folder
    raise NotFoundError(
        f"no {CONFIG_FILE} in {start} or any parent folder "
        "(create a registry with `modelreg init`, or pass --registry)"
    )


def _now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc).replace(microsecond=0)


@dataclass(frozen=True)
class Change:
    """One commit in a model's history and what it did to the model."""

    commit: CommitInfo
    events: tuple[Event, ...]
    model: Model | None  # the manifest after the commit (None: deleted)

    def to_dict(self) -> dict[str, Any]:
        c = self.commit
        return {
            "commit": c.sha,
            "author": c.author,
            "email": c.email,
            "time": dt.datetime.fromtimestamp(c.time, dt.timezone.utc)
            .isoformat()
            .replace("+00:00", "Z"),
            "message": c.message,
            "events": [e.to_dict() for e in self.events],
        }


@dataclass
class _Tx:
    models: dict[str, Model | None] = field(default_factory=dict)  # state after the writes
    originals: dict[str, tuple[str | None, Model | None]] = field(default_factory=dict)
    extra: dict[str, bytes | None] = field(default_factory=dict)  # other files (deploy specs)
    messages: list[str] = field(default_factory=list)
    batches: list[ArtifactBatch] = field(default_factory=list)
    title: str | None = None


class Registry:
    """A model registry in a git working tree (or, read-only, at a commit)."""

    def __init__(
        self,
        root: Path,
        config: RegistryConfig,
        *,
        ref: str | None = None,
        commit: str | None = None,
        store: GitStore | None = None,
    ) -> None:
        self.root = root
        self.config = config
        self.ref = ref
        self._commit = commit
        self._store = store
        self._tx: _Tx | None = None
        self._models: dict[str, Model] | None = None
        self._artifact_store: ArtifactStore | None = None
        git_folder = self._git_folder()
        self._cache = ManifestCache(
            git_folder / "modelreg" / "manifests.cache" if git_folder else None
        )

    # ------------------------------------------------------------- opening

    @classmethod
    def init(
        cls,
        path: str | os.PathLike[str],
        *,
        name: str | None = None,
        artifact_root: str | None = None,
    ) -> Registry:
        """Create a registry in ``path`` (a new git repository unless inside one), one commit."""
        from modelreg.schema import SCHEMAS, render

        root = Path(path).resolve()
        root.mkdir(parents=True, exist_ok=True)
        if (root / CONFIG_FILE).exists():
            raise ConflictError(f"{root / CONFIG_FILE} already exists")
        config: dict[str, Any] = {
            "apiVersion": "modelreg/v1",
            "kind": "Registry",
            "name": name or root.name,
        }
        if artifact_root:
            config["artifacts"] = {"root": artifact_root}
        text = (
            "# yaml-language-server: $schema=schemas/registry.schema.json\n"
            + yamlio.dumps(config)
            + ("" if artifact_root else STORE_NOTE)
            + DEPLOY_DEFAULTS
        )
        parse_config(text, CONFIG_FILE)
        files: dict[str, bytes | None] = {
            CONFIG_FILE: text.encode(),
            f"{MODELS_DIR}/.gitkeep": b"",
            ".gitignore": b"# the default local artifact store, and API keys of `modelreg serve`\n"
            b"/artifacts/\n/.modelreg/\n",
        }
        for schema_name in SCHEMAS:
            files[f"schemas/{schema_name}"] = render(schema_name).encode()
        templates = Path(__file__).parent / "templates"
        for src, dest in (
            ("github-workflow.yml", ".github/workflows/modelreg.yml"),
            ("pre-commit-config.yaml", ".pre-commit-config.yaml"),
        ):
            if (templates / src).is_file() and not (root / dest).exists():
                files[dest] = (templates / src).read_bytes()
        store = GitStore.init(root)
        with store.lock():
            store.commit(files, f"Initialise modelreg registry {config['name']}")
        return cls.open(root)

    @classmethod
    def open(cls, path: str | os.PathLike[str] = ".", ref: str | None = None) -> Registry:
        """Open the registry holding ``path``; with ``ref``, read-only as of that commit."""
        root = find_registry(Path(path))
        if ref is None:
            data = (root / CONFIG_FILE).read_bytes()
            return cls(root, parse_config(data, CONFIG_FILE))
        store = GitStore.open(root)
        commit = store.resolve(ref)
        blob = store.blob_at(commit, CONFIG_FILE)
        if blob is None:
            raise NotFoundError(f"no {CONFIG_FILE} at {ref} ({commit[:12]})")
        config = parse_config(store.read_blob(blob), f"{CONFIG_FILE}@{ref}")
        return cls(root, config, ref=ref, commit=commit, store=store)

    def at(self, commit: str, ref: str | None = None) -> Registry:
        """This registry read-only as of ``commit`` (an object id), sharing the git store
        and the manifest cache (one cache per process, saved once)."""
        other = Registry(
            self.root, self.config, ref=ref or commit[:12], commit=commit, store=self.store
        )
        other._cache = self._cache
        return other

    def close(self) -> None:
        """Keep what this registry parsed for the next process (the manifest cache)."""
        self._cache.save()
        if self._store is not None:
            self._store.close()

    @property
    def read_only(self) -> bool:
        return self.ref is not None

    @property
    def store(self) -> GitStore:
        if self._store is None:
            self._store = GitStore.open(self.root)
        return self._store

    @property
    def commit(self) -> str | None:
        """The commit the registry is read at (HEAD for the working tree)."""
        return self._commit if self._commit is not None else self.store.head()

    @property
    def artifact_store(self) -> ArtifactStore:
        if self._artifact_store is None:
            from modelreg.artifacts import ArtifactStore

            self._artifact_store = ArtifactStore.from_config(self.config.artifacts, self.root)
        return self._artifact_store

    def _git_folder(self) -> Path | None:
        if self._store is not None:
            return self._store.git_dir
        top = find_worktree(self.root)
        if top is None:
            return None
        dot_git = top / ".git"
        return dot_git if dot_git.is_dir() else None

    # ------------------------------------------------------------- reading

    def read_bytes(self, relpath: str) -> bytes | None:
        """A file of the registry as this registry sees it (pending writes, ref, or disk)."""
        if self._tx is not None and relpath in self._tx.extra:
            return self._tx.extra[relpath]
        if self._commit is not None:
            blob = self.store.blob_at(self._commit, relpath)
            return None if blob is None else self.store.read_blob(blob)
        try:
            return (self.root / relpath).read_bytes()
        except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
            return None

    def files_under(self, folder: str) -> list[str]:
        """The files below ``folder`` (relative to the registry root), sorted, as this
        registry sees them: at its commit when opened at a ref, else on disk."""
        if self._commit is not None:
            out: list[str] = []
            for name, (_, is_dir) in sorted(self.store.listdir(self._commit, folder).items()):
                path = f"{folder}/{name}"
                out += self.files_under(path) if is_dir else [path]
            return out
        base = self.root / folder
        if not base.is_dir():
            return []
        return sorted(p.relative_to(self.root).as_posix() for p in base.rglob("*") if p.is_file())

    def _model_ids(self) -> list[str]:
        if self._commit is not None:
            entries = self.store.listdir(self._commit, MODELS_DIR)
            return sorted(name for name, (_, is_dir) in entries.items() if is_dir)
        try:
            return sorted(
                e.name
                for e in os.scandir(self.root / MODELS_DIR)
                if e.is_dir() and not e.name.startswith(".")
            )
        except FileNotFoundError:
            return []

    def _parse(self, model_id: str, data: bytes) -> Model:
        return self._parse_full(model_id, data)[0]

    def _parse_full(self, model_id: str, data: bytes) -> tuple[Model, tuple[int, int] | None]:
        """The manifest in ``data`` (from the cache when these exact bytes were seen), and
        where appended versions go in its text."""
        blob = blob_id(data)
        cached = self._cache.get(blob)
        if cached is not None and cached[0].id == model_id:
            return cached
        model, loaded = load_manifest(
            data,
            self._display(manifest_path(model_id)),
            folder_id=model_id,
            max_bytes=self.config.policy.max_manifest_bytes,
        )
        point = yamlio.append_point(loaded.text, loaded.root, ("versions",))
        self._cache.put(blob, model, point)
        return model, point

    def _display(self, relpath: str) -> str:
        """How a file is named in messages: relative to the current folder when inside it."""
        full = self.root / relpath
        try:
            return str(full.relative_to(Path.cwd()))
        except ValueError:
            return str(full) if self.ref is None else f"{relpath}@{self.ref}"

    def _load_all(self) -> dict[str, Model]:
        if self._models is None:
            self._models = self._each(self._manifest)
        if self._tx is None:
            return self._models
        merged = dict(self._models)
        for model_id, model in self._tx.models.items():
            if model is None:
                merged.pop(model_id, None)
            else:
                merged[model_id] = model
        return merged

    def _each(self, read: Callable[[str], _T | None]) -> dict[str, _T]:
        """``read`` for every model folder; every broken manifest is reported, not the first."""
        out: dict[str, _T] = {}
        problems: list[Problem] = []
        # a bulk load only allocates: collecting garbage meanwhile would find none
        with _gc_paused():
            for model_id in self._model_ids():
                try:
                    found = read(model_id)
                except InvalidManifestError as exc:
                    problems.extend(exc.problems)
                    continue
                if found is not None:
                    out[model_id] = found
        self._cache.save()
        if problems:
            raise InvalidManifestError(problems)
        return out

    def _manifest(self, model_id: str) -> Model | None:
        """One manifest as stored (disk, or the commit read at), None if there is none.

        At a commit the blob id comes from the tree, so a cached manifest is found
        without reading the blob at all.
        """
        path = manifest_path(model_id)
        if self._commit is not None and not (self._tx and path in self._tx.extra):
            blob = self.store.blob_at(self._commit, path)
            if blob is None:
                return None
            cached = self._cache.get(blob)
            if cached is not None and cached[0].id == model_id:
                return cached[0]
            return self._parse(model_id, self.store.read_blob(blob))
        data = self.read_bytes(path)
        return None if data is None else self._parse(model_id, data)

    def _get_one(self, model_id: str) -> Model:
        if self._tx is not None and model_id in self._tx.models:
            found = self._tx.models[model_id]
        elif self._models is not None:
            found = self._models.get(model_id)
        else:
            found = self._manifest(model_id)
        if found is None:
            hint = did_you_mean(model_id, self._model_ids())
            raise NotFoundError(f"no model {model_id!r} in the registry{hint}")
        return found

    def get(self, model_id: str) -> Model:
        """The model's manifest. Raises :class:`NotFoundError`."""
        return self._get_one(model_id)

    def models(self) -> list[Model]:
        """Every model, sorted by id. Raises :class:`InvalidManifestError` if any is broken."""
        return [m for _, m in sorted(self._load_all().items())]

    def list(self, query: Query | None = None) -> Page[Model]:
        """One page of the models that match ``query``, with the total count.

        Filters and sort work on summaries; only the models of the page are built.
        """
        page = apply((s for s, _ in self._listing().values()), query or Query())
        return Page([self._get_one(s.id) for s in page.items], page.total, page.limit, page.offset)

    def list_json(self, query: Query | None = None) -> tuple[Page[Summary], List[bytes]]:
        """Like :meth:`list`, with each model of the page as JSON bytes (camel-free,
        by alias, no nulls), served from the cache without building the models."""
        listing = self._listing()
        page = apply((s for s, _ in listing.values()), query or Query())
        return page, [listing[s.id][1] or self._dump(s.id) for s in page.items]

    def _dump(self, model_id: str) -> bytes:
        return self._get_one(model_id).model_dump_json(by_alias=True, exclude_none=True).encode()

    def _listing(self) -> dict[str, tuple[Summary, bytes | None]]:
        """Every model's summary (and cached JSON when there is nothing pending)."""
        if self._tx is not None or self._models is not None:
            return {m.id: (Summary.of(m), None) for m in self._load_all().values()}
        return self._each(self._entry)

    def _entry(self, model_id: str) -> tuple[Summary, bytes | None] | None:
        path = manifest_path(model_id)
        data: bytes | None = None
        if self._commit is not None:
            blob = self.store.blob_at(self._commit, path)
        else:
            data = self.read_bytes(path)
            blob = None if data is None else blob_id(data)
        if blob is None:
            return None
        cached = self._cache.entry(blob)
        if cached is not None and cached[1].id == model_id:
            return cached[1], cached[0]
        if data is None:
            data = self.store.read_blob(blob)
        return Summary.of(self._parse(model_id, data)), None

    def resolve(self, spec: str) -> tuple[Model, Version]:
        """``id@3``, ``id@latest``, ``id@production``, ``id@v1.2.0`` -> (model, version)."""
        ref = VersionRef.parse(spec)
        model = self.get(ref.model_id)
        return model, select(model, ref.selector)

    # ------------------------------------------------------------- writing

    @contextlib.contextmanager
    def transaction(self, message: str | None = None) -> Iterator[Registry]:
        """Group writes into one commit; nothing is committed if the block raises."""
        with self._writing(message) as _:
            yield self

    def publish(
        self,
        op: Callable[[Registry], _T],
        *,
        push: bool | None = None,
        branch: str | None = None,
        retries: int = 5,
        message: str | None = None,
    ) -> Published[_T]:
        """Run ``op(self)`` as one commit and, with ``push`` (default: ``git.push`` of
        modelreg.yaml), push it to the ``git.remote``; with ``branch``, commit on that new
        branch instead (for a pull request). See :mod:`modelreg.publish`.

        ``op`` may run again on a newer remote tip when a push is rejected as not
        fast-forward (at most ``retries`` times): it must read what it needs through
        the registry it is given. Returns a :class:`Published` with ``op``'s value.
        Raises :class:`ConflictError` when retries run out, :class:`GitError` when the
        remote refuses for another reason (the local commit stays; the message says so).
        """
        from modelreg.publish import publish

        return publish(
            self,
            op,
            push=self.config.git.push if push is None else push,
            branch=branch,
            retries=retries,
            message=message,
        )

    @contextlib.contextmanager
    def _writing(
        self, title: str | None = None, on_commit: Callable[[_Tx], None] | None = None
    ) -> Iterator[_Tx]:
        if self.read_only:
            raise ReadOnlyError(f"the registry is open read-only at {self.ref}")
        if self._tx is not None:
            yield self._tx
            return
        store = self.store
        with store.lock():
            self._models = None  # another writer may have committed before we held the lock
            tx = _Tx(title=title)
            self._tx = tx
            try:
                yield tx
                changes = self._render(tx)
                if changes:
                    store.commit(changes, self._message(tx))
                    if on_commit is not None:
                        on_commit(tx)
            except BaseException:
                for batch in tx.batches:
                    batch.rollback()
                raise
            finally:
                self._tx = None
                self._models = None

    @staticmethod
    def _message(tx: _Tx) -> str:
        if tx.title is None and len(tx.messages) == 1:
            return tx.messages[0]
        title = tx.title or f"{len(tx.messages)} registry changes"
        lines = [f"- {m}" for m in tx.messages[:MAX_MESSAGE_LINES]]
        if len(tx.messages) > MAX_MESSAGE_LINES:
            lines.append(f"- ... and {len(tx.messages) - MAX_MESSAGE_LINES} more")
        return title + "\n\n" + "\n".join(lines) + "\n"

    def _put(
        self,
        model_id: str,
        model: Model | None,
        message: str,
        extra: Mapping[str, bytes | None] | None = None,
    ) -> None:
        """Record the new state of one manifest in the pending commit."""
        tx = self._tx
        assert tx is not None
        if model_id not in tx.originals:
            data = self.read_bytes(manifest_path(model_id))
            old = None if data is None else self._parse(model_id, data)
            tx.originals[model_id] = (None if data is None else data.decode("utf-8"), old)
        tx.models[model_id] = model
        tx.extra.update(extra or {})
        tx.messages.append(message)

    def _render(self, tx: _Tx) -> dict[str, bytes | None]:
        """The files of the pending commit: each touched manifest checked and written once,
        by in-place edits of the text a person wrote where possible."""
        changes: dict[str, bytes | None] = dict(tx.extra)
        problems: List[str] = []
        for model_id, model in tx.models.items():
            path = manifest_path(model_id)
            text, old = tx.originals[model_id]
            if model is None:
                changes[path] = None
                continue
            violations = check_model(model, self.config)
            if violations:
                problems += [
                    f"{model_id}: {yamlio.format_path(v.path)}: {v.message}" for v in violations
                ]
                continue
            new_text = None
            if text is not None and old is not None:
                fast = self._appended(model_id, text, old, model)
                if fast is not None:
                    changes[path] = fast
                    continue
                if new_text is None:
                    editor = yamlio.Editor(text, path)
                    with contextlib.suppress(ValueError, InvalidManifestError):
                        _apply_edits(editor, old, model)
                        new_text = editor.text
            data = new_text.encode("utf-8") if new_text is not None else None
            if data is None or self._reparse(model_id, data) != model:
                # an edit we could not make in place: write the file anew, in canonical order
                data = (HEADER + yamlio.dumps(model.to_document())).encode("utf-8")
                if self._reparse(model_id, data) != model:
                    raise ModelregError(f"internal error: {path} does not round-trip")
            changes[path] = data
        if problems:
            raise RuleViolationError("; ".join(problems))
        return changes

    def _appended(self, model_id: str, text: str, old: Model, new: Model) -> bytes | None:
        """The file with new versions appended, when that is the whole change.

        The place to append comes from the node tree of the last parse, and the
        appended block is checked by reading it back, so the file is not parsed
        again: registering costs the same for a model with 10 or 10,000 versions.
        """
        n = len(old.versions)
        if len(new.versions) <= n or not _same_prefix(old, new, n):
            return None
        point = self._parse_full(model_id, text.encode("utf-8"))[1]
        if point is None:
            return None
        docs = [to_document(v) for v in new.versions[n:]]
        block = yamlio.dumps(docs)
        try:
            back = [Version.model_validate(d) for d in yamlio.loads(block, "<appended>").value]
        except (InvalidManifestError, ValueError):
            return None
        if back != new.versions[n:]:
            return None
        new_text = yamlio.splice_append(text, point, docs)
        data = new_text.encode("utf-8")
        # the appended block ends where the next append goes
        self._cache.put(blob_id(data), new, (point[0] + len(new_text) - len(text), point[1]))
        return data

    def _reparse(self, model_id: str, data: bytes) -> Model | None:
        try:
            return self._parse(model_id, data)
        except InvalidManifestError:
            return None

    def _validated(self, model: Model, **update: Any) -> Model:
        data = model.model_dump(by_alias=True)
        data.update(update)
        try:
            return Model.model_validate(data)
        except Exception as exc:  # pydantic.ValidationError, phrased for the field
            raise RuleViolationError(_short_validation(exc)) from None

    def create_model(
        self,
        model_id: str,
        *,
        name: str,
        framework: str,
        description: str = "",
        type: str | None = None,
        source: str | None = None,
        owner: str | None = None,
        organization: str | None = None,
        workspace: str | None = None,
        customer: str | None = None,
        tags: Sequence[str] = (),
    ) -> Model:
        """Add a new model manifest (one commit). Raises :class:`ConflictError` if it exists."""
        with self._writing():
            exists = (
                self._tx.models[model_id] is not None
                if self._tx and model_id in self._tx.models
                else self.read_bytes(manifest_path(model_id)) is not None
            )
            if exists:
                raise ConflictError(f"model {model_id!r} already exists")
            fields: dict[str, Any] = {
                "id": model_id,
                "name": name,
                "description": description,
                "type": type,
                "framework": framework,
                "source": source,
                "owner": owner,
                "organization": organization,
                "workspace": workspace,
                "customer": customer,
                "tags": list(tags),
                "created_at": _now(),
            }
            floor = self.retired_versions(model_id)
            if floor:
                fields["first_version"] = floor + 1
            try:
                model = Model.model_validate({k: v for k, v in fields.items() if v is not None})
            except Exception as exc:
                raise RuleViolationError(_short_validation(exc)) from None
            self._put(model_id, model, f"{model_id}: create model")
            return model

    def retired_versions(self, model_id: str, rev: str = "HEAD") -> int:
        """The highest version number a model with this id had in the history of ``rev``
        (0 if none): numbers a re-created model must not reuse."""
        store = self.store
        if store.head() is None:
            return 0
        highest = 0
        for info in store.log(manifest_path(model_id), rev):
            blob = store.blob_at(info.sha, manifest_path(model_id))
            if blob is None:
                continue
            with contextlib.suppress(ModelregError):
                highest = max(highest, self._parse(model_id, store.read_blob(blob)).latest_version)
            break  # the newest surviving manifest holds the highest number
        return highest

    def register_version(
        self,
        model_id: str,
        *,
        label: str | None = None,
        description: str | None = None,
        metrics: Mapping[str, float] | None = None,
        hyperparameters: Mapping[str, Any] | None = None,
        training: Training | Mapping[str, Any] | None = None,
        artifacts: Mapping[str, Artifact | str | os.PathLike[str]] | None = None,
        stage: Stage | str = Stage.NONE,
        hash: bool = True,
        progress: ProgressFactory | None = None,
    ) -> Version:
        """Append a new version (number assigned here, never reused), one commit.

        Artifacts given as local paths are uploaded to the artifact store first
        and removed again if the commit does not happen; URLs are recorded with the
        size and sha256 read from their store (``hash=False``: size only). ``progress``
        is called with (URI, total bytes) per transfer and returns a callable fed the
        bytes moved. Raises :class:`ArtifactError` when a transfer fails.
        """
        with self._writing() as tx:
            model = self._get_one(model_id)
            if model.archived:
                raise RuleViolationError(
                    f"{model_id} is archived; run `modelreg unarchive {model_id}` "
                    "to register versions"
                )
            # versions are in ascending order (a rule checked at commit), so the last is the latest
            last = model.versions[-1].version if model.versions else 0
            number = max(last, (model.first_version or 1) - 1) + 1
            stored: dict[str, Artifact] = {}
            if artifacts:
                batch = None
                for role, src in artifacts.items():
                    if isinstance(src, Artifact):
                        stored[role] = src
                        continue
                    if batch is None:
                        batch = self.artifact_store.batch(progress=progress)
                        tx.batches.append(batch)
                    stored[role] = batch.add(model_id, number, role, src, hash=hash)
            try:
                version = Version.model_validate(
                    {
                        "version": number,
                        "label": label,
                        "description": description,
                        "stage": Stage(stage),
                        "created_at": _now(),
                        "metrics": dict(metrics or {}),
                        "hyperparameters": dict(hyperparameters or {}),
                        "training": training,
                        "artifacts": stored,
                    }
                )
            except Exception as exc:
                raise RuleViolationError(_short_validation(exc)) from None
            # the version is validated on its own; the rest of the model is unchanged
            new = model.model_copy(update={"versions": [*model.versions, version]})
            if version.stage == Stage.PRODUCTION:
                new = self._with_stage(new, number, Stage.PRODUCTION)[0]
            label_txt = f" ({label})" if label else ""
            self._put(model_id, new, f"{model_id}: register version {number}{label_txt}")
            return version

    def update(self, model_id: str, **fields: Any) -> Model:
        """Change metadata (name, description, type, framework, source, owner, organization,
        workspace, customer, tags); ``None`` removes an optional field. One commit."""
        unknown = set(fields) - set(UPDATABLE)
        if unknown:
            raise RuleViolationError(
                f"cannot update {', '.join(sorted(unknown))} (updatable: {', '.join(UPDATABLE)})"
            )
        with self._writing():
            model = self._get_one(model_id)
            if "tags" in fields and fields["tags"] is not None:
                fields["tags"] = list(fields["tags"])
            new = self._validated(model, **fields)
            if new == model:
                return model
            changed = ", ".join(f for f in fields if getattr(model, f) != getattr(new, f))
            self._put(model_id, new, f"{model_id}: update {changed}")
            return new

    def _with_stage(self, model: Model, number: int, stage: Stage) -> tuple[Model, List[str]]:
        target = model.version(number)
        if target is None:
            raise NotFoundError(f"{model.id} has no version {number}")
        notes: List[str] = []
        d = model.deployment
        deployed = {d.version, d.challenger.version if d and d.challenger else None} if d else set()
        if stage == Stage.ARCHIVED and number in deployed:
            raise RuleViolationError(
                f"{model.id}@{number} is deployed; undeploy it before archiving"
            )
        policy = self.config.policy.promotion.production_from
        if (
            stage == Stage.PRODUCTION
            and policy is not None
            and target.stage != Stage.PRODUCTION
            and target.stage not in policy
        ):
            raise RuleViolationError(
                f"policy: production only from {', '.join(s.value for s in policy)}; "
                f"{model.id}@{number} is {target.stage.value}"
            )
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
        return self._validated(model, versions=[v.model_dump() for v in versions]), notes

    def set_stage(self, model_id: str, version: int, stage: Stage | str) -> Model:
        """Move a version to a stage. Promoting to production demotes the previous production
        version (to archived, or to none while it is still deployed) in the same commit."""
        stage = Stage(stage)
        with self._writing():
            model = self._get_one(model_id)
            new, notes = self._with_stage(model, version, stage)
            if new == model:
                return model
            extra = f" ({'; '.join(notes)})" if notes else ""
            self._put(model_id, new, f"{model_id}: move version {version} to {stage.value}{extra}")
            return new

    def archive(self, model_id: str) -> Model:
        """Mark the whole model archived (its status becomes archived). One commit."""
        with self._writing():
            model = self._get_one(model_id)
            if model.deployment is not None:
                raise RuleViolationError(f"{model_id} is deployed; undeploy it before archiving")
            if model.archived:
                return model
            new = self._validated(model, archived=True)
            self._put(model_id, new, f"{model_id}: archive model")
            return new

    def unarchive(self, model_id: str) -> Model:
        """Bring an archived model back (its status becomes registered again). One commit."""
        with self._writing():
            model = self._get_one(model_id)
            if not model.archived:
                return model
            new = self._validated(model, archived=False)
            self._put(model_id, new, f"{model_id}: unarchive model")
            return new

    def delete(self, model_id: str) -> None:
        """Remove the manifest (git history keeps it). Refused while the model is deployed."""
        with self._writing():
            model = self._get_one(model_id)
            if model.deployment is not None:
                raise RuleViolationError(
                    f"{model_id} is deployed (version {model.deployment.version} on "
                    f"{model.deployment.target}); undeploy it before deleting"
                )
            self._put(model_id, None, f"{model_id}: delete model")

    def set_deployment(
        self,
        model_id: str,
        deployment: Deployment | None,
        *,
        files: Mapping[str, bytes | None] | None = None,
        message: str,
    ) -> Model:
        """Record (or with None, remove) the deployment block and write rendered files,
        all in one commit."""
        with self._writing():
            model = self._get_one(model_id)
            new = self._validated(model, deployment=deployment.model_dump() if deployment else None)
            self._put(model_id, new, message, files)
            return new

    def deploy(
        self,
        spec: str,
        request: DeployRequest | None = None,
        *,
        target: str | None = None,
        dry_run: bool = False,
    ) -> DeployResult:
        """Render ``spec``'s deployment for a target, write the specs under
        ``deploy/<target>/<model-id>/`` and record the deployment block, in one commit
        (nothing with ``dry_run``). See :func:`modelreg.deploy.deploy` for the errors."""
        from modelreg.deploy import deploy

        return deploy(self, spec, request, target=target, dry_run=dry_run)

    def undeploy(self, model_id: str) -> UndeployResult:
        """Remove the deployment block and the spec files, in one commit. Raises
        :class:`RuleViolationError` when the model is not deployed."""
        from modelreg.deploy import undeploy

        return undeploy(self, model_id)

    # ------------------------------------------------------------- artifacts

    def artifacts(self, spec: str | None = None) -> List[tuple[str, Artifact]]:
        """``("model@version/role", artifact)`` for every artifact of the registry, of one
        model (``spec="churn-xgb"``) or of one version (``"churn-xgb@production"``).
        Raises :class:`NotFoundError` for an unknown model or version."""
        if spec is None:
            models = self.models()
            chosen = [(m, v) for m in models for v in m.versions]
        else:
            ref = VersionRef.parse(spec)
            model = self.get(ref.model_id)
            if ref.selector is None:
                chosen = [(model, v) for v in model.versions]
            else:
                chosen = [(model, select(model, ref.selector))]
        return [
            (f"{m.id}@{v.version}/{role}", artifact)
            for m, v in chosen
            for role, artifact in v.artifacts.items()
        ]

    def verify_artifacts(
        self,
        spec: str | None = None,
        *,
        quick: bool = False,
        workers: int = 8,
        checked: Callable[[VerifyResult], None] | None = None,
    ) -> List[VerifyResult]:
        """Check that the artifacts of ``spec`` (see :meth:`artifacts`) exist with their
        recorded size and sha256 (``quick``: existence and size), ``workers`` at a time.
        Each result says what was found; nothing is raised for a bad artifact. ``checked``
        gets each result as it comes (for progress)."""
        return self.artifact_store.verify(
            self.artifacts(spec), quick=quick, workers=workers, checked=checked
        )

    def pull(
        self,
        spec: str,
        dest: str | os.PathLike[str],
        *,
        roles: Sequence[str] = (),
        force: bool = False,
        progress: ProgressFactory | None = None,
    ) -> List[PullResult]:
        """Download the artifacts of one version (``churn-xgb@production``) into
        ``dest/<role>/<file name>``, each checked against its size and sha256 on the way.
        Raises :class:`ArtifactError` for a failed or corrupt download (nothing of that
        file is left behind) and :class:`NotFoundError` for an unknown role."""
        model, version = self.resolve(spec)
        wanted = list(roles) or list(version.artifacts)
        unknown = [r for r in wanted if r not in version.artifacts]
        if unknown:
            have = ", ".join(version.artifacts) or "none"
            raise NotFoundError(
                f"{model.id}@{version.version} has no artifact {', '.join(unknown)} (has: {have})"
            )
        out = []
        for role in wanted:
            artifact = version.artifacts[role]
            name = artifact.uri.rstrip("/").rsplit("/", 1)[-1]
            target = Path(dest) / role / name
            out.append(self.artifact_store.pull(artifact, target, force=force, progress=progress))
        return out

    def artifact_orphans(
        self, *, min_age: dt.timedelta = dt.timedelta(hours=1)
    ) -> List[StoredObject]:
        """Objects under the artifact root that no manifest refers to, at any commit of the
        configured branch (else HEAD) or in the working tree, older than ``min_age``."""
        return self.artifact_store.orphans(self.all_artifact_uris(), min_age=min_age)

    # ------------------------------------------------------------- history and checks

    def snapshots(self, model_id: str) -> List[tuple[CommitInfo, Model | None]]:
        """The manifest after every commit that touched it, oldest first."""
        store = self.store
        rev = self._commit or "HEAD"
        out: List[tuple[CommitInfo, Model | None]] = []
        for info in reversed(store.log(manifest_path(model_id), rev)):
            blob = store.blob_at(info.sha, manifest_path(model_id))
            model = None
            if blob is not None:
                try:
                    model = self._parse(model_id, store.read_blob(blob))
                except InvalidManifestError:
                    model = None  # a broken state in history: shown as an event-less commit
            out.append((info, model))
        self._cache.save()
        return out

    def history(self, model_id: str) -> List[Change]:
        """Every commit that changed the model, newest first, with what it changed."""
        snaps = self.snapshots(model_id)
        if not snaps:
            raise NotFoundError(f"no history for model {model_id!r}")
        changes = []
        previous: Model | None = None
        for info, model in snaps:
            changes.append(Change(info, tuple(between(previous, model)), model))
            previous = model
        return list(reversed(changes))

    def stage_history(
        self, model_id: str, stage: Stage | str = Stage.PRODUCTION
    ) -> List[StagePeriod]:
        """Which version held ``stage`` from when to when, and by which commit (audit)."""
        return stage_periods(self.snapshots(model_id), Stage(stage))

    def all_artifact_uris(self, rev: str | None = None) -> set[str]:
        """Every artifact URI that any manifest refers to at any commit of ``rev``
        (default: the configured branch, else HEAD), plus the working tree's."""
        store = self.store
        rev = rev or self.config.git.branch or "HEAD"
        blobs: dict[str, str] = {}  # blob id -> model id
        for sha in store.commits_touching(MODELS_DIR, rev):
            for model_id, (_, is_dir) in store.listdir(sha, MODELS_DIR).items():
                if is_dir:
                    blob = store.blob_at(sha, manifest_path(model_id))
                    if blob is not None:
                        blobs.setdefault(blob, model_id)
        uris: set[str] = set()
        for blob, model_id in blobs.items():
            with contextlib.suppress(InvalidManifestError):
                model = self._parse(model_id, store.read_blob(blob))
                uris.update(a.uri for v in model.versions for a in v.artifacts.values())
        if self._commit is None:
            with contextlib.suppress(InvalidManifestError):
                for model in self.models():
                    uris.update(a.uri for v in model.versions for a in v.artifacts.values())
        return uris

    def model_times(self) -> dict[str, tuple[dt.datetime, dt.datetime]]:
        """Per model id: (first, last) commit time of its manifest, from one git call."""
        times = self.store.path_times(MODELS_DIR, self._commit or "HEAD")
        out = {}
        for rel, (first, last) in times.items():
            parts = rel.split("/")
            if len(parts) == 3 and parts[2] == MANIFEST_FILE:
                out[parts[1]] = (
                    dt.datetime.fromtimestamp(first, dt.timezone.utc),
                    dt.datetime.fromtimestamp(last, dt.timezone.utc),
                )
        return out

    def validate(self) -> List[Problem]:
        """Every schema and rule problem of the config and every manifest (all, not the first)."""
        problems: List[Problem] = []
        for model_id in self._model_ids():
            path = manifest_path(model_id)
            data = self.read_bytes(path)
            if data is None:
                problems.append(
                    Problem(
                        self._display(f"{MODELS_DIR}/{model_id}"),
                        None,
                        None,
                        "",
                        f"folder has no {MANIFEST_FILE}",
                    )
                )
                continue
            try:
                model = self._parse(model_id, data)
            except InvalidManifestError as exc:
                problems.extend(exc.problems)
                continue
            violations = check_model(model, self.config)
            if violations:
                loaded = yamlio.loads(data, self._display(path))
                problems.extend(problems_at(loaded, violations))
        self._cache.save()
        with contextlib.suppress(ImportError):
            from modelreg.artifacts import check_storage_options

            for message in check_storage_options(self.config.artifacts.storage_options):
                problems.append(
                    Problem(
                        self._display(CONFIG_FILE), None, None, "artifacts.storage_options", message
                    )
                )
        return problems


def _same_prefix(old: Model, new: Model, n: int) -> bool:
    """``new`` is ``old`` plus versions after the first ``n``. Versions carried over by
    an append are the very same objects, so identity settles most of them cheaply."""
    if new.model_copy(update={"versions": []}) != old.model_copy(update={"versions": []}):
        return False
    return all(a is b or a == b for a, b in zip(old.versions, new.versions[:n], strict=True))


@contextlib.contextmanager
def _gc_paused() -> Iterator[None]:
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _apply_edits(editor: yamlio.Editor, old: Model, new: Model) -> None:
    """Turn the difference between two manifests into in-place text edits."""
    before, after = old.to_document(), new.to_document()
    for key in ORDER:
        if key == "versions":
            continue
        if key in after and before.get(key) != after[key]:
            editor.set((key,), after[key], after=ORDER[: ORDER.index(key)])
        elif key not in after and key in before:
            editor.delete((key,))
    old_versions = before.get("versions", [])
    new_versions = after.get("versions", [])
    if not old_versions and new_versions:
        editor.set(("versions",), new_versions, after=ORDER[: ORDER.index("versions")])
        return
    for i, (a, b) in enumerate(zip(old_versions, new_versions, strict=False)):
        if a != b:
            for key in b:
                if a.get(key) != b[key]:
                    editor.set(
                        ("versions", i, key),
                        b[key],
                        after=(
                            "version",
                            "label",
                            "description",
                            "stage",
                            "created_at",
                            "metrics",
                            "hyperparameters",
                            "training",
                        ),
                    )
            for key in a:
                if key not in b:
                    editor.delete(("versions", i, key))
    if len(new_versions) > len(old_versions):
        editor.append(("versions",), *new_versions[len(old_versions) :])


def _short_validation(exc: Exception) -> str:
    errors = getattr(exc, "errors", None)
    if callable(errors):
        return "; ".join(
            f"{yamlio.format_path([p for p in e['loc'] if isinstance(p, (str, int))])}: "
            + explain(e)
            for e in errors()
        )
    return str(exc)
