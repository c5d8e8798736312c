"""Miners per (account, app): separate templates, a bound on their number, one state for all."""

from __future__ import annotations

import json

import pytest

from timberyard.insights.registry import Miners, key_of


def test_accounts_and_apps_do_not_share_templates() -> None:
    miners = Miners()
    a = miners.add("acct-1", "sshd", "Invalid user bob from 10.0.0.1")
    b = miners.add("acct-2", "sshd", "Invalid user bob from 10.0.0.1")
    c = miners.add("acct-1", "nginx", "Invalid user bob from 10.0.0.1")
    assert len({a[0], b[0], c[0]}) == 3
    assert a[1] == b[1] == c[1]
    assert miners.match("acct-1", "sshd", "Invalid user eve from 10.0.0.2")[0] == a[0]
    assert miners.match("acct-3", "sshd", "Invalid user eve from 10.0.0.2") is None


def test_keys_do_not_collide_on_separators() -> None:
    assert key_of("a/b", "c") != key_of("a", "b/c")


def test_least_recently_used_miner_goes_first() -> None:
    miners = Miners(max_keys=2)
    miners.add("a", "x", "one line 1")
    miners.add("b", "x", "two line 2")
    miners.add("a", "x", "one line 3")  # a is now the most recent
    miners.add("c", "x", "three line 4")
    assert len(miners) == 2
    assert miners.match("b", "x", "two line 2") is None
    assert miners.match("a", "x", "one line 9") is not None


def test_a_dropped_miner_gets_its_ids_back() -> None:
    miners = Miners(max_keys=1)
    ident = miners.add("a", "x", "job 17 done")[0]
    miners.add("b", "x", "something else")
    assert miners.add("a", "x", "job 99 done")[0] == ident


def test_state_round_trip() -> None:
    miners = Miners()
    lines = [("a", "x", "job 1 done"), ("a", "y", "job 2 done"), ("b", "x", "user=bob in")]
    ids = [miners.add(*line)[0] for line in lines]
    restored = Miners.from_state(json.loads(json.dumps(miners.state())))
    assert [restored.match(*line)[0] for line in lines] == ids


def test_unknown_state_version_is_refused() -> None:
    with pytest.raises(ValueError, match="state version"):
        Miners.from_state({"version": 0})
