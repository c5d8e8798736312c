"""Deterministic generator of realistic log lines for benchmarks.

The mix, by line count: 40% real system logs (the eight Loghub samples in
`shared/data/loghub-2k`, every `<*>` of their ground-truth templates filled with a fresh value
shaped like the values seen in that slot), 30% nginx access lines (combined format plus request
and upstream times) and 30% JSON application logs.

Every item is one LogDNA ingest line object plus the host that sends it:

    {"line": str, "app": str, "level": str (absent when the source has none),
     "timestamp": epoch ms, "meta": {...} (JSON app logs only), "hostname": str}

`hostname` is not part of LogDNA's line object: the ingest API takes it as a query parameter,
so request builders drop it from the line (see `ingest_body`).

The same seed and count give the same items byte for byte; nothing but the time fields depends
on `end_ms`, so a corpus ending now has the same text as the reproducible one apart from times.

    python bench/corpus.py --lines 2000000 --seed 1 --format raw -o /tmp/corpus.log

Loghub: Jieming Zhu, Shilin He, Pinjia He, Jinyang Liu, Michael R. Lyu. Loghub: A Large
Collection of System Log Datasets for AI-driven Log Analytics. In ISSRE, 2023.
"""

from __future__ import annotations

import argparse
import csv
import dataclasses
import math
import os
import re
import sys
import time
from bisect import bisect_right
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from random import Random

import orjson

DAY_MS = 24 * 3600 * 1000
# 2025-06-01T00:00:00Z: the end of the default (reproducible) time window.
DEFAULT_END_MS = 1_748_736_000_000
SHARE_LOGHUB, SHARE_NGINX = 0.40, 0.30  # the rest (0.30) is JSON application logs


def shared_data_dir() -> Path:
    """`shared/data/loghub-2k` next to the work tree, or under $TIMBERYARD_SHARED_DATA."""
    override = os.environ.get("TIMBERYARD_SHARED_DATA")
    base = Path(override) if override else Path(__file__).resolve().parents[1].parent / "shared" / "data"
    return base if base.name == "loghub-2k" else base / "loghub-2k"


@dataclass(frozen=True)
class Needle:
    """A unique token planted in one generated line, for search benchmarks."""

    index: int
    token: str
    app: str
    hostname: str
    timestamp: int


Gen = Callable[[], str]


# ---------------------------------------------------------------------------------------------
# Loghub systems: how each one's raw line is put together around its `Content`
# ---------------------------------------------------------------------------------------------

_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


def _hdfs(f, t, ms, sec, host, c):
    return "%02d%02d%02d %02d%02d%02d %s %s %s: %s" % (
        t[0] % 100, t[1], t[2], t[3], t[4], t[5], f["Pid"], f["Level"], f["Component"], c)


def _hadoop(f, t, ms, sec, host, c):
    return "%04d-%02d-%02d %02d:%02d:%02d,%03d %s [%s] %s: %s" % (
        t[0], t[1], t[2], t[3], t[4], t[5], ms, f["Level"], f["Process"], f["Component"], c)


def _spark(f, t, ms, sec, host, c):
    return "%02d/%02d/%02d %02d:%02d:%02d %s %s: %s" % (
        t[0] % 100, t[1], t[2], t[3], t[4], t[5], f["Level"], f["Component"], c)


def _zookeeper(f, t, ms, sec, host, c):
    return "%04d-%02d-%02d %02d:%02d:%02d,%03d - %-5s [%s:%s@%s] - %s" % (
        t[0], t[1], t[2], t[3], t[4], t[5], ms, f["Level"], f["Node"], f["Component"], f["Id"], c)


def _bgl(f, t, ms, sec, host, c):
    return "%s %d %04d.%02d.%02d %s %04d-%02d-%02d-%02d.%02d.%02d.%03d%03d %s %s %s %s %s" % (
        f["Label"], sec, t[0], t[1], t[2], f["Node"], t[0], t[1], t[2], t[3], t[4], t[5], ms,
        (sec * 7 + ms) % 1000, f["NodeRepeat"], f["Type"], f["Component"], f["Level"], c)


def _hpc(f, t, ms, sec, host, c):
    return "%d %s %s %s %d %s %s" % (
        sec % 9_000_000 + int(f["LogId"]) % 1000, f["Node"], f["Component"], f["State"], sec, f["Flag"], c)


def _apache(f, t, ms, sec, host, c):
    return "[%s %s %02d %02d:%02d:%02d %04d] [%s] %s" % (
        _DAYS[t[6]], _MONTHS[t[1] - 1], t[2], t[3], t[4], t[5], t[0], f["Level"], c)


def _openssh(f, t, ms, sec, host, c):
    return "%s %2d %02d:%02d:%02d %s sshd[%s]: %s" % (
        _MONTHS[t[1] - 1], t[2], t[3], t[4], t[5], host, f["Pid"], c)


@dataclass(frozen=True)
class _SystemSpec:
    directory: str
    app: str
    hosts: tuple[str, ...]
    level_column: str | None
    header: Callable[..., str]


def _hosts(prefix: str, n: int) -> tuple[str, ...]:
    return tuple(f"{prefix}-{i:02d}" for i in range(1, n + 1))


_HADOOP_HOSTS = _hosts("hdp", 12)
SYSTEMS = (
    _SystemSpec("HDFS", "hdfs", _HADOOP_HOSTS, "Level", _hdfs),
    _SystemSpec("Hadoop", "hadoop", _HADOOP_HOSTS, "Level", _hadoop),
    _SystemSpec("Spark", "spark", _HADOOP_HOSTS, "Level", _spark),
    _SystemSpec("Zookeeper", "zookeeper", _hosts("zk", 3), "Level", _zookeeper),
    _SystemSpec("BGL", "bgl", _hosts("bgl-io", 4), "Level", _bgl),
    _SystemSpec("HPC", "hpc", _hosts("hpc-mgmt", 3), None, _hpc),
    _SystemSpec("Apache", "apache", _hosts("www-legacy", 2), "Level", _apache),
    _SystemSpec("OpenSSH", "sshd", _hosts("bastion", 4), None, _openssh),
)
NGINX_HOSTS = _hosts("edge", 6)
K8S_HOSTS = _hosts("k8s-node", 16)
HOSTS = tuple(dict.fromkeys(h for s in SYSTEMS for h in s.hosts)) + NGINX_HOSTS + K8S_HOSTS

_LEVELS = {"WARNING": "WARN", "NOTICE": "NOTICE", "SEVERE": "CRITICAL", "FAILURE": "FATAL"}


def _level(raw: str) -> str:
    up = raw.strip().upper()
    return _LEVELS.get(up, up)


# ---------------------------------------------------------------------------------------------
# Slot values: learn the shape of each template slot from the examples, generate fresh ones
# ---------------------------------------------------------------------------------------------

_TOKEN = re.compile(
    r"(?P<blk>blk_-?\d+)"
    r"|(?P<ip>(?<![\d.])\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}(?![\d.]))"
    r"|(?P<hex0x>0x[0-9a-fA-F]+)"
    r"|(?P<hexid>(?<![0-9A-Za-z])(?=[0-9a-f]*[a-f])(?=[0-9a-f]*\d)[0-9a-f]{8,}(?![0-9A-Za-z]))"
    r"|(?P<num>\d+)"
)
_REUSE = 0.35  # chance that a shaped slot repeats one of its recent values (ids recur in logs)


class _Shapes:
    """Generators of fresh values, per dataset: ids (blocks, IPs) recur across its templates."""

    def __init__(self, rng: Random) -> None:
        self.rng = rng
        self._numbers: dict[tuple[int, int], Gen] = {}
        self._ips: dict[str, Gen] = {}
        self._blk: Gen | None = None

    def number(self, width: int, significant: int) -> Gen:
        key = (width, significant)
        if key not in self._numbers:
            self._numbers[key] = self._make_number(width, significant)
        return self._numbers[key]

    def _make_number(self, width: int, significant: int) -> Gen:
        r, bits = self.rng.random, self.rng.getrandbits
        if width != significant:  # zero-padded counter, e.g. attempt_..._0020_000001
            top, pad = 10 ** significant, "%0" + str(width) + "d"
            return lambda: pad % int(r() * top)
        if width == 1:
            return lambda: str(int(r() * 10))
        lo = 10 ** (width - 1)
        span = 9 * lo
        if width <= 15:
            return lambda: str(lo + int(r() * span))
        return lambda: str(lo + bits(64) % span)

    def blk(self) -> Gen:
        if self._blk is None:
            self._blk = _recurring(self.rng, lambda b=self.rng.getrandbits: "blk_%d" % (b(64) - (1 << 63)), 0.5, 64)
        return self._blk

    def ip(self, example: str) -> Gen:
        prefix = example.rsplit(".", 2)[0] + "."
        if prefix not in self._ips:
            r = self.rng.random
            fresh = lambda: "%s%d.%d" % (prefix, int(r() * 256), 1 + int(r() * 254))  # noqa: E731
            self._ips[prefix] = _recurring(self.rng, fresh, 0.7, 32)
        return self._ips[prefix]

    def hex(self, n: int, prefix: str = "") -> Gen:
        bits, fmt = self.rng.getrandbits, prefix + "%0" + str(n) + "x"
        return lambda: fmt % bits(4 * n)

    def compile(self, example: str) -> Gen:
        """A generator of values shaped like `example`: same literals, fresh numbers and ids."""
        literals: list[str] = []
        gens: list[Gen] = []
        last = 0
        for m in _TOKEN.finditer(example):
            literals.append(example[last:m.start()].replace("%", "%%"))
            last = m.end()
            kind, text = m.lastgroup, m.group()
            if kind == "blk":
                gens.append(self.blk())
            elif kind == "ip":
                gens.append(self.ip(text))
            elif kind == "hex0x":
                gens.append(self.hex(len(text) - 2, "0x"))
            elif kind == "hexid":
                gens.append(self.hex(len(text)))
            else:
                gens.append(self.number(len(text), len(text.lstrip("0")) or 1))
        literals.append(example[last:].replace("%", "%%"))
        if not gens:
            return lambda: example
        if len(gens) == 1 and literals == ["", ""]:
            return gens[0]
        fmt = "%s".join(literals)
        if len(gens) == 1:
            g0 = gens[0]
            return lambda: fmt % g0()
        return lambda: fmt % tuple([g() for g in gens])


def _recurring(rng: Random, fresh: Gen, reuse: float, size: int) -> Gen:
    """Wrap `fresh` so that with probability `reuse` it repeats one of its last `size` values."""
    r = rng.random
    ring: list[str] = []
    pos = [0]

    def gen() -> str:
        if ring and r() < reuse:
            return ring[int(r() * len(ring))]
        v = fresh()
        if len(ring) < size:
            ring.append(v)
        else:
            ring[pos[0]] = v
            pos[0] = (pos[0] + 1) % size
        return v

    return gen


def _slot_generator(values: list[str], shapes: _Shapes, rng: Random) -> Gen:
    """Pick from the examples when the slot is an enumeration, else generate shaped values."""
    r = rng.random
    if not values:
        return shapes.number(4, 4)
    distinct = sorted(set(values))
    if not any(ch.isdigit() for v in distinct for ch in v) or (
        len(distinct) <= 12 and len(distinct) * 4 <= len(values)
    ):
        pool, n = sorted(values), len(values)  # empirical frequencies
        return lambda: pool[int(r() * n)]
    compiled = [shapes.compile(v) for v in distinct]
    n = len(compiled)
    return _recurring(rng, lambda: compiled[int(r() * n)](), _REUSE, 16)


def _template_regex(template: str) -> re.Pattern[str]:
    def literal(text: str) -> str:
        return r"\s+".join(re.escape(w) for w in re.split(r"\s+", text))

    return re.compile(r"\A" + "(.*?)".join(literal(p) for p in template.split("<*>")) + r"\Z", re.S)


@dataclass
class _Template:
    fmt: str  # the template with %s for each slot
    slots: list[Gen]

    def fill(self) -> str:
        if not self.slots:
            return self.fmt
        if len(self.slots) == 1:
            return self.fmt % self.slots[0]()
        return self.fmt % tuple([g() for g in self.slots])


class _System:
    """One Loghub dataset: its rows (for header fields and the template mix) and templates."""

    def __init__(self, spec: _SystemSpec, data_dir: Path, rng: Random) -> None:
        self.spec = spec
        base = data_dir / spec.directory / f"{spec.directory}_2k.log"
        templates = {}
        with open(f"{base}_templates_corrected.csv", newline="", encoding="utf-8") as fh:
            for row in csv.DictReader(fh):
                templates[row["EventId"]] = row["EventTemplate"]
        with open(f"{base}_structured_corrected.csv", newline="", encoding="utf-8") as fh:
            rows = list(csv.DictReader(fh))
        examples: dict[str, list[list[str]]] = {eid: [] for eid in templates}
        regexes: dict[str, re.Pattern[str]] = {}
        for row in rows:
            eid = row["EventId"]
            if eid not in templates:
                templates[eid] = row["EventTemplate"]
                examples[eid] = []
            if eid not in regexes:
                regexes[eid] = _template_regex(templates[eid])
            m = regexes[eid].match(row["Content"])
            if m:
                examples[eid].append(list(m.groups()))
        shapes = _Shapes(rng)
        self.templates: dict[str, _Template] = {}
        for eid, template in templates.items():
            parts = template.split("<*>")
            slots = [
                _slot_generator([ex[i] for ex in examples[eid]], shapes, rng) for i in range(len(parts) - 1)
            ]
            self.templates[eid] = _Template("%s".join(p.replace("%", "%%") for p in parts), slots)
        # One entry per sample row: picking a row uniformly reproduces the real template mix
        # and keeps each template with the header fields (component, level, pid) it came with.
        self.rows = [(self.templates[row["EventId"]], row) for row in rows]
        self.levels = [_level(row[spec.level_column]) if spec.level_column else None for row in rows]


# ---------------------------------------------------------------------------------------------
# nginx access lines
# ---------------------------------------------------------------------------------------------

_UAS = (
    (30, "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36"),
    (14, "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4.1 Mobile/15E148 Safari/604.1"),
    (12, "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Safari/605.1.15"),
    (9, "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.6367.82 Mobile Safari/537.36"),
    (8, "Mozilla/5.0 (X11; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0"),
    (6, "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36 Edg/124.0.2478.80"),
    (6, "ShopApp/5.12.0 (iOS 17.4; iPhone15,2) Alamofire/5.9.1"),
    (4, "ShopApp/5.11.3 (Android 14; SM-S918B) okhttp/4.12.0"),
    (3, "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"),
    (2, "Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)"),
    (2, "Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; GPTBot/1.1; +https://openai.com/gptbot)"),
    (1, "curl/8.5.0"),
    (1, "python-requests/2.31.0"),
    (1, "Go-http-client/1.1"),
)
_SITE = "https://shop.example.com"
_CATEGORIES = ("shoes", "jackets", "outdoor", "kitchen", "toys", "garden", "books", "audio", "laptops", "phones")
_WORDS = ("red", "wool", "running", "kids", "winter", "sale", "leather", "usb-c", "organic", "waterproof",
          "mini", "pro", "vintage", "linen", "bluetooth", "cotton", "xl", "travel", "gift", "steel")


def _weighted(rng: Random, pairs, size: int = 4096) -> list:
    """A lookup table: `table[int(random() * len(table))]` picks with the given weights."""
    total = sum(w for w, _ in pairs)
    table = []
    for w, v in pairs:
        table.extend([v] * max(1, round(size * w / total)))
    return table


class _Nginx:
    def __init__(self, rng: Random) -> None:
        self.rng = rng
        r, bits = rng.random, rng.getrandbits
        self.clients = ["%d.%d.%d.%d" % (
            (23, 31, 45, 62, 73, 81, 89, 94, 104, 151, 172, 185, 193, 212)[int(r() * 14)],
            int(r() * 256), int(r() * 256), 1 + int(r() * 254)) for _ in range(4000)]
        self.bots = ["66.249.%d.%d" % (64 + int(r() * 32), 1 + int(r() * 254)) for _ in range(20)]
        self.builds = ["%08x" % bits(32) for _ in range(3)]
        self.users = ["-"] * 95 + ["alice", "bob", "svc-reports", "ops", "carol"]
        self.uas = _weighted(rng, _UAS)
        # (weight, method, path builder, base status, body bytes, upstream?, mean seconds)
        P = self._paths()
        self.routes = _weighted(rng, P)
        self.statuses = {
            "api": _weighted(rng, [(900, 200), (20, 201), (10, 204), (15, 400), (15, 401), (8, 403),
                                   (20, 404), (3, 409), (2, 422), (2, 429), (3, 499), (6, 500),
                                   (2, 502), (1, 503), (2, 504)], 8192),
            "static": _weighted(rng, [(780, 200), (200, 304), (15, 404), (5, 206)], 4096),
            "page": _weighted(rng, [(900, 200), (40, 301), (30, 302), (20, 404), (5, 499), (5, 500)], 4096),
            "probe": [200] * 999 + [503],
            "scan": _weighted(rng, [(90, 404), (10, 403)], 128),
        }
        self.referers = _weighted(rng, [(45, "-"), (30, _SITE + "/"), (10, _SITE + "/products"),
                                        (6, "https://www.google.com/"), (4, _SITE + "/cart"),
                                        (3, "https://www.bing.com/"), (2, "https://t.co/")], 1024)

    def _paths(self):
        r, bits = self.rng.random, self.rng.getrandbits
        cats, words, builds = _CATEGORIES, _WORDS, self.builds

        def b():
            return builds[int(r() * len(builds))]

        return [
            (160, ("GET", lambda: "/api/v1/products/%d" % (1000 + int(r() * 48000)), "api", 2400, True, 0.035)),
            (90, ("GET", lambda: "/api/v1/products?category=%s&page=%d" % (cats[int(r() * 10)], 1 + int(r() ** 3 * 20)), "api", 18000, True, 0.080)),
            (70, ("GET", lambda: "/api/v1/cart/%016x" % bits(64), "api", 1300, True, 0.020)),
            (40, ("POST", lambda: "/api/v1/cart/%016x/items" % bits(64), "api", 900, True, 0.045)),
            (15, ("DELETE", lambda: "/api/v1/cart/%016x/items/%d" % (bits(64), 1000 + int(r() * 48000)), "api", 0, True, 0.030)),
            (25, ("POST", lambda: "/api/v1/orders", "api", 640, True, 0.240)),
            (30, ("GET", lambda: "/api/v1/orders/%d" % (5_000_000 + int(r() * 900_000)), "api", 2100, True, 0.050)),
            (20, ("POST", lambda: "/api/v1/auth/login", "api", 420, True, 0.120)),
            (20, ("POST", lambda: "/api/v1/auth/refresh", "api", 380, True, 0.015)),
            (35, ("GET", lambda: "/api/v2/recommendations?user=%d&limit=12" % (10_000 + int(r() * 890_000)), "api", 5200, True, 0.110)),
            (45, ("GET", lambda: "/search?q=%s+%s" % (words[int(r() * 20)], cats[int(r() * 10)]), "page", 34000, True, 0.150)),
            (60, ("GET", lambda: "/products/%s/%d" % (cats[int(r() * 10)], 1000 + int(r() * 48000)), "page", 41000, True, 0.060)),
            (30, ("GET", lambda: "/", "page", 52000, True, 0.040)),
            (120, ("GET", lambda: "/static/js/app.%s.js" % b(), "static", 284000, False, 0.002)),
            (80, ("GET", lambda: "/static/css/main.%s.css" % b(), "static", 61000, False, 0.001)),
            (150, ("GET", lambda: "/images/products/%d-%s.webp" % (1000 + int(r() * 48000), ("400w", "800w", "thumb")[int(r() * 3)]), "static", 38000, False, 0.003)),
            (10, ("GET", lambda: "/favicon.ico", "static", 4286, False, 0.001)),
            (40, ("GET", lambda: "/healthz", "probe", 2, True, 0.002)),
            (3, ("GET", lambda: "/robots.txt", "static", 120, False, 0.001)),
            (3, ("GET", lambda: ("/wp-login.php", "/.env", "/admin/config.php", "/.git/config", "/phpmyadmin/")[int(r() * 5)], "scan", 150, False, 0.001)),
            (2, ("HEAD", lambda: "/", "page", 0, True, 0.010)),
            (4, ("OPTIONS", lambda: "/api/v1/cart/%016x/items" % bits(64), "api", 0, False, 0.001)),
        ]

    def line(self, t, ms, sec, needle: str | None) -> str:
        r = self.rng.random
        method, path_gen, kind, size, upstream, mean = self.routes[int(r() * len(self.routes))]
        path = path_gen()
        if needle:
            path += ("&" if "?" in path else "?") + "session=" + needle
        statuses = self.statuses[kind]
        status = statuses[int(r() * len(statuses))]
        if kind == "probe":
            client, ua, ref = "10.0.%d.%d" % (int(r() * 4), 2 + int(r() * 60)), "kube-probe/1.29", "-"
        elif kind == "scan" or r() < 0.03:
            client, ua, ref = self.bots[int(r() * 20)], self.uas[int(r() * 40)], "-"
        else:
            client = self.clients[int(r() * r() * 4000)]  # a few heavy clients, a long tail
            ua, ref = self.uas[int(r() * len(self.uas))], self.referers[int(r() * len(self.referers))]
        if status in (204, 304) or method == "HEAD" or not size:
            nbytes = 0
        else:
            nbytes = int(size * (0.6 + 0.8 * r())) if status < 300 else 150 + int(r() * 400)
        rt = -mean * math.log(1.0 - r())
        if status >= 500:
            rt += (0.0, 1.5, 30.0)[int(r() * 3)]
        if upstream:
            tail = 'rt=%.3f urt="%.3f"' % (rt, rt * 0.97)
        else:
            tail = 'rt=%.3f urt="-"' % rt
        user = self.users[int(r() * 100)]
        return '%s - %s [%02d/%s/%04d:%02d:%02d:%02d +0000] "%s %s HTTP/%s" %d %d "%s" "%s" %s' % (
            client, user, t[2], _MONTHS[t[1] - 1], t[0], t[3], t[4], t[5], method, path,
            "2.0" if r() < 0.6 else "1.1", status, nbytes, ref, ua, tail)


# ---------------------------------------------------------------------------------------------
# JSON application logs
# ---------------------------------------------------------------------------------------------

_SERVICES = {
    # service: (version, [(weight, level, message, status, mean duration ms, extra fields)])
    "checkout-api": ("2.14.1", [
        (30, "info", "request completed", 200, 180.0, "order"),
        (20, "info", "cart loaded", 200, 12.0, "cart"),
        (10, "info", "order placed", 201, 240.0, "order"),
        (6, "debug", "pricing rules evaluated", 200, 4.0, "cart"),
        (5, "warn", "inventory reservation retried", 200, 420.0, "order"),
        (3, "warn", "coupon rejected: expired", 422, 30.0, "cart"),
        (2, "error", "payment provider timeout", 504, 5000.0, "error"),
        (1, "error", "order persistence failed: deadlock detected", 500, 850.0, "error"),
    ]),
    "payments-svc": ("1.9.3", [
        (40, "info", "payment authorized", 200, 320.0, "payment"),
        (10, "info", "payment captured", 200, 210.0, "payment"),
        (5, "info", "refund issued", 200, 260.0, "payment"),
        (6, "warn", "payment declined: insufficient funds", 402, 290.0, "payment"),
        (2, "warn", "3ds challenge required", 202, 150.0, "payment"),
        (2, "error", "acquirer returned an invalid response", 502, 1200.0, "error"),
    ]),
    "auth-service": ("3.2.0", [
        (40, "info", "token refreshed", 200, 8.0, "auth"),
        (20, "info", "login succeeded", 200, 95.0, "auth"),
        (8, "warn", "login failed: invalid password", 401, 90.0, "auth"),
        (2, "warn", "account locked after repeated failures", 423, 60.0, "auth"),
        (5, "debug", "session cache hit", 200, 1.0, "auth"),
        (1, "error", "jwks refresh failed: connection refused", 503, 3000.0, "error"),
    ]),
    "inventory-api": ("5.0.7", [
        (40, "info", "stock level read", 200, 6.0, "sku"),
        (10, "info", "stock reserved", 201, 25.0, "sku"),
        (5, "warn", "stock level low", 200, 6.0, "sku"),
        (3, "debug", "cache miss", 200, 14.0, "sku"),
        (1, "error", "reservation conflict", 409, 40.0, "error"),
    ]),
    "search-api": ("0.31.2", [
        (50, "info", "query executed", 200, 45.0, "search"),
        (8, "debug", "query rewritten", 200, 2.0, "search"),
        (5, "warn", "slow query", 200, 1400.0, "search"),
        (1, "error", "index shard unavailable", 503, 80.0, "error"),
    ]),
    "notification-worker": ("1.4.0", [
        (40, "info", "email queued", 202, 18.0, "notify"),
        (20, "info", "push notification sent", 200, 70.0, "notify"),
        (4, "warn", "smtp relay deferred message", 202, 900.0, "notify"),
        (1, "error", "template rendering failed", 500, 5.0, "error"),
    ]),
}
_SERVICE_WEIGHTS = {"checkout-api": 25, "payments-svc": 12, "auth-service": 20, "inventory-api": 18,
                    "search-api": 15, "notification-worker": 10}
_ERRORS = (
    ("TimeoutError", "upstream request timed out after 5000ms"),
    ("ConnectionError", "connection reset by peer"),
    ("DatabaseError", "deadlock detected while waiting for ShareLock on transaction"),
    ("ValueError", "unexpected null in field 'currency'"),
)
_EMAIL_TEMPLATES = ("order-confirmation", "shipping-update", "password-reset", "weekly-digest")
_REGIONS = ("eu-west-1", "us-east-1")


class _AppLogs:
    def __init__(self, rng: Random) -> None:
        self.rng = rng
        r, bits = rng.random, rng.getrandbits
        self.services = _weighted(rng, [(w, s) for s, w in _SERVICE_WEIGHTS.items()], 1024)
        self.events = {s: _weighted(rng, [(e[0], e[1:]) for e in evs], 1024) for s, (_, evs) in _SERVICES.items()}
        self.pods = {s: ["%s-%08x-%s" % (s, bits(32), "".join("bcdfghjklmnpqrstvwxz2456789"[int(r() * 27)] for _ in range(5)))
                         for _ in range(6)] for s in _SERVICES}
        self.users = ["u_%d" % (100_000 + int(r() * 900_000)) for _ in range(20_000)]
        self.request_id = _recurring(rng, self._uuid, 0.45, 32)

    def _uuid(self) -> str:
        h = "%032x" % self.rng.getrandbits(128)
        return "%s-%s-4%s-%s-%s" % (h[:8], h[8:12], h[13:16], h[16:20], h[20:])

    def item(self, t, ms, needle: str | None) -> tuple[str, str, str, dict]:
        r = self.rng.random
        service = self.services[int(r() * len(self.services))]
        events = self.events[service]
        level, msg, status, mean, extra = events[int(r() * len(events))]
        duration = round(-mean * math.log(1.0 - r()), 2)
        doc = {
            "ts": "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ" % (t[0], t[1], t[2], t[3], t[4], t[5], ms),
            "level": level,
            "msg": msg,
            "service": service,
            "request_id": self.request_id(),
            "user": {"id": self.users[int(r() * r() * len(self.users))]},
            "status": status,
            "duration_ms": duration,
        }
        if extra == "order":
            doc["order_id"] = 5_000_000 + int(r() * 900_000)
            doc["amount_cents"] = 500 + int(r() * r() * 60_000)
            doc["items"] = 1 + int(r() * r() * 9)
        elif extra == "payment":
            doc["payment_id"] = "pay_%012x" % self.rng.getrandbits(48)
            doc["amount_cents"] = 500 + int(r() * r() * 60_000)
            doc["currency"] = ("EUR", "USD", "GBP")[int(r() * 3)]
            doc["card_brand"] = ("visa", "mastercard", "amex")[int(r() * 3)]
        elif extra == "sku":
            doc["sku"] = "SKU-%05d" % int(r() * 48_000)
            doc["warehouse"] = ("AMS1", "FRA2", "IAD3")[int(r() * 3)]
            doc["available"] = int(r() * r() * 400)
        elif extra == "search":
            doc["query"] = "%s %s" % (_WORDS[int(r() * 20)], _CATEGORIES[int(r() * 10)])
            doc["hits"] = int(r() * r() * 5000)
        elif extra == "notify":
            doc["template"] = _EMAIL_TEMPLATES[int(r() * 4)]
            doc["attempt"] = 1 + int(r() * r() * 3)
        elif extra == "cart":
            doc["cart_id"] = "%016x" % self.rng.getrandbits(64)
            doc["items"] = 1 + int(r() * r() * 9)
        elif extra == "auth":
            doc["client_id"] = ("web", "ios", "android", "partner-api")[int(r() * 4)]
        else:
            err, detail = _ERRORS[int(r() * 4)]
            doc["error"] = {"type": err, "message": detail}
        if needle:
            doc["session_id"] = needle
        pod = self.pods[service][int(r() * 6)]
        meta = {"env": "production", "region": _REGIONS[int(r() * 2)], "version": _SERVICES[service][0], "pod": pod}
        return orjson.dumps(doc).decode(), service, level.upper(), meta


# ---------------------------------------------------------------------------------------------
# The corpus: a time line, a mix of sources, needles
# ---------------------------------------------------------------------------------------------


class _Clock:
    """Maps line i of n to a timestamp: more traffic by day (peak 15:00 UTC), some burstiness."""

    BUCKETS = 1440

    def __init__(self, count: int, end_ms: int, span_ms: int, rng: Random) -> None:
        self.count = max(count, 1)
        self.start = end_ms - span_ms
        self.width = span_ms / self.BUCKETS
        weights = []
        for k in range(self.BUCKETS):
            mid = self.start + (k + 0.5) * self.width
            hour = (mid / 3_600_000) % 24
            weights.append((1 + 0.5 * math.cos(2 * math.pi * (hour - 15) / 24)) * (0.75 + 0.5 * rng.random()))
        total = sum(weights)
        self.cum = [0.0]
        for w in weights:
            self.cum.append(self.cum[-1] + w / total)
        self.cum[-1] = 1.0

    def timestamps(self, fractions: Iterator[float]) -> Iterator[int]:
        """Epoch ms for each fraction of the window's traffic (fractions must not decrease)."""
        cum, start, width, last = self.cum, self.start, self.width, self.BUCKETS - 1
        k, hi = 0, cum[1]
        for f in fractions:
            if f >= hi and k < last:
                k = min(bisect_right(cum, f) - 1, last)
                hi = cum[k + 1]
            lo = cum[k]
            yield int(start + (k + (f - lo) / (hi - lo)) * width)


class Corpus:
    """A reproducible stream of log items; `needles` lists what was planted so far."""

    def __init__(
        self,
        seed: int = 1,
        end_ms: int = DEFAULT_END_MS,
        span_ms: int = DAY_MS,
        needle_rate: float = 0.0,
        data_dir: Path | None = None,
    ) -> None:
        self.seed, self.end_ms, self.span_ms, self.needle_rate = seed, end_ms, span_ms, needle_rate
        self.data_dir = data_dir or shared_data_dir()
        self.needles: list[Needle] = []

    def plant_needles(self, rate: float) -> Corpus:
        """Plant a unique UUID token in about `rate` of the lines (recorded in `needles`)."""
        self.needle_rate = rate
        return self

    def generate(self, count: int) -> Iterator[dict]:
        """`count` items in time order."""
        rng = Random(self.seed)
        r = rng.random
        needle_r = Random(f"{self.seed}/needles").random
        needle_bits = Random(f"{self.seed}/needle-ids").getrandbits
        systems = [_System(spec, self.data_dir, rng) for spec in SYSTEMS]
        nginx, apps = _Nginx(rng), _AppLogs(rng)
        clock = _Clock(count, self.end_ms, self.span_ms, Random(f"{self.seed}/clock"))
        share_nginx = SHARE_LOGHUB + SHARE_NGINX
        n_sys = len(systems)
        needle_rate, gmtime = self.needle_rate, time.gmtime
        last_sec, t = None, None
        times = clock.timestamps((i + r()) / count for i in range(count))
        for i, ts in enumerate(times):
            sec, ms = divmod(ts, 1000)
            if sec != last_sec:
                last_sec, t = sec, gmtime(sec)
                t = (t.tm_year, t.tm_mon, t.tm_mday, t.tm_hour, t.tm_min, t.tm_sec, t.tm_wday)
            needle = None
            if needle_rate and needle_r() < needle_rate:
                h = "%032x" % needle_bits(128)
                needle = "%s-%s-4%s-a%s-%s" % (h[:8], h[8:12], h[13:16], h[17:20], h[20:])
            source = r()
            if source < SHARE_LOGHUB:
                system = systems[int(source / SHARE_LOGHUB * n_sys)]
                k = int(r() * len(system.rows))
                template, fields = system.rows[k]
                spec = system.spec
                host = spec.hosts[int(r() * len(spec.hosts))]
                content = template.fill()
                if needle:
                    content += " trace=" + needle
                item = {"line": spec.header(fields, t, ms, sec, host, content), "app": spec.app}
                level = system.levels[k]
                if level:
                    item["level"] = level
                item["timestamp"] = ts
            elif source < share_nginx:
                host = NGINX_HOSTS[int(r() * len(NGINX_HOSTS))]
                item = {"line": nginx.line(t, ms, sec, needle), "app": "nginx", "timestamp": ts}
            else:
                host = K8S_HOSTS[int(r() * len(K8S_HOSTS))]
                line, app, level, meta = apps.item(t, ms, needle)
                item = {"line": line, "app": app, "level": level, "timestamp": ts, "meta": meta}
            item["hostname"] = host
            if needle:
                self.needles.append(Needle(i, needle, item["app"], host, ts))
            yield item

    def batches(self, count: int, batch_size: int = 1000) -> Iterator[list[dict]]:
        """The items grouped per host (as an agent sends them), see `per_host`."""
        return per_host(self.generate(count), batch_size)


def per_host(items: Iterable[dict], batch_size: int = 1000) -> Iterator[list[dict]]:
    """Group items by `hostname` into batches of `batch_size`, as each host's agent sends them.

    A batch is emitted when its host has `batch_size` items; the rest is flushed at the end.
    Each batch is in time order; batches of different hosts overlap in time."""
    pending: dict[str, list[dict]] = {}
    for item in items:
        buf = pending.setdefault(item["hostname"], [])
        buf.append(item)
        if len(buf) >= batch_size:
            yield buf
            pending[item["hostname"]] = []
    for buf in pending.values():
        if buf:
            yield buf


def generate(count: int, seed: int = 1, end_ms: int = DEFAULT_END_MS, span_ms: int = DAY_MS,
             needle_rate: float = 0.0) -> Iterator[dict]:
    """`count` log items in time order (see the module doc for their shape)."""
    return Corpus(seed, end_ms, span_ms, needle_rate).generate(count)


def batches(count: int, batch_size: int = 1000, seed: int = 1, end_ms: int = DEFAULT_END_MS,
            span_ms: int = DAY_MS, needle_rate: float = 0.0) -> Iterator[list[dict]]:
    """The same items as `generate`, grouped per host into batches of `batch_size`."""
    return Corpus(seed, end_ms, span_ms, needle_rate).batches(count, batch_size)


def ingest_body(batch: list[dict]) -> tuple[str, bytes]:
    """(hostname, request body) for `POST /logs/ingest?hostname=...` from one per-host batch."""
    lines = [{k: v for k, v in item.items() if k != "hostname"} for item in batch]
    return batch[0]["hostname"], orjson.dumps({"lines": lines})


# ---------------------------------------------------------------------------------------------
# Command line
# ---------------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Generate a reproducible corpus of realistic log lines.")
    parser.add_argument("--lines", type=int, default=100_000, help="number of lines (default 100000)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--format", choices=("logdna-json", "raw"), default="logdna-json",
                        help="raw: the line text, one per line; logdna-json: one item object per line")
    parser.add_argument("-o", "--output", default="-", help="output file (default: stdout)")
    parser.add_argument("--now", action="store_true", help="end the time window now instead of at a fixed reference")
    parser.add_argument("--end-ms", type=int, default=DEFAULT_END_MS, help="end of the time window, epoch ms")
    parser.add_argument("--span-hours", type=float, default=24.0, help="length of the time window (default 24)")
    parser.add_argument("--needle-rate", type=float, default=0.0, help="plant a UUID in this fraction of lines")
    parser.add_argument("--needles-out", help="write planted needles here (JSON lines)")
    args = parser.parse_args(argv)

    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    end_ms = int(time.time() * 1000) if args.now else args.end_ms
    corpus = Corpus(args.seed, end_ms, int(args.span_hours * 3_600_000), args.needle_rate)
    out = sys.stdout.buffer if args.output == "-" else open(args.output, "wb")
    console = Console(stderr=True)
    raw = args.format == "raw"
    started, nbytes = time.perf_counter(), 0
    with Progress(TextColumn("generating"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
                  console=console, transient=True) as progress:
        task = progress.add_task("lines", total=args.lines)
        chunk: list[bytes] = []
        for i, item in enumerate(corpus.generate(args.lines), 1):
            chunk.append(item["line"].encode() if raw else orjson.dumps(item))
            if len(chunk) == 10_000:
                data = b"\n".join(chunk) + b"\n"
                out.write(data)
                nbytes += len(data)
                chunk.clear()
                progress.update(task, completed=i)
        if chunk:
            data = b"\n".join(chunk) + b"\n"
            out.write(data)
            nbytes += len(data)
        progress.update(task, completed=args.lines)
    out.flush()
    if out is not sys.stdout.buffer:
        out.close()
    if args.needles_out:
        with open(args.needles_out, "wb") as fh:
            for needle in corpus.needles:
                fh.write(orjson.dumps(dataclasses.asdict(needle)) + b"\n")
    elapsed = time.perf_counter() - started
    console.print(f"{args.lines:,} lines, {nbytes:,} bytes in {elapsed:.1f} s "
                  f"({args.lines / max(elapsed, 1e-9):,.0f} lines/s); {len(corpus.needles)} needles")
    return 0


if __name__ == "__main__":
    sys.exit(main())
