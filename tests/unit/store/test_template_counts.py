"""Lines per template per minute (schema migration 4) on the real embedded store: the counts the
store keeps match its lines, a replayed insert is not counted twice, a store with lines from
before the migration counts them, and the trend query finds new and grown templates, from the
kept counts and, for a scoped caller, from the lines in its scope alike."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import uuid
from pathlib import Path
from typing import Any

from records import record
from timberyard.search import compile_sql, parse
from timberyard.store.chdb import ChdbStore
from timberyard.store.schema import LOG_TABLE, TEMPLATE_MINUTES_TABLE, insert_rows
from timberyard.store.template_counts import MAX_BUCKETS, GrowthRule, select_template_trends, trend_window

BASE_MS = 1_790_000_000_000 - 1_790_000_000_000 % 86_400_000  # a midnight, UTC; the tests' own clock
MINUTE_MS = 60_000
RETENTION = 3650  # lines dated BASE_MS stay as long as the tests run


def insert(store: ChdbStore, account: str, rows: list[tuple[int, str, int, str]], first_id: int) -> None:
    """(ms after BASE_MS, app, template, level) lines, ids from `first_id`."""
    table = record(
        account,
        [f"line {n}" for n in range(len(rows))],
        first_id=first_id,
        ts=[BASE_MS + offset for offset, _, _, _ in rows],
        app=[app for _, app, _, _ in rows],
        template=[template for _, _, template, _ in rows],
        level=[level for _, _, _, level in rows],
        retention_days=[RETENTION] * len(rows),
    )
    store.insert(insert_rows(table), f"{account}:{first_id}")


KEPT = (
    f"SELECT app, template, toUnixTimestamp(minute) AS m, level, sum(lines) AS n FROM {TEMPLATE_MINUTES_TABLE} "
    "WHERE account = {account:String} GROUP BY app, template, m, level"
)
COUNTED = (
    f"SELECT app, template, toUnixTimestamp(toStartOfMinute(ts)) AS m, level, count() AS n FROM {LOG_TABLE} "
    "WHERE account = {account:String} AND template != 0 GROUP BY app, template, m, level"
)


def per_minute(store: ChdbStore, account: str, sql: str) -> dict[tuple[str, int, int, str], int]:
    """(app, template, minute, level) → lines: as kept (KEPT) or counted from the lines (COUNTED)."""
    rows = store.select(sql, {"account": account})
    return {(row["app"], int(row["template"]), int(row["m"]), row["level"]): int(row["n"]) for row in rows}


def kept(store: ChdbStore, account: str) -> dict[tuple[str, int, int, str], int]:
    return per_minute(store, account, KEPT)


def counted(store: ChdbStore, account: str) -> dict[tuple[str, int, int, str], int]:
    return per_minute(store, account, COUNTED)


def trends(store: ChdbStore, account: str, since_ms: int, until_ms: int, scope: str | None = None, **rule: Any) -> dict[str, list[dict[str, Any]]]:
    compiled = None if scope is None else compile_sql(parse(scope), prefix="s")
    sql, params = select_template_trends(account, trend_window(since_ms, until_ms), GrowthRule(**rule), 10, compiled)
    found: dict[str, list[dict[str, Any]]] = {"new": [], "growing": []}
    for row in store.select(sql, params):
        found[row["kind"]].append(row)
    return found


def test_the_kept_counts_are_the_lines_per_minute_and_a_replayed_insert_counts_once(chdb_store: ChdbStore) -> None:
    account = f"tc-{uuid.uuid4().hex[:8]}"
    rows = [(n * 7_000, "web" if n % 3 else "db", 11 + n % 4, "error" if n % 5 == 0 else "info") for n in range(200)]
    rows += [(500, "web", 0, "info")]  # no template: not counted
    insert(chdb_store, account, rows, first_id=1)
    insert(chdb_store, account, rows, first_id=1)  # the same batch again, as a WAL replay sends it
    expected = counted(chdb_store, account)
    assert kept(chdb_store, account) == expected
    assert sum(expected.values()) == 200 and len({key[2] for key in expected}) == 24


def test_counts_expire_with_their_lines(chdb_store: ChdbStore) -> None:
    account = f"tc-{uuid.uuid4().hex[:8]}"
    table = record(account, ["old", "kept"], ts=[BASE_MS - 400 * 86_400_000, BASE_MS], template=[9, 9], retention_days=[30, RETENTION])
    chdb_store.insert(insert_rows(table), f"{account}:ttl")
    for name in (LOG_TABLE, TEMPLATE_MINUTES_TABLE):
        chdb_store.select(f"OPTIMIZE TABLE {name} FINAL", {})
    assert kept(chdb_store, account) == counted(chdb_store, account) == {("", 9, BASE_MS // 1000, ""): 1}


def test_another_accounts_lines_are_neither_counted_nor_found(chdb_store: ChdbStore) -> None:
    mine, theirs = f"tc-{uuid.uuid4().hex[:8]}", f"tc-{uuid.uuid4().hex[:8]}"
    insert(chdb_store, theirs, [(60 * MINUTE_MS + n, "web", 5, "info") for n in range(20)], first_id=1)
    assert kept(chdb_store, mine) == {}
    assert trends(chdb_store, mine, BASE_MS + 30 * MINUTE_MS, BASE_MS + 90 * MINUTE_MS) == {"new": [], "growing": []}
    assert [row["template"] for row in trends(chdb_store, theirs, BASE_MS + 30 * MINUTE_MS, BASE_MS + 90 * MINUTE_MS)["new"]] == ["5"]


def steady_and_surging(store: ChdbStore, account: str) -> None:
    """Over two hours: template 1 (web) 2 lines a minute throughout; template 2 (web) 1 line a
    minute, 10 a minute in the second hour; template 3 (worker) only from minute 75, 3 a minute,
    one of them an error; template 4 (web) once half an hour before (at debug) and 12 lines in the second
    hour."""
    rows = []
    for minute in range(120):
        at = minute * MINUTE_MS
        rows += [(at + 1_000, "web", 1, "info"), (at + 2_000, "web", 1, "info")]
        rows += [(at + 3_000 + n, "web", 2, "warn") for n in range(10 if minute >= 60 else 1)]
        if minute >= 75:
            rows += [(at + 4_000, "worker", 3, "error"), (at + 5_000, "worker", 3, "info"), (at + 6_000, "worker", 3, "info")]
    rows += [(-30 * MINUTE_MS, "web", 4, "debug")] + [(m * MINUTE_MS + 7_000, "web", 4, "info") for m in range(100, 112)]
    insert(store, account, rows, first_id=1)


def test_new_templates_are_those_first_seen_in_the_window_with_their_counts_levels_and_sparkline(chdb_store: ChdbStore) -> None:
    account = f"tc-{uuid.uuid4().hex[:8]}"
    steady_and_surging(chdb_store, account)
    since, until = BASE_MS + 60 * MINUTE_MS, BASE_MS + 120 * MINUTE_MS - 1
    [new] = trends(chdb_store, account, since, until)["new"]
    assert (new["app"], new["template"], new["first_ms"], new["after"], new["before"]) == ("worker", "3", BASE_MS + 75 * MINUTE_MS + 4_000, 135, 0)
    assert dict(zip(*new["levels"], strict=True)) == {"error": 45, "info": 90}
    assert new["sparkline"] == [0] * 60 + [0] * 15 + [3] * 45  # the window before, then the window
    # a window that starts after the first line: no longer new
    assert trends(chdb_store, account, since + 16 * MINUTE_MS, until)["new"] == []


def test_growing_templates_are_ranked_by_their_ratio_to_the_window_before(chdb_store: ChdbStore) -> None:
    account = f"tc-{uuid.uuid4().hex[:8]}"
    steady_and_surging(chdb_store, account)
    since, until = BASE_MS + 60 * MINUTE_MS, BASE_MS + 120 * MINUTE_MS - 1
    growing = trends(chdb_store, account, since, until)["growing"]
    # template 4 had no line in the hour before (ratio floor 1: 12 / 1); template 2 went 60 → 600;
    # template 1 stayed at 120 and template 3 is new, so neither is growing
    assert [(row["template"], row["before"], row["after"]) for row in growing] == [("4", 0, 12), ("2", 60, 600)]
    assert growing[1]["sparkline"] == [1] * 60 + [10] * 60
    assert [row["template"] for row in trends(chdb_store, account, since, until, min_lines=13)["growing"]] == ["2"]
    assert [row["template"] for row in trends(chdb_store, account, since, until, min_ratio=11)["growing"]] == ["4"]


def test_a_scoped_caller_gets_the_same_answer_from_the_lines_in_its_scope_and_nothing_outside(chdb_store: ChdbStore) -> None:
    account = f"tc-{uuid.uuid4().hex[:8]}"
    steady_and_surging(chdb_store, account)
    since, until = BASE_MS + 60 * MINUTE_MS, BASE_MS + 120 * MINUTE_MS - 1
    assert trends(chdb_store, account, since, until, scope="app:web OR app:worker") == trends(chdb_store, account, since, until)
    web_only = trends(chdb_store, account, since, until, scope="app:web")
    assert web_only["new"] == [] and [row["template"] for row in web_only["growing"]] == ["4", "2"]
    # template 4's one early line is outside this scope: to it, template 4 is new at minute 100
    no_debug = trends(chdb_store, account, since, until, scope="-level:debug")
    assert [(row["template"], row["first_ms"]) for row in no_debug["new"]] == [
        ("4", BASE_MS + 100 * MINUTE_MS + 7_000), ("3", BASE_MS + 75 * MINUTE_MS + 4_000)
    ]
    assert [row["template"] for row in no_debug["growing"]] == ["2"]
    warn_only = trends(chdb_store, account, since, until, scope="level:warn OR template:4")
    assert [row["template"] for row in warn_only["growing"]] == ["4", "2"]


def test_windows_are_whole_minutes_in_at_most_sixty_buckets() -> None:
    day = trend_window(BASE_MS + 30_500, BASE_MS + 86_400_000)
    assert (day.start_s * 1000, day.bucket_s, day.buckets, day.minutes) == (BASE_MS, 1440, 60, 1440)
    short = trend_window(BASE_MS, BASE_MS + 119 * MINUTE_MS)
    assert (short.bucket_s, short.buckets, short.end_s * 1000) == (120, 60, BASE_MS + 120 * MINUTE_MS)
    tiny = trend_window(BASE_MS + 1, BASE_MS + 2)
    assert (tiny.bucket_s, tiny.buckets, tiny.before_s * 1000) == (60, 1, BASE_MS - MINUTE_MS)
    assert all(trend_window(BASE_MS, BASE_MS + m * MINUTE_MS).buckets <= MAX_BUCKETS for m in range(1, 3000, 37))


MIGRATION_SCRIPT = textwrap.dedent(
    """
    import sys
    from pathlib import Path
    from records import record
    from timberyard.store import schema
    from timberyard.store.chdb import ChdbStore

    released = schema.MIGRATIONS
    schema.MIGRATIONS = released[:3]  # a store written by the release before the counts
    store = ChdbStore(Path(sys.argv[1]))
    store.create_schema()
    assert store.schema_version() == 3
    lines = record("acct", ["a", "b", "c", "d"], ts=[1_790_000_000_000, 1_790_000_001_000, 1_790_000_100_000, 1_790_000_000_000],
                   app=["web", "web", "web", "db"], template=[7, 7, 7, 0], retention_days=[3650] * 4)
    store.insert(schema.insert_rows(lines), "before")
    schema.MIGRATIONS = released
    for attempt in range(2):  # the second as after a crash before the version was recorded
        store.create_schema()
        store._run(f"ALTER TABLE {schema.MIGRATIONS_TABLE} DELETE WHERE version = 4 SETTINGS mutations_sync = 1")
    store.create_schema()
    print(store.schema_version(), store.select(
        f"SELECT toUnixTimestamp(minute) AS m, sum(lines) AS n FROM {schema.TEMPLATE_MINUTES_TABLE} GROUP BY m ORDER BY m", {}))
    """
)


def test_the_migration_counts_the_lines_stored_before_it_once(tmp_path: Path) -> None:
    """In its own process: chDB opens one data directory per process."""
    tests = Path(__file__).resolve().parents[2]
    done = subprocess.run(
        [sys.executable, "-c", MIGRATION_SCRIPT, str(tmp_path / "store")],
        capture_output=True, text=True, timeout=120,
        env={"PYTHONPATH": f"{tests.parent / 'src'}:{tests}", "PATH": "/usr/bin:/bin"},
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "4 [{'m': 1789999980, 'n': 2}, {'m': 1790000100, 'n': 1}]"
