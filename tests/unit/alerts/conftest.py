from __future__ import annotations

from datetime import datetime

import pytest
from alerting import Delivered, Lines
from clock import Clock

from timberyard.meta.info import AccountInfo


@pytest.fixture
def clock() -> Clock:
    clock = Clock()
    clock.now = datetime(2026, 11, 30, 9, 0, 10, tzinfo=clock.now.tzinfo)  # a Monday, just past a 5 m boundary
    return clock


@pytest.fixture
def delivered() -> Delivered:
    return Delivered()


@pytest.fixture
def lines(clock: Clock, account: AccountInfo) -> Lines:
    return Lines(clock, account.id)


