"""Masking: each kind of value becomes one `<*>`, in the documented order, and names stay."""

from __future__ import annotations

import pytest

from timberyard.insights.masking import mask, mask_tokens


@pytest.mark.parametrize(
    ("line", "masked"),
    [
        # numbers, signed and dotted
        ("retry 3 of 10", "retry <*> of <*>"),
        ("offset -42 delta +7", "offset <*> delta <*>"),
        ("load 0.75 version 1.2.3", "load <*> version <*>"),
        # IPv4, with a port kept as its own value
        ("from 173.234.31.186 port 22", "from <*> port <*>"),
        ("connect 10.0.0.1:8080 refused", "connect <*>:<*> refused"),
        # IPv6, compressed and full; a C++ scope is not one
        ("peer fe80::1 up", "peer <*> up"),
        ("peer 2001:db8:0:0:8a2e:370:7334:1 up", "peer <*> up"),
        ("in std::vector", "in std::vector"),
        # hex ids
        ("addr 0x7f3a9c ok", "addr <*> ok"),
        ("commit deadbeef42 pushed", "commit <*> pushed"),
        # UUIDs, whole rather than cut at the dashes
        ("req 3f2b6c1e-9a4d-4c7e-8b1a-0c2d3e4f5a6b done", "req <*> done"),
        # paths, URLs, Windows paths; HTTP/1.1 and read/write are not paths
        ("open /var/log/app.log failed", "open <*> failed"),
        ("config=/etc/x.conf", "config=<*>"),
        ("GET https://shop.example:8443/a?b=1 ok", "GET <*> ok"),
        ("read C:\\Temp\\x.txt", "read <*>"),
        ("proto HTTP/1.1 read/write", "proto <*> read/write"),
        # durations
        ("took 12ms", "took <*>"),
        ("waited 3.5s then 250us", "waited <*> then <*>"),
        # host names; a Java class is not one
        ("resolved db-7.example.com", "resolved <*>"),
        ("class org.apache.hadoop.Foo", "class org.apache.hadoop.Foo"),
        # words holding a number; a digit after letters is part of a name
        ("block blk_-1608999687919862906 stored", "block <*> stored"),
        ("node node-17 rack R02-M1", "node <*> rack <*>"),
        ("jk2_init() via ssh2 on eth0", "jk2_init() via ssh2 on eth0"),
        # keys, brackets and separators kept around values
        ("state (HWID=3180)", "state (HWID=<*>)"),
        ("[173.234.31.186]", "[<*>]"),
        ("generating core.1234", "generating core.<*>"),
        ("count 5.", "count <*>."),
        # day and month names of timestamps; other capitalised words stay
        ("[Sat May 31 10:00:01 2025] [error] init", "[<*> <*> <*> <*> <*>] [error] init"),
        ("Jun  1 10:00:00 host sshd[42]: ok", "<*> <*> <*> host sshd[<*>]: ok"),
        ("Sunday Mayday Sat-1 June", "Sunday Mayday <*> June"),
        # a value glued to other characters is one value
        ("Component \\042alt0\\042 down", "Component <*> down"),
    ],
)
def test_masks(line: str, masked: str) -> None:
    assert mask(line) == masked


def test_order_uuid_before_words() -> None:
    # Cut at its dashes by the word rule, a UUID would be five values; first, it is one.
    assert mask("3f2b6c1e-9a4d-4c7e-8b1a-0c2d3e4f5a6b") == "<*>"


def test_order_path_before_ip() -> None:
    # `/10.10.34.11:45307`: the path rule takes `/10.10.34.11`, the port is a number of its own.
    assert mask("request /10.10.34.11:45307") == "request <*>:<*>"


@pytest.mark.parametrize("line", ["", "   ", "\t\n", "\x00\x01\x7f", "日本語 ログ 行", "é" * 10_000])
def test_odd_input(line: str) -> None:
    tokens = mask_tokens(line)
    assert mask(line) == " ".join(tokens)
    assert all(tokens) and not any(c.isspace() for t in tokens for c in t)


def test_non_ascii_words_and_digits() -> None:
    assert mask("Пользователь 42 вошёл") == "Пользователь <*> вошёл"
    assert mask("utilisateur «bob» connecté") == "utilisateur «bob» connecté"
