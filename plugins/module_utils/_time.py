# -*- coding: utf-8 -*-
# Copyright (c) 2026, clawd.ops contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Reading times: the one parse_time of the collection (private to the collection).

Coolify (Laravel) writes ``2026-01-31T12:00:00.000000Z`` or ``2026-01-31 12:00:00``, run reports and
the run ledger ISO 8601 with ``Z`` or an offset; a naive time is UTC. The ledger also takes epoch
seconds (a number or its text) and says why a time cannot be read.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import datetime
import re

UTC = datetime.timezone.utc
# Date, time (T or a space between), any fraction of a second, then Z, +HH:MM, +HHMM or nothing.
_ISO = re.compile(r'^(\d{4})-(\d\d)-(\d\d)(?:[T ](\d\d):(\d\d)(?::(\d\d)(?:[.,](\d+))?)?)?\s*(Z|[+-]\d\d:?\d\d)?$', re.IGNORECASE)


def utc_now():
    """This moment in UTC."""
    return datetime.datetime.now(UTC)


def iso(moment):
    """ISO 8601 in UTC with a Z, to the second."""
    return moment.astimezone(UTC).strftime('%Y-%m-%dT%H:%M:%SZ')


def parse_time(value, epoch=False, required=False):
    """An aware datetime in UTC from ISO 8601 text; None when ``value`` is not such a time.

    ``epoch``: a datetime is taken as it is (naive means UTC) and epoch seconds (a number, or text
    holding one) are a time too. ``required``: a value that is not a time raises ValueError naming
    it instead of giving None.
    """
    moment = _parse(value, epoch)
    if moment is None:
        if required:
            raise ValueError('%r is neither an ISO 8601 time nor epoch seconds' % (value,) if epoch
                             else '%r is not an ISO 8601 time' % (value,))
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def _parse(value, epoch):
    if isinstance(value, datetime.datetime):
        return value if epoch else None
    if epoch and isinstance(value, (int, float)) and not isinstance(value, bool):
        return _from_epoch(value)
    if not isinstance(value, str):
        return None
    text = value.strip()
    if epoch:
        try:
            return _from_epoch(float(text))
        except ValueError:
            pass
    match = _ISO.match(text)
    if not match:
        return None
    year, month, day, hour, minute, second, fraction, zone = match.groups()
    try:
        moment = datetime.datetime(int(year), int(month), int(day), int(hour or 0), int(minute or 0), int(second or 0),
                                   int(((fraction or '') + '000000')[:6]))
    except ValueError:
        return None
    if zone and zone.upper() != 'Z':
        digits = zone[1:].replace(':', '')
        offset = datetime.timedelta(hours=int(digits[:2]), minutes=int(digits[2:]))
        if offset >= datetime.timedelta(hours=24):
            return None
        return moment.replace(tzinfo=datetime.timezone(offset if zone[0] == '+' else -offset))
    return moment.replace(tzinfo=UTC) if zone else moment


def _from_epoch(seconds):
    try:
        return datetime.datetime.fromtimestamp(seconds, UTC)
    except (OverflowError, OSError, ValueError):
        return None
