# -*- coding: utf-8 -*-
# Copyright (c) 2026, clawd.ops contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Reading an app's health answer: pure functions, no I/O, unit-tested with plain values."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import json

from urllib.parse import urlsplit

OK_STATUSES = ('ok', 'healthy', 'pass', 'up')


def _is_ok(value):
    if isinstance(value, dict):
        value = value.get('status')
    if isinstance(value, bool):
        return value
    return isinstance(value, str) and value.strip().lower() in OK_STATUSES


def _reason(value):
    if isinstance(value, dict):
        reason = value.get('reason') or value.get('error') or value.get('message')
        status = value.get('status')
        if reason:
            return '%s (%s)' % (status, reason) if status else str(reason)
        return str(status)
    return str(value)


def evaluate_health(http_status, body, required_checks=()):
    """Judge one health answer.

    Returns a dict with healthy, status, http_status, checks, failed_checks and version.
    Healthy means HTTP 200, an ok overall status, every reported sub-check ok and every
    required sub-check present.
    """
    failed = []
    checks = {}
    version = None
    if http_status == 0:
        status = 'unreachable'
    elif not isinstance(body, dict):
        status = 'invalid'
        failed.append('answer: the body is not a JSON object')
    else:
        status = str(body.get('status', 'unknown'))
        version = body.get('version')
        raw_checks = body.get('checks') or {}
        if isinstance(raw_checks, dict):
            checks = raw_checks
        for name in sorted(checks):
            if not _is_ok(checks[name]):
                failed.append('%s: %s' % (name, _reason(checks[name])))
        for name in required_checks:
            if name not in checks:
                failed.append('%s: missing from the health answer' % name)
        if not _is_ok(status) and not failed:
            failed.append('status: %s' % status)
    if http_status not in (0, 200):
        failed.insert(0, 'answer: HTTP %d' % http_status)
    return {
        'healthy': http_status == 200 and not failed,
        'status': status,
        'http_status': http_status,
        'checks': checks,
        'failed_checks': failed,
        'version': None if version is None else str(version),
    }


def parse_version(text):
    """The version from a version endpoint's body: JSON with a version key, or plain text."""
    text = (text or '').strip()
    try:
        data = json.loads(text)
    except ValueError:
        return text or None
    if isinstance(data, dict):
        value = data.get('version')
        return None if value is None else str(value)
    if isinstance(data, (str, int, float)):
        return str(data)
    return None


def url_password(url):
    """The password of a URL's ``user:password@`` (sent as HTTP Basic credentials), or None."""
    try:
        return urlsplit(url or '').password
    except ValueError:
        return None
