"""The pull-request commands: ``validate`` (with ``--base``, the change rules) and ``diff``."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from modelreg.cli._common import (
    emit_json,
    format_option,
    open_registry,
    problem_line,
    ref_option,
)

if TYPE_CHECKING:
    from modelreg.delta import ModelDelta
    from modelreg.errors import Problem
    from modelreg.review import Comparison, Report

TITLE = "modelreg validate"


@click.command()
@click.option(
    "--base",
    metavar="REF",
    help="Check the change rules against the merge-base of REF and HEAD "
    "(as a pull request sees it): released versions immutable, versions never removed, "
    "numbers never reused, a deployed model not deleted, the promotion policy. "
    "Default: HEAD when checking the working tree of a repository with commits, so "
    "uncommitted edits meet the change rules (what a pre-commit hook needs).",
)
@format_option(
    "text",
    "json",
    "github",
    help="text: file:line:col: field: message, the file relative to the current folder; "
    "json: for scripts; github: workflow-command annotations shown on the changed lines "
    "of a pull request (json and github name files from the top of the repository).",
)
@ref_option
def validate(base: str | None, fmt: str, ref: str | None) -> None:
    """Check the config and every manifest against the schemas and rules; report all problems.

    The change rules check what a change does to each manifest it touches, compared
    with the merge-base of --base REF and HEAD (three dots, like a pull request page).
    The new side is the working tree (compared with HEAD unless --base says otherwise),
    or the commit given with --ref (change rules only with --base). Every problem of
    a file is reported, also when it does not load: the rules check what can be read.

    \b
    Examples:
      modelreg validate                                      # before committing
      modelreg validate --base origin/main --format github   # in CI
    Exit code 3 when there is any problem; 7 when the base commit is not in this
    clone (a shallow checkout: fetch it, or use fetch-depth: 0).
    """
    from modelreg.errors import InvalidManifestError
    from modelreg.review import Report, check

    try:
        reg = open_registry(ref)
        whole = base is None  # plain validate checks every manifest, and edits against HEAD
        if base is None and ref is None and _has_commits(reg):
            base = "HEAD"
        report = check(reg, base, whole=whole)
    except InvalidManifestError as exc:  # modelreg.yaml itself: reported as any problem
        _report(Report(exc.problems, None), fmt, exc.root)
        return
    _report(report, fmt, reg.base.top)


def _report(report: Report, fmt: str, top: Path | None) -> None:
    """Print ``report`` in ``fmt``; exit 3 when it has any problem."""
    problems = report.problems
    if fmt == "json":
        data: dict[str, Any] = {"valid": not problems, "problems": [p.to_dict() for p in problems]}
        if report.comparison is not None:
            data["base"] = report.comparison.base
            data["merge_base"] = report.comparison.merge_base
            data["changed"] = [p.model_id for p in report.comparison.pairs]
        emit_json(data)
    else:
        for p in problems:
            click.echo(github_annotation(p) if fmt == "github" else problem_line(p, top))
        summary = f"{len(problems)} problem(s)" if problems else "valid"
        if report.comparison is not None:
            n = len(report.comparison.pairs)
            summary += (
                f" ({n} changed manifest(s) since {report.comparison.merge_base[:10]}, "
                f"the merge-base with {report.comparison.base})"
            )
        click.echo(summary, err=bool(problems))
    if problems:
        raise SystemExit(3)


def _has_commits(reg: Any) -> bool:
    from modelreg.errors import GitError

    try:
        return reg.commit is not None
    except GitError:
        return False  # a registry folder outside git: schemas and rules only


def _escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(text: str) -> str:
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")


def github_annotation(problem: Problem) -> str:
    """A GitHub Actions workflow command that shows the problem on its line of the PR."""
    props = [f"file={_escape_property(problem.path)}"]
    if problem.line is not None:
        props.append(f"line={problem.line}")
        if problem.column is not None:
            props.append(f"col={problem.column}")
    props.append(f"title={_escape_property(TITLE)}")
    message = f"{problem.field}: {problem.message}" if problem.field else problem.message
    return f"::error {','.join(props)}::{_escape_data(message)}"


@click.command()
@click.argument("base", metavar="BASE")
@click.argument("head", metavar="[HEAD]", required=False)
@format_option(
    "text",
    "json",
    "markdown",
    help="text for people, json for scripts, markdown for a pull request comment.",
)
def diff(base: str, head: str | None, fmt: str) -> None:
    """What a change does to each model, since the merge-base of BASE and HEAD.

    HEAD is a commit, branch or tag; without it, the working tree. Per model:
    added or removed, versions added (key metrics and their delta against the
    base's production version), stage moves, deployment changes, metadata edits.

    \b
    Examples:
      modelreg diff origin/main
      modelreg diff main feature/churn-v4 --format markdown > comment.md
    Exit code 3 (after the report) when a changed manifest does not load.
    """
    from modelreg.review import diff as compute

    reg = open_registry(head)
    comparison, deltas = compute(reg, base)
    if fmt == "json":
        emit_json(
            {
                "base": comparison.base,
                "merge_base": comparison.merge_base,
                "head": comparison.head,
                "models": [d.to_dict() for d in deltas],
            }
        )
    elif fmt == "markdown":
        click.echo(markdown(comparison, deltas))
    else:
        click.echo(text(comparison, deltas, reg.base.top))
    if any(d.kind == "invalid" for d in deltas):
        raise SystemExit(3)


def _number(value: float) -> str:
    return f"{value:.6g}"


def _signed(value: float) -> str:
    return ("+" if value >= 0 else "") + f"{value:.4g}"


def _metrics(v: Any, markdown: bool = False) -> str:
    deltas = dict(v.deltas)
    parts = []
    for name, value in v.metrics:
        part = f"{name} {_number(value)}"
        if name in deltas:
            part += f" ({_signed(deltas[name])})"
        parts.append(part)
    return ", ".join(parts) or ("—" if markdown else "no metrics")


def _value(value: Any) -> str:
    if isinstance(value, list):
        return "[" + ", ".join(str(x) for x in value) + "]"
    return "(none)" if value is None or value == "" else str(value)


def _lines(d: ModelDelta, markdown: bool, top: Path | None = None) -> list[str]:
    """The bullet lines of one model (the same facts in both renderings; Markdown shows
    the added versions as a table instead, and names files from the repository's top)."""
    code = "`" if markdown else ""
    out = []
    for v in () if markdown else d.added:
        label = f" ({v.label})" if v.label else ""
        against = f", deltas vs production v{v.baseline}" if v.baseline and v.deltas else ""
        out.append(
            f"version {v.version}{label} added, stage {v.stage}: {_metrics(v, markdown)}{against}"
        )
    for e in d.moves:
        out.append(f"version {e.version}: {code}{e.before}{code} → {code}{e.after}{code}")
    if d.deployment is not None:
        before, after = d.deployment
        out.append(f"deployment: {before or 'not deployed'} → {after or 'undeployed'}")
    for edit in d.metadata:
        out.append(f"{edit.field}: {_value(edit.before)} → {_value(edit.after)}")
    for e in d.aliases:
        out.append(str(e))
    for e in d.version_edits:
        out.append(str(e))
    out += [f"{code}{p}{code}" if markdown else problem_line(p, top) for p in d.problems]
    return out


def text(comparison: Comparison, deltas: Sequence[ModelDelta], top: Path | None = None) -> str:
    head = comparison.head[:10] if comparison.head else "working tree"
    lines = [f"{len(deltas)} model(s) changed since {comparison.merge_base[:10]} ({head})"]
    for d in deltas:
        lines.append(f"{d.model_id}: {d.kind}")
        lines.extend(f"  {line}" for line in _lines(d, markdown=False, top=top))
    return "\n".join(lines)


def markdown(comparison: Comparison, deltas: Sequence[ModelDelta]) -> str:
    """A pull request comment; the first line is a marker a CI step can find to update it."""
    out = [
        "<!-- modelreg-diff -->",
        f"### modelreg: {len(deltas)} model(s) changed",
        "",
        f"Compared with `{comparison.base}` (merge-base `{comparison.merge_base[:10]}`).",
    ]
    icons = {"added": "🆕", "removed": "🗑️", "changed": "✏️", "invalid": "❌"}
    for d in deltas:
        out += ["", f"#### {icons.get(d.kind, '')} `{d.model_id}` — {d.kind}", ""]
        if d.added:
            out += ["| version | label | stage | metrics (Δ vs production) |", "|---|---|---|---|"]
            out += [
                f"| {v.version} | {v.label or ''} | {v.stage} | {_metrics(v, True)} |"
                for v in d.added
            ]
            out.append("")
        out += [f"- {line}" for line in _lines(d, markdown=True)]
    if not deltas:
        out += ["", "No manifest changed."]
    return "\n".join(out).rstrip() + "\n"


@click.command()
@click.argument("span", metavar="BASE..HEAD")
@format_option(
    "text",
    "json",
    "cloudevents",
    help="text: one audit line per change; json: one document; cloudevents: one "
    "CloudEvents 1.0 JSON document per line, for whatever notifies people.",
)
@click.option(
    "--source",
    metavar="URI",
    help="The CloudEvents source (default: the remote's URL, else /modelreg/<registry name>).",
)
def events(span: str, fmt: str, source: str | None) -> None:
    """What BASE..HEAD changed, one event per change: a version registered, a stage or an
    alias moved, a model deployed (HEAD defaults to HEAD: `events main~1..`).

    After a merge, `modelreg events HEAD^1..HEAD --format cloudevents` prints the
    merge's changes; the post-merge workflow of `modelreg init` posts them.
    """
    import datetime as dt

    from modelreg.cloudevents import Change, cloudevents
    from modelreg.events import between
    from modelreg.review import compare

    base, dots, head = span.partition("..")
    if not dots or not base or head.startswith("."):
        raise click.BadParameter(
            "give BASE..HEAD, e.g. main~1..main or HEAD^1..HEAD", param_hint="BASE..HEAD"
        )
    reg = open_registry(head or "HEAD")
    comparison = compare(reg, base)
    changes = [
        Change(pair.model_id, e) for pair in comparison.pairs for e in between(pair.old, pair.new)
    ]
    commit = reg.commit or ""
    if fmt == "text":
        for c in changes:
            click.echo(f"{c.model_id}: {c.event}")
        return
    info = reg.store.commit_info(commit)
    when = dt.datetime.fromtimestamp(info.time, dt.timezone.utc)
    docs = cloudevents(
        changes,
        source=source or _event_source(reg),
        base=comparison.merge_base,
        head=commit,
        time=when,
    )
    if fmt == "json":
        emit_json({"base": comparison.merge_base, "head": commit, "events": docs})
        return
    import json

    for doc in docs:
        click.echo(json.dumps(doc, separators=(",", ":")))


def _event_source(reg: Any) -> str:
    from modelreg.errors import ModelregError
    from modelreg.gitstore import remote

    try:
        url = remote.remote_url(reg.store, reg.config.git.remote)
    except ModelregError:
        return f"/modelreg/{reg.config.name}"
    # never publish credentials a remote URL may carry (https://user:token@host/...)
    scheme, sep, rest = url.partition("://")
    if sep and "@" in rest.split("/", 1)[0]:
        rest = rest.split("@", 1)[1]
    return f"{scheme}{sep}{rest}" if sep else url
