"""The pending-write record: whole or absent, kept in one file rewritten in place."""

from __future__ import annotations

from pathlib import Path

from modelreg.gitstore.journal import Journal, Pending


def test_a_record_is_read_back_until_cleared(tmp_path: Path) -> None:
    journal = Journal(tmp_path / "modelreg")
    assert journal.read() is None
    pending = Pending("a" * 40, {"models/m/model.yaml": "b" * 40, "gone.yaml": None}, 42)
    journal.write(pending)
    assert journal.read() == pending
    inode = journal.path.stat().st_ino
    journal.clear()
    assert journal.read() is None
    journal.write(Pending(None, {"x": None}, 7))
    assert journal.read() == Pending(None, {"x": None}, 7)
    assert journal.path.stat().st_ino == inode  # the same file, rewritten


def test_a_torn_record_means_the_write_had_not_begun(tmp_path: Path) -> None:
    journal = Journal(tmp_path / "modelreg")
    journal.write(Pending("a" * 40, {"models/m/model.yaml": "b" * 40}, 42))
    whole = journal.path.read_bytes()
    for cut in (1, len(whole) // 2, len(whole) - 1):
        journal.path.write_bytes(whole[:cut])
        assert journal.read() is None


def test_a_longer_record_left_behind_is_replaced_whole(tmp_path: Path) -> None:
    journal = Journal(tmp_path / "modelreg")
    journal.write(Pending("a" * 40, {f"models/m{i}/model.yaml": "b" * 40 for i in range(50)}, 1))
    short = Pending(None, {"x": None}, 2)
    journal.write(short)  # over a record nobody cleared (recovery reads it first)
    assert journal.read() == short


def test_the_git_processes_of_a_write_are_recorded_until_cleared(tmp_path: Path) -> None:
    journal = Journal(tmp_path / "modelreg")
    assert journal.helpers() == []
    journal.write(Pending(None, {"x": "b" * 40}, 1))
    journal.add_helper(101)
    journal.add_helper(102)
    with journal.helpers_path.open("a") as fh:
        fh.write("10")  # a line torn by a crash
    assert Journal(journal.folder).helpers() == [101, 102]  # as another process reads it
    other = Journal(journal.folder)
    other.clear()  # a process that recorded none leaves the record of those that did
    assert other.helpers() == [101, 102]
    other.clear(helpers=True)  # recovery: every record goes
    assert other.helpers() == []
    journal.add_helper(103)
    journal.clear()  # the writer's own
    assert journal.helpers() == []
    assert journal.read() is None
