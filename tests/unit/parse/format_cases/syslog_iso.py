"""The RFC 3164 layout with an RFC 3339 time: rsyslog's file and forward formats, journalctl -o short-iso."""

from unit.parse.format_cases.case import Case

FORMAT = "syslog_iso"

CASES = [
    Case(
        '2025-05-31T04:12:38.669123+02:00 web01 sshd[811]: Accepted publickey for deploy from 203.0.113.8 port 50122 ssh2',
        '2025-05-31T02:12:38.669Z',
        None,
        {'syslog.host': 'web01', 'syslog.app': 'sshd', 'syslog.pid': 811},
    ),
    Case(
        '2025-05-31T04:12:38+0000 web01 systemd[1]: Started Daily apt download activities.',
        '2025-05-31T04:12:38.000Z',
        None,
        {'syslog.host': 'web01', 'syslog.app': 'systemd', 'syslog.pid': 1},
    ),
    Case(
        '2025-05-31T04:12:39.000000+00:00 web01 kernel: [  123.456789] usb 1-1: new high-speed USB device number 2 using xhci_hcd',
        '2025-05-31T04:12:39.000Z',
        None,
        {'syslog.host': 'web01', 'syslog.app': 'kernel'},
    ),
    Case(
        '2025-05-31T04:12:40.123456+00:00 web01 CRON[3311]: (root) CMD (command -v debian-sa1 > /dev/null && debian-sa1 1 1)',
        '2025-05-31T04:12:40.123Z',
        None,
        {'syslog.host': 'web01', 'syslog.app': 'CRON', 'syslog.pid': 3311},
    ),
    Case(
        '<30>2025-05-31T04:12:41.000Z web01 systemd-logind[640]: New session 7 of user deploy.',
        '2025-05-31T04:12:41.000Z',
        'INFO',
        {'syslog.priority': 30, 'syslog.host': 'web01', 'syslog.app': 'systemd-logind', 'syslog.pid': 640},
    ),
    Case(
        '<86>2025-05-31T04:12:42.000Z bastion sudo: deploy : TTY=pts/0 ; PWD=/home/deploy ; USER=root ; COMMAND=/usr/bin/id',
        '2025-05-31T04:12:42.000Z',
        'INFO',
        {'syslog.priority': 86, 'syslog.host': 'bastion', 'syslog.app': 'sudo'},
    ),
    Case(
        '2025-05-31T04:12:43.543210-05:00 db01 postgres[811]: [3-1] LOG:  checkpoint starting: time',
        '2025-05-31T09:12:43.543Z',
        None,
        {'syslog.host': 'db01', 'syslog.app': 'postgres', 'syslog.pid': 811},
    ),
    Case(
        '2025-05-31T04:12:44.000001+00:00 10.0.0.7 dhclient[900]: DHCPREQUEST for 10.0.0.50 on eth0 to 10.0.0.1 port 67',
        '2025-05-31T04:12:44.000Z',
        None,
        {'syslog.host': '10.0.0.7', 'syslog.app': 'dhclient', 'syslog.pid': 900},
    ),
    Case(
        '2025-05-31T04:12:45.000002+00:00 web01 rsyslogd: [origin software="rsyslogd" swVersion="8.2302.0" x-pid="714" x-info="https://www.rsyslog.com"] rsyslogd was HUPed',
        '2025-05-31T04:12:45.000Z',
        None,
        {'syslog.host': 'web01', 'syslog.app': 'rsyslogd'},
    ),
    Case(
        '2025-05-31T04:12:46.000003+00:00 web01 dockerd[1102]: time="2025-05-31T04:12:46.000000000Z" level=warning msg="Health check for container 4f2a error: context deadline exceeded"',
        '2025-05-31T04:12:46.000Z',
        None,
        {'syslog.host': 'web01', 'syslog.app': 'dockerd', 'syslog.pid': 1102},
    ),
    Case(
        '2025-05-31T04:12:47.000004+00:00 web01 containerd[1010]: time="2025-05-31T04:12:47Z" level=info msg="StartContainer returns successfully"',
        '2025-05-31T04:12:47.000Z',
        None,
        {'syslog.host': 'web01', 'syslog.app': 'containerd', 'syslog.pid': 1010},
    ),
    Case(
        '2025-05-31T04:12:48.000005+00:00 web01 kernel: Out of memory: Killed process 4242 (java) total-vm:8123456kB',
        '2025-05-31T04:12:48.000Z',
        None,
        {'syslog.host': 'web01', 'syslog.app': 'kernel'},
    ),
    Case(
        '2025-05-31T04:12:49.000006+00:00 web01 systemd[1]: app.service: Main process exited, code=exited, status=1/FAILURE',
        '2025-05-31T04:12:49.000Z',
        None,
        {'syslog.host': 'web01', 'syslog.app': 'systemd', 'syslog.pid': 1},
    ),
    Case(
        "2025-05-31T04:12:50.000007+00:00 web01 systemd[1]: app.service: Failed with result 'exit-code'.",
        '2025-05-31T04:12:50.000Z',
        None,
        {'syslog.host': 'web01', 'syslog.app': 'systemd', 'syslog.pid': 1},
    ),
    Case(
        '2025-05-31T04:12:51.000008+00:00 web01 postfix/qmgr[2200]: 4F2A1C0A12: removed',
        '2025-05-31T04:12:51.000Z',
        None,
        {'syslog.host': 'web01', 'syslog.app': 'postfix/qmgr', 'syslog.pid': 2200},
    ),
    Case(
        '2025-05-31T04:12:52.000009+00:00 web01 ntpd[700]: Soliciting pool server 192.0.2.123',
        '2025-05-31T04:12:52.000Z',
        None,
        {'syslog.host': 'web01', 'syslog.app': 'ntpd', 'syslog.pid': 700},
    ),
    Case(
        '2025-05-31T04:12:53.000010+00:00 WEB01 sshd[812]: Connection closed by 203.0.113.9 port 40000 [preauth]',
        '2025-05-31T04:12:53.000Z',
        None,
        {'syslog.host': 'WEB01', 'syslog.app': 'sshd', 'syslog.pid': 812},
    ),
    Case(
        '2025-05-31T04:12:54.000011+00:00 web01 su[901]: pam_unix(su:session): session opened for user root(uid=0) by deploy(uid=1000)',
        '2025-05-31T04:12:54.000Z',
        None,
        {'syslog.host': 'web01', 'syslog.app': 'su', 'syslog.pid': 901},
    ),
    Case(
        '2025-05-31T04:12:55.000012+00:00 web01 snapd[1200]: autorefresh.go:551: auto-refresh: all snaps are up-to-date',
        '2025-05-31T04:12:55.000Z',
        None,
        {'syslog.host': 'web01', 'syslog.app': 'snapd', 'syslog.pid': 1200},
    ),
    Case(
        '2025-05-31T04:12:56.000013+00:00 web01 NetworkManager[800]: <info>  [1717128776.0001] dhcp4 (eth0): state changed new lease',
        '2025-05-31T04:12:56.000Z',
        None,
        {'syslog.host': 'web01', 'syslog.app': 'NetworkManager', 'syslog.pid': 800},
    ),
    Case(
        '2025-05-31T04:12:57.000014+00:00 web01 haproxy[1234]: Proxy http-in started.',
        '2025-05-31T04:12:57.000Z',
        None,
        {'syslog.host': 'web01', 'syslog.app': 'haproxy', 'syslog.pid': 1234},
    ),
]
