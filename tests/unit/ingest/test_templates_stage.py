"""The templates stage and the node's template book: ids on kept lines, stable across restarts
and crashes (insights/book.py, ingest/stages/templates.py)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from timberyard.ingest.batch import line_batch
from timberyard.ingest.stages import Context
from timberyard.insights.book import JOURNAL_FILE, SNAPSHOT_FILE, TemplateBook
from timberyard.insights.registry import Miners
from unit.ingest.conftest import column, run
from unit.ingest.test_rules import rules_of

Make = Callable[..., Context]

SSHD = [
    "Invalid user webmaster from 173.234.31.186",
    "Accepted publickey for deploy from 10.0.0.7 port 52144 ssh2",
    "Invalid user admin from 10.0.0.7",
    "Accepted publickey for root from 10.0.0.9 port 40022 ssh2",
    "Invalid user webmaster from 173.234.31.186",
]


def test_kept_lines_get_their_templates_id(context: Make, tmp_path: Path) -> None:
    book = TemplateBook.open(tmp_path)
    record = run(line_batch("acct", "http", SSHD, app="sshd"), context(templates=book))
    ids = column(record, "template")
    assert all(ids)
    assert ids[0] == ids[2] == ids[4] != ids[1] == ids[3]
    assert book.find("acct", ids[0]) == ("sshd", "Invalid user <*> from <*>")


def test_the_same_line_gets_the_same_id_in_later_batches_and_apps_are_apart(context: Make, tmp_path: Path) -> None:
    book = TemplateBook.open(tmp_path)
    first = column(run(line_batch("acct", "http", SSHD, app="sshd"), context(templates=book)), "template")
    again = column(run(line_batch("acct", "http", SSHD[::-1], app="sshd"), context(templates=book)), "template")
    assert again == first[::-1]
    other_app = column(run(line_batch("acct", "http", SSHD, app="auth"), context(templates=book)), "template")
    assert set(other_app).isdisjoint(first)


def test_excluded_lines_are_not_mined(context: Make, tmp_path: Path) -> None:
    book = TemplateBook.open(tmp_path)
    rules = rules_of(("exclude", {"query": "healthz"}), ("exclude", {"query": "webmaster", "preserve_for_tail": True}))
    batch = line_batch("acct", "http", ["GET /healthz 200", *SSHD], app="web")
    record = run(batch, context(rules=rules, templates=book))
    assert "GET /healthz 200" not in column(record, "line")
    assert all(column(record, "template"))  # lines kept for live tail only are mined too
    texts = {text for _, miner in book.miners.of_account("acct") for text in (t.text for t in miner.templates())}
    assert texts == {"Invalid user <*> from <*>", "Accepted publickey for <*> from <*> port <*> ssh2"}


def test_templates_off_gives_template_zero(context: Make) -> None:
    record = run(line_batch("acct", "http", SSHD, app="sshd"), context())
    assert column(record, "template") == [0] * len(SSHD)


def test_ids_survive_a_clean_restart(context: Make, tmp_path: Path) -> None:
    book = TemplateBook.open(tmp_path)
    before = column(run(line_batch("acct", "http", SSHD, app="sshd"), context(templates=book)), "template")
    book.close()
    assert (tmp_path / SNAPSHOT_FILE).exists() and not (tmp_path / JOURNAL_FILE).exists()
    reopened = TemplateBook.open(tmp_path)
    after = column(run(line_batch("acct", "http", SSHD, app="sshd"), context(templates=reopened)), "template")
    assert after == before
    assert reopened.find("acct", before[1]) == ("sshd", "Accepted publickey for <*> from <*> port <*> ssh2")


def test_ids_survive_a_crash_through_the_journal(context: Make, tmp_path: Path) -> None:
    """Relearning alone would not keep ids: an id is a hash of a template's first text, so a
    crash that lost the template and then met its lines in another order would give a new id.
    The journal written before the lines reach the write-ahead log keeps them."""
    lines = ["login ok for alice", "login ok for bob"]
    book = TemplateBook.open(tmp_path)
    before = column(run(line_batch("acct", "http", lines, app="web"), context(templates=book)), "template")
    assert before[0] == before[1]
    # no save: the process dies here; what is on disk is the journal only
    assert not (tmp_path / SNAPSHOT_FILE).exists()

    relearnt = TemplateBook(tmp_path / "elsewhere", Miners())  # what relearning alone would give
    (tmp_path / "elsewhere").mkdir()
    assert relearnt.mine("acct", ["web"], [lines[1]]) != [before[0]]

    recovered = TemplateBook.open(tmp_path)
    assert recovered.mine("acct", ["web", "web"], lines[::-1]) == before
    assert (tmp_path / SNAPSHOT_FILE).exists() and not (tmp_path / JOURNAL_FILE).exists()


def test_a_journal_cut_short_by_a_crash_is_read_up_to_the_cut(tmp_path: Path) -> None:
    book = TemplateBook.open(tmp_path)
    ids = book.mine("acct", ["a", "b"], ["disk full on sda", "cache warm after 12 ms"])
    journal = tmp_path / JOURNAL_FILE
    journal.write_bytes(journal.read_bytes() + b'{"account": "acct", "app": "c", "id": 4')
    recovered = TemplateBook.open(tmp_path)
    assert recovered.find("acct", ids[0]) == ("a", "disk full on sda")
    assert recovered.find("acct", ids[1]) == ("b", "cache warm after <*> ms")


def test_another_accounts_template_is_not_found(tmp_path: Path) -> None:
    book = TemplateBook.open(tmp_path)
    [ident] = book.mine("acct-a", ["sshd"], [SSHD[0]])
    assert book.find("acct-a", ident) is not None
    assert book.find("acct-b", ident) is None
    assert book.find("acct-a", ident + 1) is None


def test_repeated_lines_are_answered_from_the_exact_line_table(tmp_path: Path) -> None:
    """A cached line gives the id the miner gave it; a line too long for the table still works."""
    book = TemplateBook.open(tmp_path)
    long_line = "payload " + "x" * 300 + " done"
    first = book.mine("acct", ["app"] * 3, ["GET /a 200", "GET /a 200", long_line])
    assert first[0] == first[1]
    assert book.mine("acct", ["app", "app"], [long_line, "GET /a 200"]) == [first[2], first[0]]


def test_the_snapshot_is_rewritten_only_when_a_template_was_born(tmp_path: Path) -> None:
    book = TemplateBook.open(tmp_path)
    book.mine("acct", ["app"], ["GET /a 200"])
    book.save()
    (tmp_path / SNAPSHOT_FILE).write_bytes((tmp_path / SNAPSHOT_FILE).read_bytes())  # a new mtime marks a rewrite
    marked = (tmp_path / SNAPSHOT_FILE).stat().st_mtime_ns
    book.mine("acct", ["app"], ["GET /b 200"])  # a known template
    book.save()
    assert (tmp_path / SNAPSHOT_FILE).stat().st_mtime_ns == marked
    book.mine("acct", ["app"], ["disk full on sda"])  # a new one
    book.save()
    assert not (tmp_path / JOURNAL_FILE).exists()
    assert TemplateBook.open(tmp_path).find("acct", book.mine("acct", ["app"], ["disk full on sda"])[0]) is not None
