"""Application lines that only start with a time, and maybe a level."""

from unit.parse.format_cases.case import Case

FORMAT = "timestamped"

CASES = [
    Case(
        '2025-05-31 04:12:38,669 WARN [main] com.example.shop.OrderService: stock low for sku=42',
        '2025-05-31T04:12:38.669Z',
        'WARN',
        {},
    ),
    Case(
        '2025-05-31 04:12:38,669 - shop.orders - WARNING - stock low for sku=42',
        '2025-05-31T04:12:38.669Z',
        None,
        {},
    ),
    Case(
        '2025/05/31 04:12:38 listening on :8080',
        '2025-05-31T04:12:38.000Z',
        None,
        {},
    ),
    Case(
        '2025/05/31 04:12:38.123456 main.go:42: connected to postgres',
        '2025-05-31T04:12:38.123Z',
        None,
        {},
    ),
    Case(
        '2015-07-29 17:41:44,747 - INFO  [QuorumPeer[myid=1]/0:0:0:0:0:0:0:0:2181:FastLeaderElection@774] - Notification time out: 3200',
        '2015-07-29T17:41:44.747Z',
        'INFO',
        {},
    ),
    Case(
        '2025-05-31 04:12:39.001 ERROR 1 --- [nio-8080-exec-3] o.a.c.c.C.[.[.[/].[dispatcherServlet] : Servlet.service() threw exception',
        '2025-05-31T04:12:39.001Z',
        'ERROR',
        {},
    ),
    Case(
        '2025-05-31T04:12:40.123Z INFO  [http-nio-8080-exec-1] c.e.api.Controller - GET /items took 12ms',
        '2025-05-31T04:12:40.123Z',
        'INFO',
        {},
    ),
    Case(
        '2025-05-31T04:12:41.000+02:00 DEBUG cache warmed in 31ms',
        '2025-05-31T02:12:41.000Z',
        'DEBUG',
        {},
    ),
    Case(
        '2025-05-31T04:12:42Z worker-3 started',
        '2025-05-31T04:12:42.000Z',
        None,
        {},
    ),
    Case(
        '[2025-05-31 04:12:43] production.ERROR: SQLSTATE[HY000] [2002] Connection refused',
        '2025-05-31T04:12:43.000Z',
        None,
        {},
    ),
    Case(
        '2025-05-31 04:12:44 UTC [main] starting scheduler',
        '2025-05-31T04:12:44.000Z',
        None,
        {},
    ),
    Case(
        '2025-05-31 04:12:45,001 [Thread-7] ERROR org.hibernate.SQL - could not execute statement',
        '2025-05-31T04:12:45.001Z',
        None,
        {},
    ),
    Case(
        '2025-05-31 04:12:46.777 | INFO     | app.main:startup:42 - Application startup complete.',
        '2025-05-31T04:12:46.777Z',
        'INFO',
        {},
    ),
    Case(
        '2025-05-31T04:12:47.000000Z [error] connection pool exhausted',
        '2025-05-31T04:12:47.000Z',
        'ERROR',
        {},
    ),
    Case(
        "2025-05-31 04:12:48 fatal: unable to access 'https://git.example.com/repo.git/'",
        '2025-05-31T04:12:48.000Z',
        'FATAL',
        {},
    ),
    Case(
        '2025-05-31 04:12:49.123456789 TRACE entering loop',
        '2025-05-31T04:12:49.123Z',
        'TRACE',
        {},
    ),
    Case(
        '2025-05-31T04:12:50+0530 notice: certificate renews in 30 days',
        '2025-05-30T22:42:50.000Z',
        'NOTICE',
        {},
    ),
    Case(
        '2025/05/31 04:12:51 [WARN] retrying request (attempt 2/5)',
        '2025-05-31T04:12:51.000Z',
        'WARN',
        {},
    ),
    Case(
        '2025-05-31 04:12:52,333 CRITICAL [root] disk full',
        '2025-05-31T04:12:52.333Z',
        'CRITICAL',
        {},
    ),
    Case(
        "2025-05-31 04:12:53.444 Error: ENOENT: no such file or directory, open '/app/config.json'",
        '2025-05-31T04:12:53.444Z',
        'ERROR',
        {},
    ),
    Case(
        '2025-05-31 04:12:54.555 warning: deprecated option --foo',
        '2025-05-31T04:12:54.555Z',
        'WARN',
        {},
    ),
    Case(
        '2025-05-31T04:12:55.666Z\tinfo\tserver/main.go:88\tserving\t{"port": 8080}',
        '2025-05-31T04:12:55.666Z',
        'INFO',
        {},
    ),
]
