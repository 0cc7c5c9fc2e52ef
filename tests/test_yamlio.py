"""The YAML dialect: every class of bad input names file, line, column and field."""

from __future__ import annotations

import pytest

from modelreg import InvalidManifestError
from modelreg.schema import parse_manifest
from modelreg.yamlio import Editor, dumps, loads

GOOD = """\
# a comment people wrote
apiVersion: modelreg/v1
kind: Model
id: churn-xgb
name: Churn   # inline comment
framework: xgboost
tags: [churn, xgboost]
versions:
- version: 1
  label: v1.0.0
  stage: none
  created_at: 2025-01-15T10:30:00Z
  metrics: {accuracy: 0.89}
"""


def problems(text: str, file: str = "models/churn-xgb/model.yaml") -> list[str]:
    with pytest.raises(InvalidManifestError) as exc:
        parse_manifest(text, file, folder_id="churn-xgb")
    return [str(p) for p in exc.value.problems]


def test_good_manifest_loads() -> None:
    model = parse_manifest(GOOD, "m.yaml", folder_id="churn-xgb")
    assert model.versions[0].metrics == {"accuracy": 0.89}


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        (
            "  stage: none",
            "  stage: no",
            "models/churn-xgb/model.yaml:11:10: versions[0].stage: `no` is a YAML 1.1 boolean",
        ),
        (
            "- version: 1",
            "- version: 1.10",
            "models/churn-xgb/model.yaml:9:12: versions[0].version: expected a whole number, "
            "not `1.1` (YAML reads `1.10` as the number 1.1)",
        ),
        (
            "  label: v1.0.0",
            "  label: 2025-01-01",
            "models/churn-xgb/model.yaml:10:10: versions[0].label: expected text, not "
            "`2025-01-01` (YAML reads `2025-01-01` as a timestamp; quote it: '2025-01-01')",
        ),
        (
            "  label: v1.0.0",
            "  label: 1.10",
            "versions[0].label: expected text, not `1.1` (YAML reads `1.10` as a float",
        ),
        ("- version: 1", "- version: 012", "versions[0].version: `012` is a YAML 1.1 number form"),
        (
            "framework: xgboost",
            "framework: xgboost\ncolour: red",
            "models/churn-xgb/model.yaml:7:1: colour: unknown field",
        ),
        (
            "framework: xgboost",
            "framework: cobol",
            "models/churn-xgb/model.yaml:6:12: framework: 'cobol' is not one of: pytorch, "
            "tensorflow, xgboost, sklearn, onnx or custom",
        ),
        (
            "name: Churn",
            "name: Churn\nname: Again",
            "models/churn-xgb/model.yaml:6:1: name: duplicate key (first at line 5)",
        ),
        (
            "name: Churn",
            "name: !!python/object/apply:os.system [ls]",
            "name: tag 'tag:yaml.org,2002:python/object/apply:os.system' is not allowed",
        ),
        ("name: Churn", "name: !custom x", "name: tag '!custom' is not allowed"),
        (
            "  metrics: {accuracy: 0.89}",
            "  metrics: {accuracy: high}",
            "models/churn-xgb/model.yaml:13:23: versions[0].metrics.accuracy: expected a number, "
            "not 'high'",
        ),
        (
            "  created_at: 2025-01-15T10:30:00Z",
            "  created_at: 2025-01-15 10:30:00",
            "versions[0].created_at: `2025-01-15 10:30:00` has no timezone: write a date and "
            "time with its timezone",
        ),
        (
            "id: churn-xgb",
            "id: other",
            "models/churn-xgb/model.yaml:4:5: id: "
            "id 'other' must equal its folder name 'churn-xgb'",
        ),
        (
            "name: Churn   # inline comment",
            "name: [unclosed",
            "models/churn-xgb/model.yaml:6:10: YAML syntax: did not find expected ',' or ']'",
        ),
        ("kind: Model", "kind: Model\n<<: {name: x}", "merge keys (<<) are not allowed"),
    ],
)
def test_bad_input_is_located(old: str, new: str, expected: str) -> None:
    text = GOOD.replace(old, new)
    assert text != GOOD
    found = problems(text)
    assert any(expected in p for p in found), found


def test_all_problems_are_reported_not_just_the_first() -> None:
    text = GOOD.replace("framework: xgboost", "framework: cobol\ncolour: red").replace(
        "stage: none", "stage: shipped"
    )
    found = problems(text)
    assert len(found) == 3, found


def test_alias_bomb_is_refused() -> None:
    bomb = "a: &a [x, x, x, x, x, x, x, x, x]\n"
    for n in range(ord("b"), ord("k")):
        prev = chr(n - 1)
        bomb += f"{chr(n)}: &{chr(n)} [*{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}]\n"
    with pytest.raises(InvalidManifestError, match="alias bomb"):
        loads(bomb, "bomb.yaml")


def test_oversized_file_is_refused_before_parsing() -> None:
    with pytest.raises(InvalidManifestError, match="over the limit of 1024"):
        loads("a: " + "x" * 2000 + "\n", "big.yaml", max_bytes=1024)


def test_binary_and_empty_files() -> None:
    with pytest.raises(InvalidManifestError, match="not UTF-8"):
        loads(b"a: \xff\xfe\n", "bin.yaml")
    assert problems("") == ["models/churn-xgb/model.yaml:1:1: the file is empty"]


def test_editor_keeps_comments_order_and_style() -> None:
    e = Editor(GOOD)
    e.set(("name",), "Churn v2")
    e.set(("description",), "new", after=["id", "name"])
    e.set(("versions", 0, "stage"), "production")
    e.append(("versions",), {"version": 2, "stage": "none", "created_at": "x"})
    e.set(("tags",), ["a", "b"])
    text = e.text
    assert text.startswith("# a comment people wrote\n")
    assert "name: Churn v2   # inline comment\ndescription: new\n" in text
    assert "tags: [a, b]\n" in text and "  metrics: {accuracy: 0.89}\n" in text
    assert "  stage: production\n" in text
    assert loads(text, "x").value["versions"][1]["version"] == 2
    e.delete(("description",))
    assert "description" not in e.text and "# inline comment" in e.text


def test_editor_appends_before_trailing_comments() -> None:
    e = Editor(GOOD + "# end of versions\n")
    e.append(("versions",), {"version": 2})
    assert e.text.endswith("- version: 2\n# end of versions\n")


def test_a_value_met_twice_is_written_twice_not_as_an_anchor() -> None:
    shared = {"layers": [256, 128]}
    text = dumps([{"hyperparameters": shared}, {"hyperparameters": shared}])
    assert "&" not in text and "*" not in text
    assert loads(text, "<t>").value == [{"hyperparameters": shared}] * 2
