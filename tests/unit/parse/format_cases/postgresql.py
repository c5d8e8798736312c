"""PostgreSQL with log_line_prefix '%m [%p] ', '%m [%p] %q%u@%d ' and '%t [%p-%l] %q%u@%d '."""

from unit.parse.format_cases.case import Case

FORMAT = "postgresql"

CASES = [
    Case(
        '2025-05-31 04:12:38.669 UTC [1234] LOG:  database system is ready to accept connections',
        '2025-05-31T04:12:38.669Z',
        'INFO',
        {'pid': 1234},
    ),
    Case(
        '2025-05-31 04:12:38.669 UTC [1234] app@shop LOG:  statement: SELECT 1',
        '2025-05-31T04:12:38.669Z',
        'INFO',
        {'pid': 1234, 'client.user': 'app', 'database': 'shop'},
    ),
    Case(
        '2025-05-31 04:12:38.701 UTC [1235] app@shop ERROR:  duplicate key value violates unique constraint "orders_pkey"',
        '2025-05-31T04:12:38.701Z',
        'ERROR',
        {'pid': 1235, 'client.user': 'app', 'database': 'shop'},
    ),
    Case(
        '2025-05-31 04:12:38.701 UTC [1235] app@shop DETAIL:  Key (id)=(42) already exists.',
        '2025-05-31T04:12:38.701Z',
        None,
        {'pid': 1235, 'client.user': 'app', 'database': 'shop'},
    ),
    Case(
        '2025-05-31 04:12:38.701 UTC [1235] app@shop STATEMENT:  INSERT INTO orders (id, total) VALUES (42, 9.99)',
        '2025-05-31T04:12:38.701Z',
        None,
        {'pid': 1235, 'client.user': 'app', 'database': 'shop'},
    ),
    Case(
        '2025-05-31 04:12:39.001 UTC [1236] [unknown]@[unknown] LOG:  connection received: host=10.0.0.7 port=51234',
        '2025-05-31T04:12:39.001Z',
        'INFO',
        {'pid': 1236},
    ),
    Case(
        '2025-05-31 04:12:39.002 UTC [1236] app@shop FATAL:  password authentication failed for user "app"',
        '2025-05-31T04:12:39.002Z',
        'FATAL',
        {'pid': 1236, 'client.user': 'app', 'database': 'shop'},
    ),
    Case(
        '2025-05-31 04:12:39.002 UTC [1236] app@shop DETAIL:  Connection matched file "/etc/postgresql/16/main/pg_hba.conf" line 128: "host all all 0.0.0.0/0 scram-sha-256"',
        '2025-05-31T04:12:39.002Z',
        None,
        {'pid': 1236, 'client.user': 'app', 'database': 'shop'},
    ),
    Case(
        '2025-05-31 04:12:40.000 UTC [1237] LOG:  checkpoint starting: time',
        '2025-05-31T04:12:40.000Z',
        'INFO',
        {'pid': 1237},
    ),
    Case(
        '2025-05-31 04:12:45.120 UTC [1237] LOG:  checkpoint complete: wrote 3 buffers (0.0%); 0 WAL file(s) added, 0 removed, 0 recycled; write=0.301 s, sync=0.002 s, total=0.310 s',
        '2025-05-31T04:12:45.120Z',
        'INFO',
        {'pid': 1237},
    ),
    Case(
        '2025-05-31 06:12:41.500 CEST [1238] postgres@postgres WARNING:  there is no transaction in progress',
        '2025-05-31T04:12:41.500Z',
        'WARN',
        {'pid': 1238, 'client.user': 'postgres', 'database': 'postgres'},
    ),
    Case(
        '2025-05-31 04:12:42 UTC [1239-1] app@shop LOG:  duration: 1532.114 ms  statement: SELECT * FROM orders WHERE total > 100',
        '2025-05-31T04:12:42.000Z',
        'INFO',
        {'pid': 1239, 'client.user': 'app', 'database': 'shop'},
    ),
    Case(
        '2025-05-31 04:12:43.111 UTC [1240] app@shop ERROR:  column "totl" does not exist at character 8',
        '2025-05-31T04:12:43.111Z',
        'ERROR',
        {'pid': 1240, 'client.user': 'app', 'database': 'shop'},
    ),
    Case(
        '2025-05-31 04:12:43.111 UTC [1240] app@shop HINT:  Perhaps you meant to reference the column "orders.total".',
        '2025-05-31T04:12:43.111Z',
        None,
        {'pid': 1240, 'client.user': 'app', 'database': 'shop'},
    ),
    Case(
        '2025-05-31 04:12:44.222 UTC [1241] LOG:  autovacuum launcher started',
        '2025-05-31T04:12:44.222Z',
        'INFO',
        {'pid': 1241},
    ),
    Case(
        '2025-05-31 04:12:45.333 UTC [1242] app@shop NOTICE:  table "tmp_import" does not exist, skipping',
        '2025-05-31T04:12:45.333Z',
        'NOTICE',
        {'pid': 1242, 'client.user': 'app', 'database': 'shop'},
    ),
    Case(
        '2025-05-31 04:12:46.444 UTC [1243] PANIC:  could not write to file "pg_wal/xlogtemp.1243": No space left on device',
        '2025-05-31T04:12:46.444Z',
        'FATAL',
        {'pid': 1243},
    ),
    Case(
        '2025-05-31 04:12:47.555 UTC [1244] DEBUG:  autovacuum: processing database "shop"',
        '2025-05-31T04:12:47.555Z',
        'DEBUG',
        {'pid': 1244},
    ),
    Case(
        '2025-05-31 04:12:48.666 UTC [1245] app@shop CONTEXT:  PL/pgSQL function refresh_totals() line 4 at RAISE',
        '2025-05-31T04:12:48.666Z',
        None,
        {'pid': 1245, 'client.user': 'app', 'database': 'shop'},
    ),
    Case(
        '2025-05-31 04:12:49.777 UTC [1246] LOG:  background worker "logical replication launcher" (PID 1250) exited with exit code 1',
        '2025-05-31T04:12:49.777Z',
        'INFO',
        {'pid': 1246},
    ),
    Case(
        '2025-05-31 11:12:50.888 +07 [1247] LOG:  received fast shutdown request',
        '2025-05-31T04:12:50.888Z',
        'INFO',
        {'pid': 1247},
    ),
    Case(
        '2025-05-31 04:12:51.999 UTC [1248] replicator@[unknown] LOG:  replication connection authorized: user=replicator application_name=walreceiver',
        '2025-05-31T04:12:51.999Z',
        'INFO',
        {'pid': 1248, 'client.user': 'replicator'},
    ),
    Case(
        '2025-05-31 04:12:52.000 UTC [1249] app@shop INFO:  vacuuming "public.orders"',
        '2025-05-31T04:12:52.000Z',
        'INFO',
        {'pid': 1249, 'client.user': 'app', 'database': 'shop'},
    ),
    Case(
        '2025-05-31 04:12:53.000 CST [1250] LOG:  could not receive data from client: Connection reset by peer',
        None,
        'INFO',
        {'pid': 1250},
    ),
]
