# Copyright (c) 2026, clawd.ops contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Unit tests talk to the lab's HTTP stand-ins and sample app: put the repository's lab/ folder on sys.path, and
start the sample app in-process (fixture ``sample_app``)."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import importlib.util
import os
import sys
import threading

import pytest

LAB = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..', 'lab'))
if LAB not in sys.path:
    sys.path.insert(0, LAB)

SAMPLE_APP = os.path.join(LAB, 'app', 'clawd_sample_app.py')
# Settings of the sample app that the environment of the test run must not leak into it.
SAMPLE_APP_ENV = ('APP_ROLE', 'APP_LISTEN', 'APP_DATA_DIRS', 'APP_PUBLIC_URL', 'APP_WEBHOOK_PATH', 'APP_BOT_HEALTH_URL', 'TELEGRAM_API_BASE',
                  'TELEGRAM_BOT_TOKEN', 'TELEGRAM_WEBHOOK_SECRET', 'TWILIO_AUTH_TOKEN')


def load_sample_app():
    """The lab's sample app (lab/app/clawd_sample_app.py) as a module."""
    spec = importlib.util.spec_from_file_location('clawd_sample_app', SAMPLE_APP)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def sample_app(monkeypatch):
    """Start the lab's sample app in-process on a loopback port: ``sample_app(role, **environment)`` -> its base URL."""
    app_module = load_sample_app()
    servers = []

    def start(role, **environment):
        for name in SAMPLE_APP_ENV:
            monkeypatch.delenv(name, raising=False)
        monkeypatch.setenv('APP_ROLE', role)
        monkeypatch.setenv('APP_DATA_DIRS', '')
        for name, value in environment.items():
            monkeypatch.setenv(name, value)
        server = app_module.Server(('127.0.0.1', 0), app_module.App(app_module.Config()))
        threading.Thread(target=server.serve_forever, kwargs={'poll_interval': 0.05}, daemon=True).start()
        servers.append(server)
        return 'http://127.0.0.1:%d' % server.server_address[1]

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()
