"""MySQL's error log: 8.0, 5.7 and 5.6."""

from unit.parse.format_cases.case import Case

FORMAT = "mysql"

CASES = [
    Case(
        '2025-05-31T04:12:38.669123Z 0 [System] [MY-010116] [Server] /usr/sbin/mysqld (mysqld 8.0.36) starting as process 1',
        '2025-05-31T04:12:38.669Z',
        'NOTICE',
        {'tid': 0, 'mysql.code': 'MY-010116', 'mysql.subsystem': 'Server'},
    ),
    Case(
        '2025-05-31T04:12:38.701234Z 1 [System] [MY-013576] [InnoDB] InnoDB initialization has started.',
        '2025-05-31T04:12:38.701Z',
        'NOTICE',
        {'tid': 1, 'mysql.code': 'MY-013576', 'mysql.subsystem': 'InnoDB'},
    ),
    Case(
        '2025-05-31T04:12:39.412345Z 1 [System] [MY-013577] [InnoDB] InnoDB initialization has ended.',
        '2025-05-31T04:12:39.412Z',
        'NOTICE',
        {'tid': 1, 'mysql.code': 'MY-013577', 'mysql.subsystem': 'InnoDB'},
    ),
    Case(
        '2025-05-31T04:12:39.523456Z 0 [Warning] [MY-010068] [Server] CA certificate ca.pem is self signed.',
        '2025-05-31T04:12:39.523Z',
        'WARN',
        {'tid': 0, 'mysql.code': 'MY-010068', 'mysql.subsystem': 'Server'},
    ),
    Case(
        "2025-05-31T04:12:39.534567Z 0 [Warning] [MY-011810] [Server] Insecure configuration for --pid-file: Location '/var/run/mysqld' in the path is accessible to all OS users. Consider choosing a different directory.",
        '2025-05-31T04:12:39.534Z',
        'WARN',
        {'tid': 0, 'mysql.code': 'MY-011810', 'mysql.subsystem': 'Server'},
    ),
    Case(
        "2025-05-31T04:12:39.645678Z 0 [System] [MY-011323] [Server] X Plugin ready for connections. Bind-address: '::' port: 33060, socket: /var/run/mysqld/mysqlx.sock",
        '2025-05-31T04:12:39.645Z',
        'NOTICE',
        {'tid': 0, 'mysql.code': 'MY-011323', 'mysql.subsystem': 'Server'},
    ),
    Case(
        "2025-05-31T04:12:39.656789Z 0 [System] [MY-010931] [Server] /usr/sbin/mysqld: ready for connections. Version: '8.0.36'  socket: '/var/run/mysqld/mysqld.sock'  port: 3306  MySQL Community Server - GPL.",
        '2025-05-31T04:12:39.656Z',
        'NOTICE',
        {'tid': 0, 'mysql.code': 'MY-010931', 'mysql.subsystem': 'Server'},
    ),
    Case(
        '2025-05-31T04:12:40.000001Z 0 [ERROR] [MY-010259] [Server] Another process with pid 62 is using unix socket file.',
        '2025-05-31T04:12:40.000Z',
        'ERROR',
        {'tid': 0, 'mysql.code': 'MY-010259', 'mysql.subsystem': 'Server'},
    ),
    Case(
        '2025-05-31T04:12:40.000002Z 0 [ERROR] [MY-010268] [Server] Unable to setup unix socket lock file.',
        '2025-05-31T04:12:40.000Z',
        'ERROR',
        {'tid': 0, 'mysql.code': 'MY-010268', 'mysql.subsystem': 'Server'},
    ),
    Case(
        '2025-05-31T04:12:40.000003Z 0 [ERROR] [MY-010119] [Server] Aborting',
        '2025-05-31T04:12:40.000Z',
        'ERROR',
        {'tid': 0, 'mysql.code': 'MY-010119', 'mysql.subsystem': 'Server'},
    ),
    Case(
        "2025-05-31T04:12:41.123456Z 8 [Warning] [MY-013360] [Server] Plugin mysql_native_password reported: ''mysql_native_password' is deprecated and will be removed in a future release. Please use caching_sha2_password instead'",
        '2025-05-31T04:12:41.123Z',
        'WARN',
        {'tid': 8, 'mysql.code': 'MY-013360', 'mysql.subsystem': 'Server'},
    ),
    Case(
        "2025-05-31T04:12:42.234567Z 12 [Note] [MY-010914] [Server] Aborted connection 12 to db: 'shop' user: 'app' host: '10.0.0.5' (Got an error reading communication packets).",
        '2025-05-31T04:12:42.234Z',
        'INFO',
        {'tid': 12, 'mysql.code': 'MY-010914', 'mysql.subsystem': 'Server'},
    ),
    Case(
        '2025-05-31T06:12:43.345678+02:00 0 [System] [MY-010910] [Server] /usr/sbin/mysqld: Shutdown complete (mysqld 8.0.36)  MySQL Community Server - GPL.',
        '2025-05-31T04:12:43.345Z',
        'NOTICE',
        {'tid': 0, 'mysql.code': 'MY-010910', 'mysql.subsystem': 'Server'},
    ),
    Case(
        '2025-05-31T04:12:44.456789Z 0 [Note] mysqld (mysqld 5.7.44) starting as process 1 ...',
        '2025-05-31T04:12:44.456Z',
        'INFO',
        {'tid': 0},
    ),
    Case(
        '2025-05-31T04:12:44.567890Z 0 [Note] InnoDB: Buffer pool(s) load completed at 250531  4:12:44',
        '2025-05-31T04:12:44.567Z',
        'INFO',
        {'tid': 0},
    ),
    Case(
        "2025-05-31T04:12:45.678901Z 123 [Note] Aborted connection 123 to db: 'shop' user: 'app' host: '10.0.0.5' (Got timeout reading communication packets)",
        '2025-05-31T04:12:45.678Z',
        'INFO',
        {'tid': 123},
    ),
    Case(
        '2025-05-31T04:12:46.789012Z 0 [Warning] TIMESTAMP with implicit DEFAULT value is deprecated. Please use --explicit_defaults_for_timestamp server option (see documentation for more details).',
        '2025-05-31T04:12:46.789Z',
        'WARN',
        {'tid': 0},
    ),
    Case(
        "2025-05-31T04:12:47.890123Z 0 [ERROR] Can't start server: Bind on TCP/IP port: Address already in use",
        '2025-05-31T04:12:47.890Z',
        'ERROR',
        {'tid': 0},
    ),
    Case(
        '2025-05-31T04:12:48.901234Z 0 [Note] mysqld: ready for connections.',
        '2025-05-31T04:12:48.901Z',
        'INFO',
        {'tid': 0},
    ),
    Case(
        "2025-05-31 04:12:49 12345 [Note] Server hostname (bind-address): '*'; port: 3306",
        '2025-05-31T04:12:49.000Z',
        'INFO',
        {'tid': 12345},
    ),
    Case(
        '2025-05-31 04:12:50 12345 [Warning] Buffered warning: Changed limits: max_open_files: 1024 (requested 5000)',
        '2025-05-31T04:12:50.000Z',
        'WARN',
        {'tid': 12345},
    ),
    Case(
        '2025-05-31T04:12:51.012345Z 0 [ERROR] [MY-012592] [InnoDB] Operating system error number 28 in a file operation.',
        '2025-05-31T04:12:51.012Z',
        'ERROR',
        {'tid': 0, 'mysql.code': 'MY-012592', 'mysql.subsystem': 'InnoDB'},
    ),
]
