"""Redis 3+ server, child and sentinel lines."""

from unit.parse.format_cases.case import Case

FORMAT = "redis"

CASES = [
    Case(
        '1:C 31 May 2025 04:12:38.669 # oO0OoO0OoO0Oo Redis is starting oO0OoO0OoO0Oo',
        '2025-05-31T04:12:38.669Z',
        'WARN',
        {'pid': 1, 'redis.role': 'C'},
    ),
    Case(
        '1:C 31 May 2025 04:12:38.669 # Redis version=7.2.5, bits=64, commit=00000000, modified=0, pid=1, just started',
        '2025-05-31T04:12:38.669Z',
        'WARN',
        {'pid': 1, 'redis.role': 'C'},
    ),
    Case(
        '1:C 31 May 2025 04:12:38.669 # Warning: no config file specified, using the default config. In order to specify a config file use redis-server /path/to/redis.conf',
        '2025-05-31T04:12:38.669Z',
        'WARN',
        {'pid': 1, 'redis.role': 'C'},
    ),
    Case(
        '1:M 31 May 2025 04:12:38.670 * monotonic clock: POSIX clock_gettime',
        '2025-05-31T04:12:38.670Z',
        'NOTICE',
        {'pid': 1, 'redis.role': 'M'},
    ),
    Case(
        '1:M 31 May 2025 04:12:38.671 * Running mode=standalone, port=6379.',
        '2025-05-31T04:12:38.671Z',
        'NOTICE',
        {'pid': 1, 'redis.role': 'M'},
    ),
    Case(
        '1:M 31 May 2025 04:12:38.671 * Server initialized',
        '2025-05-31T04:12:38.671Z',
        'NOTICE',
        {'pid': 1, 'redis.role': 'M'},
    ),
    Case(
        '1:M 31 May 2025 04:12:38.672 * Ready to accept connections tcp',
        '2025-05-31T04:12:38.672Z',
        'NOTICE',
        {'pid': 1, 'redis.role': 'M'},
    ),
    Case(
        '1:M 31 May 2025 04:17:39.001 * 1 changes in 300 seconds. Saving...',
        '2025-05-31T04:17:39.001Z',
        'NOTICE',
        {'pid': 1, 'redis.role': 'M'},
    ),
    Case(
        '1:M 31 May 2025 04:17:39.002 * Background saving started by pid 27',
        '2025-05-31T04:17:39.002Z',
        'NOTICE',
        {'pid': 1, 'redis.role': 'M'},
    ),
    Case(
        '27:C 31 May 2025 04:17:39.010 * DB saved on disk',
        '2025-05-31T04:17:39.010Z',
        'NOTICE',
        {'pid': 27, 'redis.role': 'C'},
    ),
    Case(
        '27:C 31 May 2025 04:17:39.011 * Fork CoW for RDB: current 0 MB, peak 0 MB, average 0 MB',
        '2025-05-31T04:17:39.011Z',
        'NOTICE',
        {'pid': 27, 'redis.role': 'C'},
    ),
    Case(
        '1:M 31 May 2025 04:17:39.103 * Background saving terminated with success',
        '2025-05-31T04:17:39.103Z',
        'NOTICE',
        {'pid': 1, 'redis.role': 'M'},
    ),
    Case(
        '7:S 31 May 2025 04:12:40.000 * Connecting to MASTER 10.0.0.5:6379',
        '2025-05-31T04:12:40.000Z',
        'NOTICE',
        {'pid': 7, 'redis.role': 'S'},
    ),
    Case(
        '7:S 31 May 2025 04:12:40.001 * MASTER <-> REPLICA sync started',
        '2025-05-31T04:12:40.001Z',
        'NOTICE',
        {'pid': 7, 'redis.role': 'S'},
    ),
    Case(
        '7:S 31 May 2025 04:12:40.500 # Error condition on socket for SYNC: Connection refused',
        '2025-05-31T04:12:40.500Z',
        'WARN',
        {'pid': 7, 'redis.role': 'S'},
    ),
    Case(
        '8:X 31 May 2025 04:12:41.000 # +sdown master mymaster 10.0.0.5 6379',
        '2025-05-31T04:12:41.000Z',
        'WARN',
        {'pid': 8, 'redis.role': 'X'},
    ),
    Case(
        '8:X 31 May 2025 04:12:41.001 # +odown master mymaster 10.0.0.5 6379 #quorum 2/2',
        '2025-05-31T04:12:41.001Z',
        'WARN',
        {'pid': 8, 'redis.role': 'X'},
    ),
    Case(
        '1:M 31 May 2025 04:12:42.000 - Accepted 10.0.0.9:51234',
        '2025-05-31T04:12:42.000Z',
        'INFO',
        {'pid': 1, 'redis.role': 'M'},
    ),
    Case(
        '1:M 31 May 2025 04:12:42.001 . Client closed connection id=5 addr=10.0.0.9:51234',
        '2025-05-31T04:12:42.001Z',
        'DEBUG',
        {'pid': 1, 'redis.role': 'M'},
    ),
    Case(
        '1:M 01 Jun 2025 00:00:01.000 * DB loaded from disk: 0.012 seconds',
        '2025-06-01T00:00:01.000Z',
        'NOTICE',
        {'pid': 1, 'redis.role': 'M'},
    ),
    Case(
        '1:M 31 May 2025 04:12:43.500 # WARNING Memory overcommit must be enabled! Without it, a background save or replication may fail under low memory condition.',
        '2025-05-31T04:12:43.500Z',
        'WARN',
        {'pid': 1, 'redis.role': 'M'},
    ),
]
