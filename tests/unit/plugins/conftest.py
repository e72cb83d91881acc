# Copyright (c) 2026, clawd.ops contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Fixtures of the plugin tests that stand in for the clock."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import time

import pytest


class RecordingClock(object):
    """``time`` with ``sleep`` recorded instead of slept (and ``monotonic`` moved on by it); the rest is the real module."""

    def __init__(self, sleeps):
        self.sleeps = sleeps
        self.slept = 0.0

    def __getattr__(self, name):
        return getattr(time, name)

    def sleep(self, seconds):
        self.sleeps.append(seconds)
        self.slept += seconds

    def monotonic(self):
        return time.monotonic() + self.slept


@pytest.fixture(name='retry_sleeps')
def retry_sleeps_fixture(monkeypatch):
    """The waits the transport asks for, recorded instead of slept, in order: no test reads the clock.

    Both urllib3's Retry (Retry-After headers, backoff) and the transport's own wait for a 429 whose
    body says how long (Telegram's ``retry_after``).
    """
    from urllib3.util import retry as urllib3_retry
    from ansible_collections.clawd.ops.plugins.module_utils import _transport
    sleeps = []
    clock = RecordingClock(sleeps)
    monkeypatch.setattr(urllib3_retry, 'time', clock)
    monkeypatch.setattr(_transport, 'time', clock)
    return sleeps
