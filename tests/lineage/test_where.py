"""The --where condition language: pure parsing and matching."""

from __future__ import annotations

import pytest

from modelreg.where import Condition, WhereError, parse


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("metrics.accuracy >= 0.9", Condition("metrics.accuracy", ">=", 0.9)),
        ("metrics.accuracy>=0.9", Condition("metrics.accuracy", ">=", 0.9)),
        ("framework == xgboost", Condition("framework", "==", "xgboost")),
        ("model.owner = 'ana b'", Condition("model.owner", "=", "ana b")),
        ("labels.acme.com/tier != gold", Condition("labels.acme.com/tier", "!=", "gold")),
        ("training.epochs < 20", Condition("training.epochs", "<", 20.0)),
        ("lineage.run.tracker == mlflow", Condition("lineage.run.tracker", "==", "mlflow")),
        ("created_at >= 2025-01-20", Condition("created_at", ">=", "2025-01-20")),
        ("hyperparameters.early == true", Condition("hyperparameters.early", "==", True)),
    ],
)
def test_conditions_parse(text: str, expected: Condition) -> None:
    assert parse(text) == expected


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("metrics.accuracy >== 0.9", "'>==' at column 18 is not an operator"),
        ("metrics.accuracy 0.9", "expected FIELD OP VALUE"),
        ("metrics.accuracy >=", "no value after '>='"),
        (">= 0.9", "the field before it is empty"),
        ("colour == red", "unknown field 'colour'"),
        ("model.colour == red", "unknown field 'model.colour'"),
        ("metrics. > 1", "unknown field"),
        ("owner == 'ana", "quote ' is not closed"),
        ("owner == ana b", "holds spaces"),
    ],
)
def test_bad_conditions_say_what_and_where(text: str, says: str) -> None:
    with pytest.raises(WhereError) as info:
        parse(text)
    assert says in str(info.value)
    assert info.value.exit_code == 2


def test_matching_compares_like_with_like_and_missing_never_matches() -> None:
    high = parse("metrics.accuracy >= 0.9")
    assert high.test(0.94) and high.test(1) and not high.test(0.89)
    assert not high.test(None) and not high.test("0.95")
    assert not parse("metrics.accuracy != 0.9").test(None)
    assert parse("stage != production").test("staging")
    assert not parse("stage == 1").test("1")
    assert parse("hyperparameters.early == true").test(True)
    assert not parse("hyperparameters.early == true").test(1)
