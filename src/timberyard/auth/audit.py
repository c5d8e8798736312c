"""The audit trail: who did what, when, from where, with what outcome — and proof it is intact.

Each account's entries form a hash chain: an entry's `hash` covers every field, its `seq` and
`prev_hash` (the previous entry's hash), so editing, deleting, inserting or reordering one
breaks the chain. Every complete UTC hour gets a digest — the chain head at the hour's end and
the entries it holds, chained to the previous digest and signed with the node's Ed25519 key —
so even deleting the newest entries shows, and an auditor holding only the public key can
check everything. Events without an account (a failed sign-in for an unknown email) go to the
reserved system chain `-`. docs/audit.md describes the formats and the reasoning.
"""

from __future__ import annotations

import hashlib
import logging
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from sqlalchemy.orm import Session

from timberyard.auth import signing
from timberyard.core.errors import BadRequest, ConfigError
from timberyard.meta import audit as store
from timberyard.meta.audit import AuditDigestInfo, AuditEntryInfo
from timberyard.meta.database import MetaDB
from timberyard.meta.info import iso
from timberyard.meta.models import AuditEntry
from timberyard.search import compile_predicate
from timberyard.search.ast import Node

log = logging.getLogger(__name__)

SYSTEM_ACCOUNT = "-"
GENESIS = "0" * 64
PURGE_ACTION = "audit.purge"
HOUR = timedelta(hours=1)
MAX_DIGESTS_PER_SEAL = 24 * 31  # per account and call: a long-idle node catches up in steps
MAX_PAGE = 10_000
SCAN_ROWS = 1000
OUTCOMES = ("success", "failure", "denied")
ACTOR_TYPES = ("user", "key", "anonymous", "system")
_CUT = {name: AuditEntry.__table__.c[name].type.length for name in ("actor_id", "actor_name", "action", "target", "ip", "user_agent")}
_ACCOUNT_CHARS = AuditEntry.__table__.c.account_id.type.length


@dataclass(frozen=True, slots=True)
class AuditEvent:
    """One thing to record. `at` defaults to the time of recording (UTC)."""

    account_id: str
    action: str  # e.g. "search", "export", "tail", "login.success", "key.create", "permission.denied"
    outcome: str = "success"  # success, failure, denied
    actor_type: str = "system"  # user, key, anonymous, system
    actor_id: str | None = None
    actor_name: str | None = None
    target: str | None = None
    query: str | None = None
    ip: str | None = None
    user_agent: str | None = None
    details: Mapping[str, Any] = field(default_factory=dict)
    at: datetime | None = None


@dataclass(frozen=True, slots=True)
class VerifyResult:
    """What `verify` found. Each problem names its account and the entry (seq, id) or digest
    (period, id); `notes` say what is intact but not yet covered by a signed digest."""

    entries_checked: int
    digests_checked: int
    problems: tuple[str, ...]
    notes: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        return not self.problems

    def to_dict(self) -> dict[str, object]:
        return {
            "ok": self.ok,
            "entries_checked": self.entries_checked,
            "digests_checked": self.digests_checked,
            "problems": list(self.problems),
            "notes": list(self.notes),
        }


def entry_hash(entry: AuditEntryInfo) -> str:
    """sha256 of the entry's canonical form: a JSON array of every field in a fixed order."""
    return _sha256([
        "timberyard-audit-entry/1", entry.account_id, entry.seq, _stamp(entry.at), entry.actor_type, entry.actor_id,
        entry.actor_name, entry.action, entry.target, entry.query, entry.ip, entry.user_agent, entry.outcome,
        entry.details_json, entry.prev_hash,
    ])  # fmt: skip


def digest_hash(digest: AuditDigestInfo) -> str:
    return _sha256([
        "timberyard-audit-digest/1", digest.account_id, _stamp(digest.period_start), _stamp(digest.period_end),
        digest.first_seq, digest.last_seq, digest.last_hash, digest.prev_digest_hash, digest.public_key_id,
    ])  # fmt: skip


class AuditTrail:
    """Records, seals, verifies, searches and purges audit entries. Thread-safe.

    `signing_key` seals; without it the trail still records and verifies (an auditor's copy).
    Digests verify against the signing key's public half and any `trusted_keys` (older keys,
    or the only keys an auditor has).
    """

    def __init__(
        self, db: MetaDB, signing_key: Ed25519PrivateKey | None, *, trusted_keys: Iterable[Ed25519PublicKey] = ()
    ) -> None:
        self._db = db
        self._key = signing_key
        keys = [*trusted_keys, *([signing_key.public_key()] if signing_key else [])]
        self._trusted = {signing.key_id(k): k for k in keys}
        self._key_id = signing.key_id(signing_key.public_key()) if signing_key else ""
        self._lock = threading.Lock()  # one writer per process; BEGIN IMMEDIATE orders processes
        self._listeners: list[Callable[[AuditEntryInfo], None]] = []

    def listen(self, listener: Callable[[AuditEntryInfo], None]) -> None:
        """Call `listener` with each entry once it is committed (security notifications). A
        listener's failure is logged: it never undoes or fails the recording."""
        self._listeners.append(listener)

    def record(self, event: AuditEvent) -> AuditEntryInfo:
        """Append the event to its account's chain, in one write transaction."""
        if event.action == PURGE_ACTION:
            raise BadRequest(f"{PURGE_ACTION} entries are written by purge() only")
        values = _columns(event)
        with self._lock, self._db.writing() as session:
            entry = _append(session, values, event.at, store.last_entry(session, values["account_id"]))
        for listener in self._listeners:
            try:
                listener(entry)
            except Exception:
                log.exception("an audit listener failed", extra={"action": entry.action})
        return entry

    def seal(self, now: datetime | None = None) -> int:
        """Sign a digest for each complete hour not yet sealed, per account; returns how many."""
        if self._key is None:
            raise ConfigError("this audit trail has no signing key: it can verify but not seal")
        until = _hour(now or datetime.now(UTC))
        with self._db.reading() as session:
            accounts = store.entry_account_ids(session)
        written = 0
        for account in accounts:
            with self._lock, self._db.writing() as session:
                written += self._seal_account(session, account, until)
        return written

    def purge(self, now: datetime, retention_days: int) -> int:
        """Delete entries (and their digests) older than `retention_days`; returns how many
        entries went. Only sealed hours go, and an `audit.purge` entry records the hash of the
        newest entry and digest deleted, which the chain that remains continues from."""
        if retention_days < 1:
            raise BadRequest(f"audit retention must be at least 1 day, got {retention_days}")
        cutoff = _hour(now - timedelta(days=retention_days))
        with self._db.reading() as session:
            accounts = store.entry_account_ids(session)
        deleted = 0
        for account in accounts:
            with self._lock, self._db.writing() as session:
                deleted += _purge_account(session, account, cutoff, now, retention_days)
        return deleted

    def verify(
        self, account_id: str | None = None, start: datetime | None = None, end: datetime | None = None
    ) -> VerifyResult:
        """Check every entry and digest of one account (or all) in `[start, end)`, widened to
        whole hours, plus the links into and out of that window. One read transaction, so a
        node writing meanwhile does not disturb it."""
        start = None if start is None else _hour(start)
        end = None if end is None else _hour(end + HOUR - timedelta(microseconds=1))
        with self._db.reading() as session:
            accounts = store.account_ids(session) if account_id is None else [account_id or SYSTEM_ACCOUNT]
            checks = [_Verification(session, a, self._trusted).run(start, end) for a in accounts]
        return VerifyResult(
            entries_checked=sum(c.entries for c in checks),
            digests_checked=sum(c.digests for c in checks),
            problems=tuple(p for c in checks for p in c.problems),
            notes=tuple(n for c in checks for n in c.notes),
        )

    def entries(
        self,
        account_id: str,
        start: datetime | None = None,
        end: datetime | None = None,
        q: Node | None = None,
        limit: int = 100,
        before_id: int | None = None,
    ) -> list[AuditEntryInfo]:
        """Up to `limit` entries in `[start, end)` matching the query `q`, newest first; the
        next page starts `before_id` the last one returned."""
        if not 1 <= limit <= MAX_PAGE:
            raise BadRequest(f"limit must be between 1 and {MAX_PAGE}, got {limit}")
        matches = None if q is None else compile_predicate(q)
        account = account_id or SYSTEM_ACCOUNT
        found: list[AuditEntryInfo] = []
        with self._db.reading() as session:
            while len(found) < limit:
                page = store.page_entries(session, account, start, end, before_id, SCAN_ROWS)
                found.extend(e for e in page if matches is None or matches(search_row(e)))
                if len(page) < SCAN_ROWS:
                    break
                before_id = page[-1].id
        return found[:limit]

    def scan(self, account_id: str | None, start: datetime | None, end: datetime | None) -> Iterator[AuditEntryInfo]:
        """Every entry in `[start, end)`, oldest first: one account's, or all (None)."""
        account = None if account_id is None else account_id or SYSTEM_ACCOUNT
        with self._db.reading() as session:
            yield from store.iter_entries(session, account, start, end)

    def public_key_pem(self) -> str:
        if self._key is None:
            raise ConfigError("this audit trail has no signing key")
        return signing.public_key_pem(self._key)

    def _seal_account(self, session: Session, account: str, until: datetime) -> int:
        assert self._key is not None
        last = store.last_digest(session, account)
        if last is not None:
            start, prev_digest, head = last.period_end, last.digest_hash, last.last_hash
        else:
            first = store.first_entry(session, account)
            if first is None:
                return 0
            start, prev_digest, head = _hour(first.at), GENESIS, first.prev_hash
        written = 0
        while start + HOUR <= until and written < MAX_DIGESTS_PER_SEAL:
            span = store.span(session, account, start, start + HOUR)
            head = span[2] if span else head
            fields = {
                "account_id": account, "period_start": start, "period_end": start + HOUR,
                "first_seq": span[0] if span else None, "last_seq": span[1] if span else None, "last_hash": head,
                "prev_digest_hash": prev_digest, "public_key_id": self._key_id,
            }  # fmt: skip
            prev_digest = digest_hash(AuditDigestInfo(id=0, digest_hash="", signature="", created_at=start, **fields))
            store.add_digest(session, {**fields, "digest_hash": prev_digest, "signature": signing.sign(self._key, prev_digest)})
            start += HOUR
            written += 1
        return written


def search_row(entry: AuditEntryInfo) -> dict[str, Any]:
    """The entry in the shape the query language's predicate reads: free text matches `line`
    (actor, action, target, query, outcome, ip); `actor:`, `action:`, `outcome:`, `ip:`,
    `target:`, `query:`, `details.x:` ... are meta fields."""
    actor = actor_label(entry)
    words = (actor, entry.action, entry.target, entry.query, entry.outcome, entry.ip)
    meta = {
        "actor": actor, "actor_id": entry.actor_id, "actor_type": entry.actor_type, "action": entry.action,
        "outcome": entry.outcome, "ip": entry.ip, "target": entry.target, "query": entry.query,
        "user_agent": entry.user_agent, "details": entry.details,
    }  # fmt: skip
    return {"line": " ".join(w for w in words if w), "meta": orjson.dumps(meta)}


def actor_label(entry: AuditEntryInfo) -> str:
    """Who acted, as people read it: the email or key name, else the id, else the kind."""
    return entry.actor_name or entry.actor_id or entry.actor_type


# -- writing -----------------------------------------------------------------------------------


def _columns(event: AuditEvent) -> dict[str, Any]:
    """The event's columns, checked, with over-long text cut to the column sizes (before
    hashing, so what is stored is what was hashed)."""
    if event.outcome not in OUTCOMES:
        raise BadRequest(f"unknown audit outcome {event.outcome!r}; expected one of: {', '.join(OUTCOMES)}")
    if event.actor_type not in ACTOR_TYPES:
        raise BadRequest(f"unknown actor type {event.actor_type!r}; expected one of: {', '.join(ACTOR_TYPES)}")
    if not event.action:
        raise BadRequest("an audit event needs an action")
    account = event.account_id or SYSTEM_ACCOUNT
    if len(account) > _ACCOUNT_CHARS:
        raise BadRequest(f"account id {account[:40]!r} is longer than {_ACCOUNT_CHARS} characters")
    if event.at is not None and event.at.tzinfo is None:
        raise BadRequest("an audit event's time must be timezone-aware")
    try:
        details = orjson.dumps(dict(event.details), option=orjson.OPT_SORT_KEYS).decode()
    except (TypeError, ValueError) as exc:
        raise BadRequest(f"audit details must be a JSON object: {exc}") from None
    return {
        "account_id": account,
        "actor_type": event.actor_type,
        "actor_id": _cut(event.actor_id, "actor_id"),
        "actor_name": _cut(event.actor_name, "actor_name"),
        "action": _cut(event.action, "action"),
        "target": _cut(event.target, "target"),
        "query": event.query,
        "ip": _cut(event.ip, "ip"),
        "user_agent": _cut(event.user_agent, "user_agent"),
        "outcome": event.outcome,
        "details_json": details,
    }


def _append(session: Session, values: dict[str, Any], at: datetime | None, last: AuditEntryInfo | None) -> AuditEntryInfo:
    """Chain one entry onto `last`, its account's newest. Its time never goes back along the
    chain nor into an hour already sealed, so every digest stays true (a clock stepping back,
    a late event: both get the earliest time still open)."""
    sealed = store.last_digest(session, values["account_id"])
    stamp = _ms(at or datetime.now(UTC))
    for floor in (last.at if last else None, sealed.period_end if sealed else None):
        if floor is not None and stamp < floor:
            stamp = floor
    entry = AuditEntryInfo(
        id=0, seq=last.seq + 1 if last else 1, at=stamp, prev_hash=last.hash if last else GENESIS, hash="", **values
    )
    columns = {**values, "seq": entry.seq, "at": stamp, "prev_hash": entry.prev_hash, "hash": entry_hash(entry)}
    columns["details"] = columns.pop("details_json")
    return store.add_entry(session, columns)


def _purge_account(session: Session, account: str, cutoff: datetime, now: datetime, retention_days: int) -> int:
    newest_digest = store.last_digest(session, account)
    if newest_digest is None:
        return 0  # nothing sealed: nothing may go
    cutoff = min(cutoff, newest_digest.period_start)  # the newest digest always stays, to chain on
    gone_digest = store.newest_digest_ending_by(session, account, cutoff)
    if gone_digest is None:
        return 0
    last = store.last_entry(session, account)  # before deleting: the purge entry chains on it
    gone_entry = store.newest_entry_before(session, account, cutoff)
    if gone_entry is not None:
        through_seq, through_hash = gone_entry.seq, gone_entry.hash
    else:  # only empty hours go this time: the anchor stays where the last purge put it
        previous = _anchor(store.latest_with_action(session, account, PURGE_ACTION))
        through_seq, through_hash = (previous.seq, previous.entry_hash) if previous else (0, GENESIS)
    digests = store.delete_digests_ending_by(session, account, cutoff)
    deleted = store.delete_entries_before(session, account, cutoff)
    details = {
        "through_seq": through_seq, "through_hash": through_hash, "through_digest_hash": gone_digest.digest_hash,
        "through_period_end": iso(cutoff), "entries_deleted": deleted, "digests_deleted": digests,
        "retention_days": retention_days,
    }  # fmt: skip
    event = AuditEvent(account, PURGE_ACTION, actor_type="system", actor_name="retention", details=details)
    _append(session, _columns(event), now, last)
    return deleted


# -- verifying ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Anchor:
    """Where the chain that survives a purge starts: the newest entry and digest deleted."""

    seq: int
    entry_hash: str
    digest_hash: str
    period_end: datetime


def _anchor(purge: AuditEntryInfo | None) -> _Anchor | None:
    if purge is None:
        return None
    details = purge.details
    try:
        return _Anchor(
            int(details["through_seq"]), str(details["through_hash"]), str(details["through_digest_hash"]),
            datetime.fromisoformat(str(details["through_period_end"])),
        )
    except (KeyError, TypeError, ValueError):
        return None  # an edited purge entry, which its own hash check reports


@dataclass
class _Hour:
    first_seq: int
    last_seq: int
    last_hash: str


class _Verification:
    """One account's entries and digests, checked in one pass over each."""

    def __init__(self, session: Session, account: str, trusted: Mapping[str, Ed25519PublicKey]) -> None:
        self.session = session
        self.account = account
        self.trusted = trusted
        self.anchor = _anchor(store.latest_with_action(session, account, PURGE_ACTION))
        self.entries = 0
        self.digests = 0
        self.problems: list[str] = []
        self.notes: list[str] = []
        self.hours: dict[datetime, _Hour] = {}

    def run(self, start: datetime | None, end: datetime | None) -> _Verification:
        last = self._check_entries(start, end)
        sealed_until = self._check_digests(start, end)
        unsealed = sorted(h for h in self.hours if sealed_until is None or h >= sealed_until)
        for hour in self.hours:
            if sealed_until is not None and hour < sealed_until:
                span = self.hours[hour]
                self._problem(f"the hour from {iso(hour)} holds {_seqs(span.first_seq, span.last_seq)}, which no digest covers")
        if unsealed:
            count = sum(self.hours[h].last_seq - self.hours[h].first_seq + 1 for h in unsealed)
            entries = "1 entry" if count == 1 else f"{count} entries"
            self.notes.append(f"account {self.account}: {entries} since {iso(unsealed[0])} not yet sealed by a signed digest")
        if last is not None and end is not None:
            self._check_link_out(last)
        return self

    def _problem(self, text: str) -> None:
        self.problems.append(f"account {self.account}: {text}")

    def _check_entries(self, start: datetime | None, end: datetime | None) -> AuditEntryInfo | None:
        previous: AuditEntryInfo | None = None
        for entry in store.iter_entries(self.session, self.account, start, end):
            self.entries += 1
            where = f"entry seq {entry.seq} (id {entry.id})"
            if entry_hash(entry) != entry.hash:
                self._problem(f"{where}: its hash does not match its contents (edited)")
            if previous is None:
                self._check_link_in(entry, where)
            elif entry.seq != previous.seq + 1:
                self._problem(f"{_missing(previous.seq + 1, entry.seq - 1)} between id {previous.id} and id {entry.id} (deleted)")
            elif entry.prev_hash != previous.hash:
                self._problem(f"{where}: prev_hash is not the hash of seq {previous.seq} (entries inserted, replaced or reordered)")
            if previous is not None and entry.at < previous.at:
                self._problem(f"{where}: its time {iso(entry.at)} is before that of seq {previous.seq} (reordered)")
            hour = self.hours.get(_hour(entry.at))
            if hour is None:
                self.hours[_hour(entry.at)] = _Hour(entry.seq, entry.seq, entry.hash)
            else:
                hour.last_seq, hour.last_hash = entry.seq, entry.hash
            previous = entry
        return previous

    def _check_link_in(self, entry: AuditEntryInfo, where: str) -> None:
        """The window's first entry continues the entry before it, the last purge's anchor, or
        (seq 1) nothing."""
        prior = None if entry.seq == 1 else store.previous_entry(self.session, self.account, entry.seq)
        anchor = self.anchor
        if entry.seq == 1:
            expected = GENESIS
        elif prior is not None:
            if prior.seq != entry.seq - 1:
                self._problem(f"{_missing(prior.seq + 1, entry.seq - 1)} between id {prior.id} and id {entry.id} (deleted)")
                return
            expected = prior.hash
        elif anchor is not None and anchor.seq == entry.seq - 1:
            expected = anchor.entry_hash
        elif anchor is not None and anchor.seq >= entry.seq:
            self._problem(f"{where}: the last purge deleted the entries up to seq {anchor.seq}, yet this one is here (inserted)")
            return
        else:
            first = 1 if anchor is None else anchor.seq + 1
            self._problem(f"{_missing(first, entry.seq - 1)} before id {entry.id}, and no purge accounts for them (deleted)")
            return
        if entry.prev_hash != expected:
            self._problem(f"{where}: prev_hash does not continue the chain before it (entries inserted, replaced or reordered)")

    def _check_link_out(self, last: AuditEntryInfo) -> None:
        after = store.next_entry(self.session, self.account, last.seq)
        if after is None:
            return
        if after.seq != last.seq + 1:
            self._problem(f"{_missing(last.seq + 1, after.seq - 1)} after id {last.id} (deleted)")
        elif after.prev_hash != last.hash:
            self._problem(f"entry seq {after.seq} (id {after.id}): prev_hash is not the hash of seq {last.seq}")

    def _check_digests(self, start: datetime | None, end: datetime | None) -> datetime | None:
        """Check the digests in the window and the links into and out of it; returns the end of
        the account's newest digest (None: none), up to which every hour must be sealed."""
        previous = None if start is None else store.digest_before(self.session, self.account, start)
        head = previous.last_hash if previous else None
        for digest in store.iter_digests(self.session, self.account, start, end):
            self.digests += 1
            where = f"digest for the hour from {iso(digest.period_start)} (id {digest.id})"
            self._check_signature(digest, where)
            if previous is not None:
                self._check_digest_link(previous, digest, where)
            elif self.anchor is not None and self.anchor.period_end == digest.period_start:
                head = self.anchor.entry_hash
                if digest.prev_digest_hash != self.anchor.digest_hash:
                    self._problem(f"{where}: prev_digest_hash is not the digest the last purge deleted")
            elif digest.prev_digest_hash == GENESIS:
                head = GENESIS
            else:
                self._problem(f"{where}: the digests before it are missing, and no purge accounts for them (deleted)")
            self._check_cover(digest, where, head)
            head, previous = digest.last_hash, digest
        if end is not None and previous is not None:  # the link out of the window
            following = store.digest_after(self.session, self.account, previous.period_start)
            if following is not None:
                self._check_digest_link(previous, following, f"digest for the hour from {iso(following.period_start)} (id {following.id})")
        newest = store.last_digest(self.session, self.account)
        return None if newest is None else newest.period_end

    def _check_digest_link(self, previous: AuditDigestInfo, digest: AuditDigestInfo, where: str) -> None:
        if digest.period_start != previous.period_end:
            self._problem(f"no digest for {iso(previous.period_end)} to {iso(digest.period_start)} (deleted)")
        elif digest.prev_digest_hash != previous.digest_hash:
            self._problem(f"{where}: prev_digest_hash is not the hash of the digest before it")

    def _check_signature(self, digest: AuditDigestInfo, where: str) -> None:
        if digest_hash(digest) != digest.digest_hash:
            self._problem(f"{where}: its hash does not match its contents (edited)")
        key = self.trusted.get(digest.public_key_id)
        if key is None:
            self._problem(f"{where}: signed by key {digest.public_key_id[:16]}…, which is not a trusted key")
        elif not signing.signature_valid(key, digest.digest_hash, digest.signature):
            self._problem(f"{where}: its signature is not valid (forged or edited)")
        if digest.period_end != digest.period_start + HOUR:
            self._problem(f"{where}: its period is not one hour")

    def _check_cover(self, digest: AuditDigestInfo, where: str, head: str | None) -> None:
        """The digest's entries and chain head against the entries actually stored."""
        hour = self.hours.pop(digest.period_start, None)
        claimed = "no entries" if digest.first_seq is None else f"entries seq {digest.first_seq}..{digest.last_seq}"
        if hour is None:
            if digest.first_seq is not None:
                self._problem(f"{where}: it covers {claimed}, but that hour holds none (deleted)")
            elif head is not None and digest.last_hash != head:
                self._problem(f"{where}: its chain head is not the one before it")
        elif (digest.first_seq, digest.last_seq) != (hour.first_seq, hour.last_seq):
            self._problem(f"{where}: it covers {claimed}, but that hour holds seq {hour.first_seq}..{hour.last_seq}")
        elif digest.last_hash != hour.last_hash:
            self._problem(f"{where}: its chain head is not the hash of entry seq {hour.last_seq} (edited)")


# -- small helpers -----------------------------------------------------------------------------


def _seqs(first: int, last: int) -> str:
    return f"entry seq {first}" if first == last else f"entries seq {first}..{last}"


def _missing(first: int, last: int) -> str:
    return f"{_seqs(first, last)} {'is' if first == last else 'are'} missing"


def _sha256(payload: list[Any]) -> str:
    return hashlib.sha256(orjson.dumps(payload)).hexdigest()


def _stamp(at: datetime) -> str:
    """ISO 8601 UTC to the microsecond: the form times take inside hashes."""
    return at.astimezone(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


def _ms(at: datetime) -> datetime:
    at = at.astimezone(UTC)
    return at.replace(microsecond=at.microsecond // 1000 * 1000)


def _hour(at: datetime) -> datetime:
    return at.astimezone(UTC).replace(minute=0, second=0, microsecond=0)


def _cut(text: str | None, column: str) -> str | None:
    return None if text is None else text[: _CUT[column]]
