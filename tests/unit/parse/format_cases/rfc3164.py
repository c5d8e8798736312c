"""RFC 3164 syslog as sent (with PRI) and as written to files (without); received 2025-06-01 12:00 UTC."""

from unit.parse.format_cases.case import Case

FORMAT = "rfc3164"

CASES = [
    Case(
        "<34>Oct 11 22:14:15 mymachine su: 'su root' failed for lonvick on /dev/pts/8",
        '2024-10-11T22:14:15.000Z',
        'CRITICAL',
        {'syslog.priority': 34, 'syslog.host': 'mymachine', 'syslog.app': 'su'},
    ),
    Case(
        '<13>Feb  5 17:32:18 10.0.0.99 Use the BFG!',
        '2025-02-05T17:32:18.000Z',
        'NOTICE',
        {'syslog.priority': 13, 'syslog.host': '10.0.0.99'},
    ),
    Case(
        "<165>May 31 04:12:38 mymachine myproc[10]: %% It's time to make the do-nuts.",
        '2025-05-31T04:12:38.000Z',
        'NOTICE',
        {'syslog.priority': 165, 'syslog.host': 'mymachine', 'syslog.app': 'myproc', 'syslog.pid': 10},
    ),
    Case(
        "<34>May 31 04:12:38 mymachine su[123]: 'su root' failed for lonvick on /dev/pts/8",
        '2025-05-31T04:12:38.000Z',
        'CRITICAL',
        {'syslog.priority': 34, 'syslog.host': 'mymachine', 'syslog.app': 'su', 'syslog.pid': 123},
    ),
    Case(
        'May 31 04:12:38 mymachine su: msg',
        '2025-05-31T04:12:38.000Z',
        None,
        {'syslog.host': 'mymachine', 'syslog.app': 'su'},
    ),
    Case(
        'Dec 10 06:55:46 LabSZ sshd[24200]: Invalid user webmaster from 173.234.31.186',
        '2024-12-10T06:55:46.000Z',
        None,
        {'syslog.host': 'LabSZ', 'syslog.app': 'sshd', 'syslog.pid': 24200},
    ),
    Case(
        'May 31 04:12:39 web01 sshd[811]: Failed password for invalid user admin from 203.0.113.44 port 50122 ssh2',
        '2025-05-31T04:12:39.000Z',
        None,
        {'syslog.host': 'web01', 'syslog.app': 'sshd', 'syslog.pid': 811},
    ),
    Case(
        'May 31 04:12:40 web01 kernel: [123456.789012] EXT4-fs error (device sda1): ext4_find_entry:1455: inode #2: comm ls: reading directory lblock 0',
        '2025-05-31T04:12:40.000Z',
        None,
        {'syslog.host': 'web01', 'syslog.app': 'kernel'},
    ),
    Case(
        'May 31 04:12:41 web01 systemd[1]: Started Session 42 of User root.',
        '2025-05-31T04:12:41.000Z',
        None,
        {'syslog.host': 'web01', 'syslog.app': 'systemd', 'syslog.pid': 1},
    ),
    Case(
        'May 31 04:12:42 web01 CRON[3311]: (root) CMD (run-parts /etc/cron.hourly)',
        '2025-05-31T04:12:42.000Z',
        None,
        {'syslog.host': 'web01', 'syslog.app': 'CRON', 'syslog.pid': 3311},
    ),
    Case(
        'May 31 04:12:43 web01 postfix/smtpd[2201]: connect from unknown[198.51.100.77]',
        '2025-05-31T04:12:43.000Z',
        None,
        {'syslog.host': 'web01', 'syslog.app': 'postfix/smtpd', 'syslog.pid': 2201},
    ),
    Case(
        'Jun 14 15:16:01 combo sshd(pam_unix)[19939]: authentication failure; logname= uid=0 euid=0 tty=NODEVssh ruser= rhost=218.188.2.4',
        '2024-06-14T15:16:01.000Z',
        None,
        {'syslog.host': 'combo', 'syslog.app': 'sshd(pam_unix)', 'syslog.pid': 19939},
    ),
    Case(
        "May  1 00:00:00 web01 anacron[402]: Job `cron.daily' terminated",
        '2025-05-01T00:00:00.000Z',
        None,
        {'syslog.host': 'web01', 'syslog.app': 'anacron', 'syslog.pid': 402},
    ),
    Case(
        '<86>May 31 04:12:44 bastion sudo:   deploy : TTY=pts/0 ; PWD=/home/deploy ; USER=root ; COMMAND=/usr/bin/id',
        '2025-05-31T04:12:44.000Z',
        'INFO',
        {'syslog.priority': 86, 'syslog.host': 'bastion', 'syslog.app': 'sudo'},
    ),
    Case(
        '<13>May 31 04:12:45 su[77]: no host in this one',
        '2025-05-31T04:12:45.000Z',
        'NOTICE',
        {'syslog.priority': 13, 'syslog.app': 'su', 'syslog.pid': 77},
    ),
    Case(
        'May 31 04:12:46 web01 -- MARK --',
        '2025-05-31T04:12:46.000Z',
        None,
        {'syslog.host': 'web01'},
    ),
    Case(
        '<190>May 31 04:12:47 web01 nginx: 10.0.0.1 - - [31/May/2025:04:12:47 +0000] "GET / HTTP/1.1" 200 612 "-" "curl/8.5.0"',
        '2025-05-31T04:12:47.000Z',
        'INFO',
        {'syslog.priority': 190, 'syslog.host': 'web01', 'syslog.app': 'nginx'},
    ),
    Case(
        'May 31 04:12:48 2001:db8::10 dhclient[900]: DHCPACK of 10.0.0.50 from 10.0.0.1',
        '2025-05-31T04:12:48.000Z',
        None,
        {'syslog.host': '2001:db8::10', 'syslog.app': 'dhclient', 'syslog.pid': 900},
    ),
    Case(
        '<11>May 31 04:12:49 app01 myapp[5150]: ERROR unable to open /data/queue.db',
        '2025-05-31T04:12:49.000Z',
        'ERROR',
        {'syslog.priority': 11, 'syslog.host': 'app01', 'syslog.app': 'myapp', 'syslog.pid': 5150},
    ),
    Case(
        'May 31 04:12:50 web01 audit[1402]: AVC apparmor="DENIED" operation="open" profile="/usr/sbin/ntpd" name="/etc/ssl/openssl.cnf" pid=1402 comm="ntpd"',
        '2025-05-31T04:12:50.000Z',
        None,
        {'syslog.host': 'web01', 'syslog.app': 'audit', 'syslog.pid': 1402},
    ),
    Case(
        '<30>Jun  1 11:59:59 web01 systemd-logind[640]: New session 7 of user deploy.',
        '2025-06-01T11:59:59.000Z',
        'INFO',
        {'syslog.priority': 30, 'syslog.host': 'web01', 'syslog.app': 'systemd-logind', 'syslog.pid': 640},
    ),
    Case(
        'Jun  3 10:00:00 web01 skewed[1]: a sender clock two days ahead',
        '2025-06-03T10:00:00.000Z',
        None,
        {'syslog.host': 'web01', 'syslog.app': 'skewed', 'syslog.pid': 1},
    ),
    Case(
        'Dec 31 23:59:59 web01 app[1]: last second of last year',
        '2024-12-31T23:59:59.000Z',
        None,
        {'syslog.host': 'web01', 'syslog.app': 'app', 'syslog.pid': 1},
    ),
]
