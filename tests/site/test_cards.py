"""Model cards: written by create, rendered safely, checked by validate, shown by show."""

from __future__ import annotations

from pathlib import Path

from modelreg import Registry
from modelreg.cards import MAX_CARD_BYTES, card_path, to_html
from tests.conftest import RunCli, git


def test_create_writes_a_card_in_the_same_commit(
    tmp_path: Path,
    run_cli: RunCli,
) -> None:
    reg = Registry.init(tmp_path / "reg")
    out = run_cli("-R", str(reg.root), "create", "churn", "--name", "Churn", "--framework",
                  "xgboost", "--description", "Predicts churn.")  # fmt: skip
    assert out.code == 0, out.err
    card = (reg.root / card_path("churn")).read_text()
    assert card.startswith("# Churn\n\nPredicts churn.\n") and "## Limitations" in card
    assert git(reg.root, "status", "--porcelain") == ""
    files = git(reg.root, "show", "--name-only", "--format=", "HEAD").split()
    assert files == ["models/churn/README.md", "models/churn/model.yaml"]
    out = run_cli("-R", str(reg.root), "create", "bare", "--name", "B", "--framework", "onnx",
                  "--no-card")  # fmt: skip
    assert out.code == 0 and not (reg.root / card_path("bare")).exists()


def test_show_prints_the_card(
    tmp_path: Path,
    run_cli: RunCli,
) -> None:
    reg = Registry.init(tmp_path / "reg")
    with reg.transaction() as tx:
        tx.create_model("m", name="M", framework="onnx")
        tx.write_file("models/m/README.md", b"# M\n\nA *card*.\n")
    out = run_cli("-R", str(reg.root), "show", "m")
    assert out.code == 0 and "Model card (models/m/README.md):" in out.out
    assert out.out.rstrip().endswith("A *card*.")
    as_json = run_cli("-R", str(reg.root), "show", "m", "--json")
    assert '"card": "# M\\n\\nA *card*.\\n"' in as_json.out


def test_validate_reports_an_oversized_or_binary_card(
    tmp_path: Path,
    run_cli: RunCli,
) -> None:
    reg = Registry.init(tmp_path / "reg")
    reg.create_model("m", name="M", framework="onnx")
    assert run_cli("-R", str(reg.root), "validate").code == 0
    (reg.root / card_path("m")).write_text("x" * (MAX_CARD_BYTES + 1))
    out = run_cli("-R", str(reg.root), "validate")
    assert out.code == 3
    assert "models/m/README.md" in out.out + out.err and "over the limit" in out.out + out.err
    (reg.root / card_path("m")).write_bytes(b"# M\n\xff\xfe")
    out = run_cli("-R", str(reg.root), "validate")
    assert out.code == 3 and "not UTF-8" in out.out + out.err


def test_card_html_is_commonmark_without_raw_html_or_script_links() -> None:
    html = to_html(
        "# T\n\n**b** <script>alert(1)</script>\n\n[x](javascript:alert(1)) [ok](https://e.com)\n"
    )
    assert "<strong>b</strong>" in html
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert 'href="javascript:' not in html and '<a href="https://e.com">ok</a>' in html
