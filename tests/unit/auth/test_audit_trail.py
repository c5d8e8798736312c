"""The audit trail on a real SQLite metadata database: recording, sealing, and verify catching
every kind of tampering an attacker with write access to the database can do."""

from __future__ import annotations

import base64
import threading
from datetime import UTC, datetime, timedelta

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import text

from timberyard.auth import signing
from timberyard.auth.audit import (
    GENESIS,
    MAX_DIGESTS_PER_SEAL,
    SYSTEM_ACCOUNT,
    AuditEvent,
    AuditTrail,
    digest_hash,
    entry_hash,
)
from timberyard.core.errors import BadRequest, ConfigError
from timberyard.meta import audit as store
from timberyard.meta.audit import AuditEntryInfo
from timberyard.meta.database import MetaDB

BASE = datetime(2026, 3, 1, 10, 0, tzinfo=UTC)
ACCOUNT = "acct1"
SEALED_AT = BASE + timedelta(hours=6)  # 50 entries 5 minutes apart end at 14:05


@pytest.fixture
def key() -> Ed25519PrivateKey:
    return Ed25519PrivateKey.generate()


@pytest.fixture
def trail(db: MetaDB, key: Ed25519PrivateKey) -> AuditTrail:
    return AuditTrail(db, key)


@pytest.fixture
def chain(trail: AuditTrail) -> list[AuditEntryInfo]:
    """50 entries over four hours, sealed: digests for 10:00 to 15:00."""
    entries = [
        trail.record(AuditEvent(ACCOUNT, "search", actor_type="user", actor_id=f"u{i % 3}", actor_name=f"user{i % 3}@example.com",
                                query=f"error app:web{i}", ip="10.0.0.1", details={"n": i}, at=BASE + timedelta(minutes=5 * i)))
        for i in range(50)
    ]  # fmt: skip
    assert trail.seal(SEALED_AT) == 6
    return entries


def sql(db: MetaDB, statement: str, **params: object) -> None:
    """Tampering as an attacker with the database file would: raw SQL, no application code."""
    with db.engine.begin() as connection:
        connection.execute(text(statement), params)


def problems(trail: AuditTrail, **kwargs: object) -> list[str]:
    result = trail.verify(**kwargs)  # type: ignore[arg-type]
    assert not result.ok
    return list(result.problems)


def test_a_chain_of_50_entries_verifies(trail: AuditTrail, chain: list[AuditEntryInfo]) -> None:
    result = trail.verify()
    assert result.ok, result.problems
    assert (result.entries_checked, result.digests_checked) == (50, 6)
    assert [e.seq for e in chain] == list(range(1, 51))
    assert chain[0].prev_hash == GENESIS
    assert all(b.prev_hash == a.hash for a, b in zip(chain, chain[1:], strict=False))
    assert all(entry_hash(e) == e.hash for e in chain)


def test_entries_store_ms_times_and_details_as_sorted_json(trail: AuditTrail) -> None:
    entry = trail.record(AuditEvent(ACCOUNT, "key.create", details={"b": 1, "a": [1, 2]}, at=datetime(2026, 1, 1, 1, 2, 3, 456789, tzinfo=UTC)))
    assert entry.at == datetime(2026, 1, 1, 1, 2, 3, 456000, tzinfo=UTC)
    assert entry.details_json == '{"a":[1,2],"b":1}'
    assert entry.to_dict()["at"] == "2026-01-01T01:02:03.456Z"
    assert entry.to_dict()["details"] == {"a": [1, 2], "b": 1}
    stored = trail.entries(ACCOUNT)[0]
    assert stored == entry and entry_hash(stored) == stored.hash


def test_over_long_text_is_cut_to_the_columns_before_hashing(trail: AuditTrail) -> None:
    entry = trail.record(AuditEvent(ACCOUNT, "login.failure", outcome="failure", actor_type="anonymous",
                                    actor_name="a" * 1000, target="t" * 1000, user_agent="u" * 1000, ip="1" * 100))  # fmt: skip
    assert (len(entry.actor_name or ""), len(entry.target or ""), len(entry.user_agent or ""), len(entry.ip or "")) == (254, 400, 400, 45)
    assert trail.verify().ok


def test_events_without_an_account_go_to_the_system_chain(trail: AuditTrail) -> None:
    entry = trail.record(AuditEvent("", "login.failure", outcome="failure", actor_type="anonymous", actor_name="nobody@example.com"))
    assert (entry.account_id, entry.seq) == (SYSTEM_ACCOUNT, 1)
    assert [e.id for e in trail.entries("")] == [entry.id]
    assert trail.verify(account_id="").entries_checked == 1


@pytest.mark.parametrize(
    ("event", "message"),
    [
        (AuditEvent(ACCOUNT, "search", outcome="maybe"), "unknown audit outcome 'maybe'"),
        (AuditEvent(ACCOUNT, "search", actor_type="robot"), "unknown actor type 'robot'"),
        (AuditEvent(ACCOUNT, ""), "needs an action"),
        (AuditEvent(ACCOUNT, "search", at=datetime(2026, 1, 1)), "timezone-aware"),
        (AuditEvent(ACCOUNT, "search", details={"x": {1, 2}}), "must be a JSON object"),
        (AuditEvent("x" * 33, "search"), "longer than 32 characters"),
        (AuditEvent(ACCOUNT, "audit.purge"), "written by purge"),
    ],
)
def test_bad_events_are_refused_clearly(trail: AuditTrail, event: AuditEvent, message: str) -> None:
    with pytest.raises(BadRequest, match=message):
        trail.record(event)


def test_times_never_go_back_along_the_chain_nor_into_a_sealed_hour(trail: AuditTrail, chain: list[AuditEntryInfo]) -> None:
    late = trail.record(AuditEvent(ACCOUNT, "search", at=BASE))
    assert late.at == SEALED_AT  # the earliest time no digest covers
    assert trail.verify().ok


# -- sealing ----------------------------------------------------------------------------------


def test_every_complete_hour_gets_a_signed_chained_digest(db: MetaDB, trail: AuditTrail, key: Ed25519PrivateKey, chain: list[AuditEntryInfo]) -> None:
    with db.reading() as session:
        digests = list(store.iter_digests(session, ACCOUNT, None, None))
    assert [d.period_start for d in digests] == [BASE + timedelta(hours=h) for h in range(6)]
    assert [(d.first_seq, d.last_seq) for d in digests] == [(1, 12), (13, 24), (25, 36), (37, 48), (49, 50), (None, None)]
    assert digests[4].last_hash == digests[5].last_hash == chain[-1].hash  # an empty hour keeps the head
    assert digests[0].prev_digest_hash == GENESIS
    assert all(b.prev_digest_hash == a.digest_hash for a, b in zip(digests, digests[1:], strict=False))
    assert all(signing.signature_valid(key.public_key(), d.digest_hash, d.signature) and digest_hash(d) == d.digest_hash for d in digests)
    assert trail.seal(SEALED_AT) == 0  # nothing new to seal
    assert trail.seal(SEALED_AT + timedelta(minutes=59)) == 0  # the hour is not over yet
    assert trail.seal(SEALED_AT + timedelta(hours=2)) == 2


def test_a_long_idle_node_catches_up_in_steps(trail: AuditTrail) -> None:
    trail.record(AuditEvent(ACCOUNT, "search", at=BASE))
    later = BASE + timedelta(days=40)
    assert trail.seal(later) == MAX_DIGESTS_PER_SEAL
    assert trail.seal(later) == 40 * 24 - MAX_DIGESTS_PER_SEAL
    assert trail.verify().digests_checked == 40 * 24


def test_a_trail_without_a_signing_key_verifies_but_cannot_seal(db: MetaDB, key: Ed25519PrivateKey, chain: list[AuditEntryInfo]) -> None:
    auditor = AuditTrail(db, None, trusted_keys=[key.public_key()])
    assert auditor.verify().ok
    with pytest.raises(ConfigError, match="can verify but not seal"):
        auditor.seal()
    with pytest.raises(ConfigError, match="no signing key"):
        auditor.public_key_pem()


def test_digests_signed_by_another_key_are_not_trusted(db: MetaDB, chain: list[AuditEntryInfo]) -> None:
    found = problems(AuditTrail(db, Ed25519PrivateKey.generate()))
    assert len(found) == 6
    assert found[0].startswith(f"account {ACCOUNT}: digest for the hour from 2026-03-01T10:00:00.000Z (id ")
    assert "which is not a trusted key" in found[0]


def test_unsealed_entries_are_a_note_not_a_problem(trail: AuditTrail, chain: list[AuditEntryInfo]) -> None:
    trail.record(AuditEvent(ACCOUNT, "search"))
    result = trail.verify()
    assert result.ok
    assert result.notes == (f"account {ACCOUNT}: 1 entry since {_iso_hour(datetime.now(UTC))} not yet sealed by a signed digest",)


# -- tampering ----------------------------------------------------------------------------------


def test_editing_a_field_is_named(db: MetaDB, trail: AuditTrail, chain: list[AuditEntryInfo]) -> None:
    sql(db, "UPDATE audit_entries SET query = 'innocent' WHERE account_id = :a AND seq = 20", a=ACCOUNT)
    assert problems(trail) == [f"account {ACCOUNT}: entry seq 20 (id {chain[19].id}): its hash does not match its contents (edited)"]


@pytest.mark.parametrize("column", ["account_id", "at", "actor_type", "actor_name", "action", "outcome", "details", "ip"])
def test_editing_any_hashed_column_is_detected(db: MetaDB, trail: AuditTrail, chain: list[AuditEntryInfo], column: str) -> None:
    value = {"at": "2026-03-01 11:36:00.001000", "details": '{"n":99}'}.get(column, "x")
    sql(db, f"UPDATE audit_entries SET {column} = :v WHERE id = :id", v=value, id=chain[19].id)
    assert any(f"(id {chain[19].id})" in p for p in problems(trail))


def test_editing_a_field_and_its_hash_breaks_the_next_link(db: MetaDB, trail: AuditTrail, chain: list[AuditEntryInfo]) -> None:
    forged = _replace(chain[19], query="innocent")
    sql(db, "UPDATE audit_entries SET query = 'innocent', hash = :h WHERE id = :id", h=forged.hash, id=forged.id)
    assert problems(trail) == [
        f"account {ACCOUNT}: entry seq 21 (id {chain[20].id}): prev_hash is not the hash of seq 20 (entries inserted, replaced or reordered)"
    ]


def test_deleting_an_entry_is_named(db: MetaDB, trail: AuditTrail, chain: list[AuditEntryInfo]) -> None:
    sql(db, "DELETE FROM audit_entries WHERE id = :id", id=chain[19].id)
    found = problems(trail)
    assert f"account {ACCOUNT}: entry seq 20 is missing between id {chain[18].id} and id {chain[20].id} (deleted)" in found


def test_deleting_the_first_entries_is_named(db: MetaDB, trail: AuditTrail, chain: list[AuditEntryInfo]) -> None:
    sql(db, "DELETE FROM audit_entries WHERE account_id = :a AND seq <= 3", a=ACCOUNT)
    found = problems(trail)
    assert f"account {ACCOUNT}: entries seq 1..3 are missing before id {chain[3].id}, and no purge accounts for them (deleted)" in found


def test_deleting_the_newest_sealed_entries_is_caught_by_the_digest(db: MetaDB, trail: AuditTrail, chain: list[AuditEntryInfo]) -> None:
    sql(db, "DELETE FROM audit_entries WHERE account_id = :a AND seq >= 48", a=ACCOUNT)
    found = problems(trail)
    assert any(p.startswith(f"account {ACCOUNT}: digest for the hour from 2026-03-01T13:00:00.000Z") and "covers entries seq 37..48, but that hour holds seq 37..47" in p for p in found)
    assert any("digest for the hour from 2026-03-01T14:00:00.000Z" in p and "covers entries seq 49..50, but that hour holds none (deleted)" in p for p in found)


def test_inserting_a_well_formed_forged_entry_is_detected(db: MetaDB, trail: AuditTrail, chain: list[AuditEntryInfo]) -> None:
    """The attacker renumbers the entries after seq 20 and slips in one with a correct hash."""
    sql(db, "UPDATE audit_entries SET seq = seq + 1000 WHERE account_id = :a AND seq > 20", a=ACCOUNT)
    sql(db, "UPDATE audit_entries SET seq = seq - 999 WHERE account_id = :a AND seq > 1000", a=ACCOUNT)
    forged = _replace(chain[20], id=0, seq=21, prev_hash=chain[19].hash, action="export", at=chain[19].at)
    sql(db, """INSERT INTO audit_entries (account_id, seq, at, actor_type, actor_id, actor_name, action, target, query, ip,
               user_agent, outcome, details, prev_hash, hash) VALUES (:a, 21, '2026-03-01 11:35:00.000000', 'user', 'u1',
               'user1@example.com', 'export', NULL, :q, '10.0.0.1', NULL, 'success', :d, :p, :h)""",
        a=ACCOUNT, q=forged.query, d=forged.details_json, p=forged.prev_hash, h=forged.hash)  # fmt: skip
    found = problems(trail)
    assert f"account {ACCOUNT}: entry seq 22 (id {chain[20].id}): its hash does not match its contents (edited)" in found
    assert any("covers entries seq 13..24, but that hour holds seq 13..25" in p for p in found)


def test_swapping_two_entries_is_detected(db: MetaDB, trail: AuditTrail, chain: list[AuditEntryInfo]) -> None:
    a, b = chain[9], chain[10]
    sql(db, "UPDATE audit_entries SET seq = -1 WHERE id = :id", id=a.id)
    sql(db, "UPDATE audit_entries SET seq = :s, at = (SELECT at FROM audit_entries WHERE id = :other) WHERE id = :id", s=a.seq, other=a.id, id=b.id)
    sql(db, "UPDATE audit_entries SET seq = :s, at = :t WHERE id = :id", s=b.seq, t=b.at.replace(tzinfo=None).isoformat(sep=" "), id=a.id)
    found = problems(trail)
    assert f"account {ACCOUNT}: entry seq 10 (id {b.id}): its hash does not match its contents (edited)" in found
    assert f"account {ACCOUNT}: entry seq 11 (id {a.id}): its hash does not match its contents (edited)" in found


def test_a_forged_digest_signature_is_named(db: MetaDB, trail: AuditTrail, chain: list[AuditEntryInfo]) -> None:
    with db.reading() as session:
        digest = list(store.iter_digests(session, ACCOUNT, None, None))[2]
    bogus = base64.b64encode(Ed25519PrivateKey.generate().sign(bytes.fromhex(digest.digest_hash))).decode()
    sql(db, "UPDATE audit_digests SET signature = :s WHERE id = :id", s=bogus, id=digest.id)
    assert problems(trail) == [f"account {ACCOUNT}: digest for the hour from 2026-03-01T12:00:00.000Z (id {digest.id}): its signature is not valid (forged or edited)"]


def test_a_rewritten_digest_is_detected(db: MetaDB, trail: AuditTrail, chain: list[AuditEntryInfo]) -> None:
    """Hiding deleted entries by rewriting the digest fails without the private key."""
    with db.reading() as session:
        digest = list(store.iter_digests(session, ACCOUNT, None, None))[3]
    sql(db, "DELETE FROM audit_entries WHERE account_id = :a AND seq = 48", a=ACCOUNT)
    sql(db, "UPDATE audit_digests SET last_seq = 47, last_hash = :h WHERE id = :id", h=chain[46].hash, id=digest.id)
    found = problems(trail)
    assert any(f"(id {digest.id}): its hash does not match its contents (edited)" in p for p in found)
    rehashed = digest_hash(_replace_digest(digest, last_seq=47, last_hash=chain[46].hash))
    sql(db, "UPDATE audit_digests SET digest_hash = :h WHERE id = :id", h=rehashed, id=digest.id)
    assert any(f"(id {digest.id}): its signature is not valid (forged or edited)" in p for p in problems(trail))


def test_deleting_a_digest_is_named(db: MetaDB, trail: AuditTrail, chain: list[AuditEntryInfo]) -> None:
    sql(db, "DELETE FROM audit_digests WHERE account_id = :a AND period_start = '2026-03-01 12:00:00.000000'", a=ACCOUNT)
    found = problems(trail)
    assert f"account {ACCOUNT}: no digest for 2026-03-01T12:00:00.000Z to 2026-03-01T13:00:00.000Z (deleted)" in found
    assert f"account {ACCOUNT}: the hour from 2026-03-01T12:00:00.000Z holds entries seq 25..36, which no digest covers" in found


def test_deleting_the_first_digest_is_named(db: MetaDB, trail: AuditTrail, chain: list[AuditEntryInfo]) -> None:
    sql(db, "DELETE FROM audit_digests WHERE account_id = :a AND period_start = '2026-03-01 10:00:00.000000'", a=ACCOUNT)
    found = problems(trail)
    assert any("digest for the hour from 2026-03-01T11:00:00.000Z" in p and "the digests before it are missing" in p for p in found)


def test_other_accounts_are_unaffected_and_named_apart(db: MetaDB, trail: AuditTrail, chain: list[AuditEntryInfo]) -> None:
    other = trail.record(AuditEvent("acct2", "search", at=BASE))
    sql(db, "UPDATE audit_entries SET action = 'x' WHERE id = :id", id=other.id)
    assert trail.verify(account_id=ACCOUNT).ok
    assert problems(trail) == [f"account acct2: entry seq 1 (id {other.id}): its hash does not match its contents (edited)"]


# -- windows -------------------------------------------------------------------------------------


def test_a_window_checks_only_itself_and_its_links(db: MetaDB, trail: AuditTrail, chain: list[AuditEntryInfo]) -> None:
    sql(db, "UPDATE audit_entries SET query = 'x' WHERE id = :id", id=chain[2].id)  # 10:10, outside the window
    window = {"start": BASE + timedelta(hours=2, minutes=30), "end": BASE + timedelta(hours=3, minutes=10)}
    result = trail.verify(**window)  # widened to 12:00..14:00
    assert result.ok, result.problems
    assert (result.entries_checked, result.digests_checked) == (24, 2)
    sql(db, "DELETE FROM audit_entries WHERE id = :id", id=chain[24].id)  # seq 25, the window's first
    found = problems(trail, **window)
    assert f"account {ACCOUNT}: entry seq 25 is missing between id {chain[23].id} and id {chain[25].id} (deleted)" in found
    assert any("(id " in p and "covers entries seq 25..36, but that hour holds seq 26..36" in p for p in found)


def test_a_window_sees_the_entries_after_it_were_cut(db: MetaDB, trail: AuditTrail, chain: list[AuditEntryInfo]) -> None:
    sql(db, "DELETE FROM audit_entries WHERE id = :id", id=chain[36].id)  # seq 37, the first after 12:00..13:00
    found = problems(trail, start=BASE + timedelta(hours=2), end=BASE + timedelta(hours=2, minutes=59))
    assert f"account {ACCOUNT}: entry seq 37 is missing after id {chain[35].id} (deleted)" in found


def test_a_window_whose_digests_were_all_deleted_fails(db: MetaDB, trail: AuditTrail, chain: list[AuditEntryInfo]) -> None:
    sql(db, "DELETE FROM audit_digests WHERE account_id = :a AND period_start IN ('2026-03-01 12:00:00.000000', '2026-03-01 13:00:00.000000')", a=ACCOUNT)
    found = problems(trail, start=BASE + timedelta(hours=2), end=BASE + timedelta(hours=3, minutes=30))
    assert f"account {ACCOUNT}: no digest for 2026-03-01T12:00:00.000Z to 2026-03-01T14:00:00.000Z (deleted)" in found
    assert f"account {ACCOUNT}: the hour from 2026-03-01T12:00:00.000Z holds entries seq 25..36, which no digest covers" in found
    assert f"account {ACCOUNT}: the hour from 2026-03-01T13:00:00.000Z holds entries seq 37..48, which no digest covers" in found


# -- purging -------------------------------------------------------------------------------------


def test_purge_keeps_the_trail_verifiable(db: MetaDB, trail: AuditTrail, chain: list[AuditEntryInfo]) -> None:
    now = BASE + timedelta(days=1, hours=2, minutes=30)  # one day of retention: 12:00 the day before is the cutoff
    assert trail.purge(now, retention_days=1) == 24
    remaining = trail.entries(ACCOUNT, limit=100)
    purge = remaining[0]
    assert (purge.action, purge.seq, purge.actor_type) == ("audit.purge", 51, "system")
    assert purge.details["through_seq"] == 24 and purge.details["through_hash"] == chain[23].hash
    assert purge.details["through_period_end"] == "2026-03-01T12:00:00.000Z"
    assert [e.seq for e in remaining[1:]] == list(range(50, 24, -1))
    result = trail.verify()
    assert result.ok, result.problems
    assert trail.purge(now, retention_days=1) == 0  # nothing more, and no new purge entry
    assert trail.entries(ACCOUNT, limit=1)[0].id == purge.id


def test_purge_then_tampering_is_still_caught(db: MetaDB, trail: AuditTrail, chain: list[AuditEntryInfo]) -> None:
    trail.purge(BASE + timedelta(days=1, hours=2, minutes=30), retention_days=1)
    sql(db, "DELETE FROM audit_entries WHERE id = :id", id=chain[24].id)  # the oldest survivor, seq 25
    found = problems(trail)
    assert f"account {ACCOUNT}: entry seq 25 is missing before id {chain[25].id}, and no purge accounts for them (deleted)" in found


def test_an_entry_put_back_after_a_purge_is_detected(db: MetaDB, trail: AuditTrail, chain: list[AuditEntryInfo]) -> None:
    trail.purge(BASE + timedelta(days=1, hours=2, minutes=30), retention_days=1)
    old = chain[23]  # seq 24, deleted by the purge, restored from a backup by someone
    sql(db, """INSERT INTO audit_entries (id, account_id, seq, at, actor_type, actor_id, actor_name, action, target, query, ip,
               user_agent, outcome, details, prev_hash, hash) VALUES (:id, :a, 24, '2026-03-01 11:55:00.000000', 'user', :ai,
               :an, 'search', NULL, :q, '10.0.0.1', NULL, 'success', :d, :p, :h)""",
        id=old.id, a=ACCOUNT, ai=old.actor_id, an=old.actor_name, q=old.query, d=old.details_json, p=old.prev_hash, h=old.hash)  # fmt: skip
    found = problems(trail)
    assert f"account {ACCOUNT}: entry seq 24 (id {old.id}): the last purge deleted the entries up to seq 24, yet this one is here (inserted)" in found
    assert f"account {ACCOUNT}: the hour from 2026-03-01T11:00:00.000Z holds entry seq 24, which no digest covers" in found


def test_repeated_purges_carry_the_anchor_forward(trail: AuditTrail, chain: list[AuditEntryInfo]) -> None:
    """A daily maintenance round as the server runs it: seal, then purge, at the same time."""

    def maintain(now: datetime) -> int:
        trail.seal(now)
        return trail.purge(now, retention_days=1)

    day = timedelta(days=1)
    assert maintain(BASE + day + timedelta(hours=2)) == 24  # seq 1..24
    assert maintain(BASE + 2 * day + timedelta(hours=3)) == 27  # seq 25..50 and the first purge entry
    # A day of empty hours: only digests go, and the anchor stays at the newest entry deleted.
    assert maintain(BASE + 3 * day + timedelta(hours=3)) == 0
    anchor = trail.entries(ACCOUNT, limit=1)[0]
    assert (anchor.action, anchor.details["entries_deleted"], anchor.details["digests_deleted"]) == ("audit.purge", 0, 24)
    assert anchor.details["through_seq"] == 51
    result = trail.verify()
    assert result.ok, result.problems
    assert maintain(BASE + 3 * day + timedelta(hours=4)) == 1  # the second purge entry
    result = trail.verify()
    assert result.ok, result.problems
    assert [e.seq for e in trail.entries(ACCOUNT)] == [54, 53]


def test_purge_never_deletes_unsealed_entries(trail: AuditTrail) -> None:
    trail.record(AuditEvent(ACCOUNT, "search", at=BASE))
    assert trail.purge(BASE + timedelta(days=30), retention_days=1) == 0
    assert len(trail.entries(ACCOUNT)) == 1


def test_purge_needs_a_day_of_retention(trail: AuditTrail) -> None:
    with pytest.raises(BadRequest, match="at least 1 day"):
        trail.purge(BASE, retention_days=0)


# -- concurrency ---------------------------------------------------------------------------------


def test_concurrent_writers_keep_one_valid_chain(db: MetaDB, other_db: MetaDB, key: Ed25519PrivateKey) -> None:
    """Threads share one trail; a second database handle stands in for the CLI's process."""
    trails = [AuditTrail(db, key), AuditTrail(other_db, None)]
    errors: list[BaseException] = []

    def write(trail: AuditTrail, n: int) -> None:
        try:
            for i in range(20):
                trail.record(AuditEvent(ACCOUNT, "search", actor_name=f"thread{n}", details={"i": i}))
        except BaseException as exc:  # noqa: BLE001 - reported by the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(trails[n % 2], n)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    entries = trails[0].entries(ACCOUNT, limit=1000)
    assert sorted(e.seq for e in entries) == list(range(1, 161))
    result = trails[0].verify()
    assert result.ok and result.entries_checked == 160, result.problems


# -- search --------------------------------------------------------------------------------------


@pytest.fixture
def varied(trail: AuditTrail) -> dict[str, AuditEntryInfo]:
    events = {
        "alice_fail": AuditEvent(ACCOUNT, "login.failure", outcome="failure", actor_type="anonymous", actor_name="alice@example.com", ip="203.0.113.7"),
        "alice_ok": AuditEvent(ACCOUNT, "login.success", actor_type="user", actor_id="u1", actor_name="alice@example.com", ip="10.0.0.5"),
        "bob_search": AuditEvent(ACCOUNT, "search", actor_type="user", actor_id="u2", actor_name="bob@example.com", query="error app:nginx", ip="10.0.0.6"),
        "key_export": AuditEvent(ACCOUNT, "export", actor_type="key", actor_id="k1", actor_name="backup-job", query="app:db", target="/v2/export"),
        "denied": AuditEvent(ACCOUNT, "permission.denied", outcome="denied", actor_type="user", actor_name="bob@example.com",
                             target="POST /api/v1/keys", details={"permission": "keys.manage"}),
        "other_account": AuditEvent("acct2", "login.failure", outcome="failure", actor_name="alice@example.com"),
    }  # fmt: skip
    return {name: trail.record(event) for name, event in events.items()}


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("action:login.failure", ["alice_fail"]),
        ("action:login", ["alice_ok", "alice_fail"]),
        ("outcome:denied", ["denied"]),
        ("actor:alice@example.com", ["alice_ok", "alice_fail"]),
        ("actor:bob@example.com -action:search", ["denied"]),
        ("ip:203.0.113.7", ["alice_fail"]),
        ("ip:10.0.0", ["bob_search", "alice_ok"]),
        ('target:"POST /api/v1/keys"', ["denied"]),
        ("query:error", ["bob_search"]),
        ("details.permission:keys.manage", ["denied"]),
        ("actor_type:key", ["key_export"]),
        ("nginx", ["bob_search"]),
        ("backup-job", ["key_export"]),
        ("denied", ["denied"]),
        ("10.0.0.5 OR 203.0.113.7", ["alice_ok", "alice_fail"]),
        ("", ["denied", "key_export", "bob_search", "alice_ok", "alice_fail"]),
    ],
)
def test_the_query_language_filters_entries(trail: AuditTrail, varied: dict[str, AuditEntryInfo], query: str, expected: list[str]) -> None:
    from timberyard.search import parse

    found = trail.entries(ACCOUNT, q=parse(query) if query else None)
    assert [e.id for e in found] == [varied[name].id for name in expected]


def test_entries_page_newest_first_within_a_time_window(trail: AuditTrail, chain: list[AuditEntryInfo]) -> None:
    window = {"start": BASE + timedelta(hours=1), "end": BASE + timedelta(hours=2)}
    first = trail.entries(ACCOUNT, **window, limit=5)
    assert [e.seq for e in first] == [24, 23, 22, 21, 20]
    rest = trail.entries(ACCOUNT, **window, limit=100, before_id=first[-1].id)
    assert [e.seq for e in rest] == list(range(19, 12, -1))
    with pytest.raises(BadRequest, match="limit must be between 1 and 10000"):
        trail.entries(ACCOUNT, limit=0)


def test_the_public_key_is_exported(trail: AuditTrail, key: Ed25519PrivateKey) -> None:
    pem = trail.public_key_pem()
    assert pem.startswith("-----BEGIN PUBLIC KEY-----") and pem == signing.public_key_pem(key.public_key())


# -- helpers -------------------------------------------------------------------------------------


def _replace(entry: AuditEntryInfo, **changes: object) -> AuditEntryInfo:
    fields = {name: getattr(entry, name) for name in entry.__slots__}  # type: ignore[attr-defined]
    changed = AuditEntryInfo(**{**fields, **changes, "hash": ""})  # type: ignore[arg-type]
    return AuditEntryInfo(**{**fields, **changes, "hash": entry_hash(changed)})  # type: ignore[arg-type]


def _replace_digest(digest: store.AuditDigestInfo, **changes: object) -> store.AuditDigestInfo:
    fields = {name: getattr(digest, name) for name in digest.__slots__}  # type: ignore[attr-defined]
    return store.AuditDigestInfo(**{**fields, **changes})  # type: ignore[arg-type]


def _iso_hour(at: datetime) -> str:
    return at.replace(minute=0, second=0, microsecond=0).isoformat(timespec="milliseconds").replace("+00:00", "Z")
