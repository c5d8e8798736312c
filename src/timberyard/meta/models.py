"""Tables of the metadata database: accounts, users, keys, sessions, groups, the audit trail,
saved views, field types, ingest rules and alerts.

Declared once here; `migrations/versions` creates the same schema by hand, and a unit test
checks the two agree, so the models never drift from what a deployed database holds.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import BigInteger, DateTime, false, Dialect, Float, ForeignKey, Index, MetaData, String, Text, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

# Named constraints, so later migrations can alter them (SQLite batch mode needs names).
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """A timestamp that is always timezone-aware UTC in Python.

    SQLite keeps no zone, so values are stored as naive UTC and tagged UTC when read back;
    PostgreSQL stores them as `timestamptz`.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; timestamps must be timezone-aware")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class Account(Base):
    """A tenant: every log line, user and key belongs to exactly one."""

    __tablename__ = "accounts"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    retention_days: Mapped[int] = mapped_column(default=30)
    require_two_factor: Mapped[bool] = mapped_column(default=False, server_default=false())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class User(Base):
    """A person who signs in; `email` is stored lowercased so lookups are exact matches."""

    __tablename__ = "users"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id"), index=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(16))
    disabled: Mapped[bool] = mapped_column(default=False)
    totp_secret: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ApiKey(Base):
    """An ingestion or service key. Only the sha256 of the secret is kept, never the secret."""

    __tablename__ = "api_keys"

    id: Mapped[str] = mapped_column(String(12), primary_key=True)
    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id"), index=True)
    type: Mapped[str] = mapped_column(String(16))
    role: Mapped[str | None] = mapped_column(String(16))
    name: Mapped[str | None] = mapped_column(String(100))
    prefix: Mapped[str] = mapped_column(String(6))
    secret_hash: Mapped[str] = mapped_column(String(64), unique=True, index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Set when the key was rotated: the old secret keeps working until then (the grace period).
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class UserSession(Base):
    """A signed-in browser. `id` is the sha256 of the cookie's token; the token is never kept."""

    __tablename__ = "sessions"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id"), index=True)
    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id"))
    csrf_token: Mapped[str] = mapped_column(String(64))
    ip: Mapped[str] = mapped_column(String(45))
    user_agent: Mapped[str] = mapped_column(String(400))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class LoginAttempt(Base):
    """Every sign-in, successful or not, for throttling and log-in monitoring."""

    __tablename__ = "login_attempts"
    __table_args__ = (Index("ix_login_attempts_email_at", "email", "at"), Index("ix_login_attempts_ip_at", "ip", "at"))

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    email: Mapped[str] = mapped_column(String(254))
    account_id: Mapped[str | None] = mapped_column(String(32))
    user_id: Mapped[str | None] = mapped_column(String(32))
    ip: Mapped[str] = mapped_column(String(45))
    user_agent: Mapped[str] = mapped_column(String(400))
    outcome: Mapped[str] = mapped_column(String(32))


class Group(Base):
    """Users whose reads are limited to the lines matching `scope` (a search query)."""

    __tablename__ = "groups"
    __table_args__ = (UniqueConstraint("account_id", "name", name="uq_groups_account_id_name"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    scope: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class GroupMember(Base):
    __tablename__ = "group_members"

    group_id: Mapped[str] = mapped_column(ForeignKey("groups.id"), primary_key=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id"), primary_key=True, index=True)


class AccessGrant(Base):
    """Break-glass: an owner lets a user read everything (no group scope) until `expires_at`."""

    __tablename__ = "access_grants"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id"), index=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id"))
    granted_by: Mapped[str] = mapped_column(ForeignKey("users.id"))
    reason: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class AuditEntry(Base):
    """One audited event. `hash` covers the entry and `prev_hash`, the hash of the account's
    previous entry, so an edit, deletion, insertion or reordering breaks the chain."""

    __tablename__ = "audit_entries"
    __table_args__ = (Index("ix_audit_entries_account_id_seq", "account_id", "seq", unique=True), Index("ix_audit_entries_at", "at"))

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    account_id: Mapped[str] = mapped_column(String(32))
    seq: Mapped[int] = mapped_column()  # 1, 2, 3 ... per account
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    actor_type: Mapped[str] = mapped_column(String(16))  # user, key, anonymous, system
    actor_id: Mapped[str | None] = mapped_column(String(64))
    actor_name: Mapped[str | None] = mapped_column(String(254))
    action: Mapped[str] = mapped_column(String(64))
    target: Mapped[str | None] = mapped_column(String(400))
    query: Mapped[str | None] = mapped_column(Text)
    ip: Mapped[str | None] = mapped_column(String(45))
    user_agent: Mapped[str | None] = mapped_column(String(400))
    outcome: Mapped[str] = mapped_column(String(16))  # success, failure, denied
    details: Mapped[str] = mapped_column(Text, default="{}")  # JSON object
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


class AuditDigest(Base):
    """An hourly, Ed25519-signed statement of an account's audit chain, chained to the previous
    digest (as CloudTrail's digest files are)."""

    __tablename__ = "audit_digests"
    __table_args__ = (UniqueConstraint("account_id", "period_start", name="uq_audit_digests_account_id_period_start"),)

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    account_id: Mapped[str] = mapped_column(String(32))
    period_start: Mapped[datetime] = mapped_column(UTCDateTime)
    period_end: Mapped[datetime] = mapped_column(UTCDateTime)
    first_seq: Mapped[int | None] = mapped_column()
    last_seq: Mapped[int | None] = mapped_column()
    last_hash: Mapped[str] = mapped_column(String(64))
    prev_digest_hash: Mapped[str] = mapped_column(String(64))
    digest_hash: Mapped[str] = mapped_column(String(64))
    signature: Mapped[str] = mapped_column(String(128))  # base64 Ed25519 signature of digest_hash
    public_key_id: Mapped[str] = mapped_column(String(64))  # sha256 of the raw public key
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class SavedView(Base):
    """A saved search of the viewer (query, filters, time range), shared within its account.
    `filters` is a JSON object; `range` is time-range text such as "last 2 hours"."""

    __tablename__ = "saved_views"
    __table_args__ = (UniqueConstraint("account_id", "category", "name", name="uq_saved_views_account_id_category_name"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    category: Mapped[str] = mapped_column(String(100))  # "" is uncategorised
    query: Mapped[str] = mapped_column(Text)
    filters: Mapped[str] = mapped_column(Text)
    range: Mapped[str] = mapped_column(String(200))
    created_by: Mapped[str] = mapped_column(String(254))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class FieldType(Base):
    """The kind (string, number, boolean, json) a field path got when an account first sent it:
    later values of another kind are kept apart (ingest/field_types.py)."""

    __tablename__ = "field_types"

    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id"), primary_key=True)
    path: Mapped[str] = mapped_column(String(255), primary_key=True)
    kind: Mapped[str] = mapped_column(String(8))
    first_seen: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    conflicts: Mapped[int] = mapped_column(default=0)


class IngestRule(Base):
    """A rule applied to an account's new lines before they are stored: `parse` (extract
    fields), `redact` (mask values) or `exclude` (drop, or keep for live tail and alerts only).
    `definition` is the kind's settings as a JSON object; `position` orders rules of a kind."""

    __tablename__ = "ingest_rules"
    __table_args__ = (UniqueConstraint("account_id", "kind", "name", name="uq_ingest_rules_account_id_kind_name"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    name: Mapped[str] = mapped_column(String(100))
    position: Mapped[int] = mapped_column()
    enabled: Mapped[bool] = mapped_column(default=True)
    definition: Mapped[str] = mapped_column(Text)
    created_by: Mapped[str] = mapped_column(String(254))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class RuleCount(Base):
    """Lines a rule acted on (excluded, redacted, parsed) per UTC day."""

    __tablename__ = "rule_counts"

    rule_id: Mapped[str] = mapped_column(ForeignKey("ingest_rules.id", ondelete="CASCADE"), primary_key=True)
    day: Mapped[str] = mapped_column(String(10), primary_key=True)  # YYYY-MM-DD
    lines: Mapped[int] = mapped_column(default=0)


class Alert(Base):
    """A condition on an account's new lines (presence, absence, index rate), evaluated on the
    durable feed. With `view_id` its query and filters are the saved view's, read at each load;
    without, it carries its own. `definition` is the rest of it as a JSON object (alerts/definition.py)."""

    __tablename__ = "alerts"
    __table_args__ = (UniqueConstraint("account_id", "name", name="uq_alerts_account_id_name"),)

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(16))
    view_id: Mapped[str | None] = mapped_column(String(32))  # no foreign key: a deleted view leaves the alert, reported
    definition: Mapped[str] = mapped_column(Text)
    # The access scope of whoever last saved it (JSON list of group scope queries; NULL: the
    # whole account), so an alert never counts or samples lines its author may not read.
    scope: Mapped[str | None] = mapped_column(Text)
    muted: Mapped[bool] = mapped_column(default=False)
    snoozed_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_by: Mapped[str] = mapped_column(String(254))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class AlertState(Base):
    """Where an alert's evaluation stands, so a restart mid-window neither loses nor repeats the
    window's notification: the open window's counts up to WAL record `seq`, and the last window
    evaluated and fired."""

    __tablename__ = "alert_state"

    alert_id: Mapped[int] = mapped_column(ForeignKey("alerts.id", ondelete="CASCADE"), primary_key=True)
    window_start: Mapped[datetime | None] = mapped_column(UTCDateTime)
    matches: Mapped[int] = mapped_column(default=0)
    late_lines: Mapped[int] = mapped_column(default=0)
    samples: Mapped[str] = mapped_column(Text, default="[]")  # JSON list of export-shaped lines
    seq: Mapped[int] = mapped_column(BigInteger, default=0)
    last_evaluated_window: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_fired_window: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_fired_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    firing: Mapped[bool] = mapped_column(default=False)  # the condition held at the last evaluation
    last_line_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # the view's latest matching line
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class AlertFiring(Base):
    """One decision to notify (or to stay quiet: `state` "suppressed" with `suppressed_by`),
    recorded before delivery; unique per alert and window so it is never made twice."""

    __tablename__ = "alert_firings"
    __table_args__ = (UniqueConstraint("alert_id", "window_start", name="uq_alert_firings_alert_id_window_start"),)

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    alert_id: Mapped[int] = mapped_column(ForeignKey("alerts.id", ondelete="CASCADE"), index=True)
    account_id: Mapped[str] = mapped_column(String(32))
    window_start: Mapped[datetime] = mapped_column(UTCDateTime)
    window_end: Mapped[datetime] = mapped_column(UTCDateTime)
    state: Mapped[str] = mapped_column(String(16))  # firing, resolved, suppressed
    suppressed_by: Mapped[str | None] = mapped_column(String(16))  # muted, snoozed, schedule, cooldown
    matches: Mapped[int] = mapped_column()
    threshold: Mapped[int] = mapped_column()
    late_lines: Mapped[int] = mapped_column(default=0)
    reason: Mapped[str] = mapped_column(Text)
    lines: Mapped[str] = mapped_column(Text, default="[]")  # JSON list of up to 10 export-shaped lines
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class AlertBaseline(Base):
    """An account's line count per UTC hour, the history index-rate z-scores compare against."""

    __tablename__ = "alert_baselines"

    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id"), primary_key=True)
    hour_start: Mapped[datetime] = mapped_column(UTCDateTime, primary_key=True)
    lines: Mapped[int] = mapped_column(BigInteger, default=0)


class AlertChannel(Base):
    """Where an account's alerts are delivered (webhook, email, Slack, PagerDuty). `config` is
    the whole channel configuration sealed under the node's channel key (meta/alert_channels.py),
    since most kinds carry a secret: a token header, a password, a Slack URL, a routing key."""

    __tablename__ = "alert_channels"
    __table_args__ = (UniqueConstraint("account_id", "name", name="uq_alert_channels_account_id_name"),)

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(16))
    config: Mapped[str] = mapped_column(Text)
    created_by: Mapped[str] = mapped_column(String(254))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class AlertDelivery(Base):
    """One attempt to deliver one firing to one channel, written before it is made and completed
    after. A row with `next_attempt_at` is pending (due then, or in flight when `ok` is null), so
    a restart resumes it; `notification` is what to send, kept while pending. `firing_id` has no
    foreign key: deliveries outlive nothing, but they are also made for security events."""

    __tablename__ = "alert_deliveries"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    firing_id: Mapped[int] = mapped_column(index=True)
    channel_id: Mapped[int] = mapped_column(index=True)
    attempt: Mapped[int] = mapped_column()
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    ok: Mapped[bool | None] = mapped_column()
    status: Mapped[int | None] = mapped_column()
    error: Mapped[str] = mapped_column(Text, default="")
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    notification: Mapped[str | None] = mapped_column(Text)


class ArchiveAccount(Base):
    """An account's archive: its settings (sealed, since they hold destination credentials), its
    archive keys (sealed), and the exporter's state. `watermark_id`: every line with a smaller
    or equal id is archived; the digest fields are the chain's last link. `pending_*`: the range,
time, format and encryption of a run that started uploading and has not recorded its files yet; the next run
re-does exactly it (same lines, same keys), so an interrupted run leaves no duplicates."""

    __tablename__ = "archive_accounts"

    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id"), primary_key=True)
    enabled: Mapped[bool] = mapped_column(default=False)
    config: Mapped[str] = mapped_column(Text)
    keys: Mapped[str] = mapped_column(Text)
    updated_by: Mapped[str] = mapped_column(String(254))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    watermark_id: Mapped[int] = mapped_column(BigInteger, default=0)
    pending_through_id: Mapped[int | None] = mapped_column(BigInteger)
    pending_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    pending_format: Mapped[str | None] = mapped_column(String(16))
    pending_encrypted: Mapped[bool | None] = mapped_column()
    digest_sequence: Mapped[int] = mapped_column(default=0)
    digest_key: Mapped[str | None] = mapped_column(String(400))
    digest_sha256: Mapped[str | None] = mapped_column(String(64))
    digest_signature: Mapped[str | None] = mapped_column(String(200))
    digest_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_run_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_success_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str] = mapped_column(Text, default="")


class ArchiveFile(Base):
    """One delivered archive file, recorded in the same transaction that moves the watermark
    past its lines. `n`: 0 for an hour's first file, 1, 2, … for lines that came later."""

    __tablename__ = "archive_files"
    __table_args__ = (UniqueConstraint("account_id", "key", name="uq_archive_files_account_id_key"),)

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id"), index=True)
    key: Mapped[str] = mapped_column(String(400))
    hour_ms: Mapped[int] = mapped_column(BigInteger)
    n: Mapped[int] = mapped_column()
    sha256: Mapped[str] = mapped_column(String(64))
    lines: Mapped[int] = mapped_column(BigInteger)
    bytes: Mapped[int] = mapped_column(BigInteger)
    digest_sequence: Mapped[int] = mapped_column()
    delivered_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Anomaly(Base):
    """What the node's anomaly detectors found (insights/watch.py): one row per anomaly, unique
    per account and `fingerprint` (a hash of kind, key and start), so a detector that finds the
    same one again (after a restart replayed its lines) neither stores nor notifies it twice."""

    __tablename__ = "anomalies"
    __table_args__ = (
        UniqueConstraint("account_id", "fingerprint", name="uq_anomalies_account_id_fingerprint"),
        Index("ix_anomalies_account_id_detected_at", "account_id", "detected_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id"))
    kind: Mapped[str] = mapped_column(String(32))
    key: Mapped[str] = mapped_column(Text)
    fingerprint: Mapped[str] = mapped_column(String(64))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    detected_at: Mapped[datetime] = mapped_column(UTCDateTime)
    score: Mapped[float] = mapped_column(Float)
    evidence: Mapped[str] = mapped_column(Text)
