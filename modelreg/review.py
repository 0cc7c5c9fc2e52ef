"""A pull request's view of the registry: what changed since the merge-base, and
whether the change keeps the rules.

The old side is the merge-base of the base ref and the head (``git diff base...head``,
as a pull request page shows it); the new side is a commit or the working tree.
Only the manifests that differ are read on both sides, so a change to one model
in a registry of thousands costs one model's work (plus git's own diff).

Problems name their files by the path from the top of the git repository (and the
ref a file was read at), so that CI annotations land on the right file also when the
registry is a sub-folder; the CLI names them as the user sees them.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

from modelreg import retired, yamlio
from modelreg.delta import ModelDelta, delta
from modelreg.errors import InvalidManifestError, NotFoundError, Problem
from modelreg.layout import CONFIG_FILE, MANIFEST_FILE, MODELS_DIR, manifest_path
from modelreg.registry import Registry
from modelreg.rules import Violation, check_change, check_model, check_renames, problems_at

if TYPE_CHECKING:
    from modelreg.manifest import Model

if TYPE_CHECKING:
    from modelreg.schema import Reading


@dataclass(frozen=True)
class Pair:
    """One changed model: its manifest at the merge-base and now (None: absent)."""

    model_id: str
    old: Model | None
    new: Model | None
    problems: tuple[Problem, ...] = ()  # a side that could not be read
    # what can be read of a side that does not load (None: it loads, or is absent)
    readings: tuple[Reading | None, Reading | None] = (None, None)

    def side(self, i: int) -> tuple[Model | None, bool]:
        """Side ``i`` (0: old, 1: new) as far as the rules can check it, and whether
        it can be checked at all (False: a side that does not load shows too little)."""
        reading = self.readings[i]
        if reading is None:
            return (self.old, self.new)[i], True
        return (reading.partial.model, True) if reading.partial is not None else (None, False)


@dataclass(frozen=True)
class Comparison:
    """The changed models between the merge-base of ``base`` and the head."""

    base: str  # as given
    merge_base: str
    head: str | None  # a commit, or None for the working tree
    pairs: tuple[Pair, ...] = field(default=())


@dataclass(frozen=True)
class Report:
    """``validate --base``: every problem (schema, rules, change rules) and what was compared."""

    problems: tuple[Problem, ...]
    comparison: Comparison | None


def compare(reg: Registry, base: str) -> Comparison:
    """The models that differ between the merge-base of ``base`` and ``reg`` (its commit
    when opened at a ref, else the working tree). Raises :class:`GitError` when the base
    commit is not in this clone (a shallow CI checkout), saying how to fetch it."""
    store = reg.store
    head = reg.commit if reg.read_only else None
    mb = store.merge_base(base, head or "HEAD")
    old_reg = Registry(reg.base.at(mb, mb[:12], reg.store))
    ids = sorted(
        {
            parts[1]
            for parts in (p.split("/") for p in store.changed_paths(mb, head, MODELS_DIR))
            if len(parts) == 3 and parts[2] == MANIFEST_FILE
        }
    )
    pairs = []
    for model_id in ids:
        problems: list[Problem] = []
        sides: list[Model | None] = []
        readings: list[Reading | None] = []
        for side in (old_reg, reg):
            reading = None
            try:
                sides.append(side.get(model_id))
            except NotFoundError:
                sides.append(None)
            except InvalidManifestError as exc:
                problems.extend(exc.problems)
                sides.append(None)
                reading = _reading(side, model_id)
            readings.append(reading)
        pairs.append(
            Pair(model_id, sides[0], sides[1], tuple(problems), (readings[0], readings[1]))
        )
    return Comparison(base, mb, head, tuple(pairs))


def check(reg: Registry, base: str | None = None, *, whole: bool = False) -> Report:
    """Everything ``validate`` checks, plus, with ``base``, the change rules on the
    models the change touches. With a base, only the manifests the change touches are
    checked (the base was checked when it was merged), unless it changes modelreg.yaml
    or ``whole`` asks for every manifest: a pull request costs what it changes. Raises
    :class:`GitError` for a base not in this clone."""
    if base is None:
        return Report(_by_file(reg.validate()), None)
    comparison = compare(reg, base)
    mb = comparison.merge_base
    config_changed = reg.base.at(mb, mb[:12], reg.store).read_bytes(CONFIG_FILE) != (
        reg.base.read_bytes(CONFIG_FILE)
    )
    scope = None if whole or config_changed else {p.model_id for p in comparison.pairs}
    problems = list(reg.validate(scope))
    old_record, new_record, record_problems = _records(reg, comparison)
    old_reg = Registry(reg.base.at(mb, mb[:12], reg.store))
    for pair in comparison.pairs:
        (old, old_readable), (new, new_readable) = pair.side(0), pair.side(1)
        if not (old_readable and new_readable):
            continue  # too little of a side can be read: validate reports why
        retired = (
            max(old_record.get(pair.model_id, 0), new_record.get(pair.model_id, 0))
            if old is None
            else 0
        )
        violations = check_change(old, new, reg.config, retired=retired)
        path = manifest_path(pair.model_id)
        if violations:
            on_base = [v for v in violations if v.in_base]
            on_head = [v for v in violations if not v.in_base]
            if on_head:
                problems += _placed(reg, path, on_head, pair.readings[1])
            if on_base:
                problems += [
                    replace(p, message=f"{p.message} (line of the base version of the file)")
                    for p in _placed(old_reg, path, on_base, pair.readings[0])
                ]
        if pair.new is not None:
            problems = _with_origins(reg, pair.new, path, problems)
    removed = [p.old for p in comparison.pairs if p.new is None and p.old is not None]
    added = [p.new for p in comparison.pairs if p.old is None and p.new is not None]
    for model_id, violation in check_renames(removed, added) if removed and added else ():
        problems += _placed(reg, manifest_path(model_id), [violation])
    return Report(_by_file(problems + record_problems), comparison)


def _by_file(problems: list[Problem]) -> tuple[Problem, ...]:
    """``problems`` grouped by file, in the order of their lines (as a compiler lists them)."""
    return tuple(sorted(problems, key=lambda p: (p.path, p.ref or "", p.line or 0, p.column or 0)))


def _records(
    reg: Registry, comparison: Comparison
) -> tuple[dict[str, int], dict[str, int], list[Problem]]:
    """The record of retired numbers at the merge base and here, and what the change
    does wrong to it (validate reports a record that does not load)."""
    mb = comparison.merge_base
    try:
        old = reg.base.at(mb, mb[:12], reg.store).retired_numbers()
        new = reg.base.retired_numbers()
    except InvalidManifestError:
        return {}, {}, []
    if old is None:
        # a base older than the record: what history says of the models this change
        # creates (the only ones whose numbers it can reuse)
        old = {
            p.model_id: reg.past(mb).retired_versions(p.model_id)
            for p in comparison.pairs
            if p.old is None
        }
        old = {k: v for k, v in old.items() if v}
        if new is None:
            return old, {}, []
    shown = reg.base.repo_path(retired.RETIRED_FILE)
    loaded = yamlio.loads(reg.base.read_bytes(retired.RETIRED_FILE) or b"", shown)
    deleted = {
        p.model_id: max(p.old.latest_version, (p.old.first_version or 1) - 1)
        for p in comparison.pairs
        if p.old is not None and p.new is None and not p.problems
    }
    found = retired.check(old, new or {}, deleted, loaded)
    return old, new or {}, reg.base.located(found)


def diff(reg: Registry, base: str) -> tuple[Comparison, list[ModelDelta]]:
    """What the change does to each model it touches, in model id order (a manifest that
    does not load on either side is a delta of kind ``invalid`` with its problems)."""
    comparison = compare(reg, base)
    deltas = [
        ModelDelta(p.model_id, "invalid", problems=p.problems)
        if p.problems
        else delta(p.old, p.new, p.model_id)
        for p in comparison.pairs
    ]
    return comparison, deltas


def _reading(reg: Registry, model_id: str) -> Reading:
    """What can be read of a manifest of ``reg`` that does not load."""
    data = reg.reader.read_bytes(manifest_path(model_id)) or b""
    return reg.base.reading(model_id, data)


def _loaded(reg: Registry, path: str) -> yamlio.Loaded:
    data = reg.reader.read_bytes(path)
    return yamlio.load(data or b"", reg.base.repo_path(path))


def _placed(
    reg: Registry, path: str, violations: list[Violation], reading: Reading | None = None
) -> list[Problem]:
    """Violations at their line in the manifest ``path`` of ``reg`` (of the part of it
    that can be read, for a manifest that does not load)."""
    if reading is not None and reading.loaded is not None:
        found = problems_at(reading.loaded, violations, reading.partial)
    else:
        found = problems_at(_loaded(reg, path), violations)
    return reg.base.located(found)


def _with_origins(reg: Registry, model: Model, path: str, problems: list[Problem]) -> list[Problem]:
    """Duplicate version numbers (two branches that each registered "version 4", merged)
    get the commit that wrote each of the two entries."""
    duplicates = [v for v in check_model(model, reg.config) if v.also is not None]
    if not duplicates:
        return problems
    loaded = _loaded(reg, path)
    out = list(problems)
    for v in duplicates:
        assert v.also is not None
        line, other = loaded.locate(v.path)[0], loaded.locate(v.also)[0]
        origins = []
        for at in (other, line):
            info = reg.store.last_commit_of_line(path, at)
            origins.append(
                f"line {at} from {info.sha[:10]} ({info.message})" if info else f"line {at}"
            )
        for i, p in enumerate(out):
            if p.path == loaded.path and p.line == line and p.field == yamlio.format_path(v.path):
                out[i] = replace(p, message=f"{p.message}; {' and '.join(origins)}")
    return out
