# Copyright (c) 2026, clawd.ops contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Tests of the lab's stand-ins (Coolify, Telegram, Twilio and their framework) and of the sample app.

They need no running lab: this puts the repository's lab/ folder on sys.path (``import standins``), and fixture
``start_standin`` starts a stand-in in-process on a loopback port."""

import os
import sys

import pytest

LAB = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", "lab"))
if LAB not in sys.path:
    sys.path.insert(0, LAB)


@pytest.fixture(name="start_standin", scope="module")
def start_standin_fixture():
    """``start_standin(StandInClass, config, **options)`` -> the running stand-in (``.url``, ``.standin``, ``.stop()``).

    Served from a thread of the test process on 127.0.0.1 and a free port. Whatever was started is stopped when
    the test module ends (``.stop()`` earlier is fine: stopping twice does nothing)."""
    started = []

    def start(klass, config=None, **options):
        running = klass(config=config, **options).serve_in_thread()
        started.append(running)
        return running

    yield start
    for running in reversed(started):
        running.stop()
