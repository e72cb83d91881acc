# -*- coding: utf-8 -*-
# Copyright (c) 2026, clawd.ops contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
name: deploy_window
short_description: Tell whether a time falls inside the deploy window
version_added: 0.1.0
description:
  - Takes a moment (an ISO 8601 string or a datetime), converts it to the window's time zone and says whether
    it falls inside the deploy window, that is on one of O(weekdays), from O(start) (inclusive) to O(end) (exclusive).
  - A window whose O(end) is earlier than its O(start) runs over midnight; it belongs to the day it starts on
    (V(Thu 22:00-06:00) includes Friday 05:59). A window whose O(end) equals its O(start) lasts 24 hours.
  - Daylight saving time is handled by the time zone database; times are compared as wall-clock times in O(timezone).
author:
  - clawd.ops team (@clawd-ops)
positional: weekdays, start, end, timezone
options:
  _input:
    description:
      - The moment to judge, for example C(now(utc=true\).isoformat(\)) or C(ansible_date_time.iso8601).
      - An ISO 8601 string (with C(Z) or an offset; without one it is read as UTC) or a datetime (naive means UTC).
    type: raw
    required: true
  weekdays:
    description:
      - Days the window opens on, as names (V(Mon), V(Monday), any case), or ranges (V(Mon-Thu)).
    type: list
    elements: str
    default: [Mon, Tue, Wed, Thu, Fri]
  start:
    description: Time the window opens, C(HH:MM), inclusive.
    type: str
    default: '09:00'
  end:
    description: Time the window closes, C(HH:MM) (V(24:00) for midnight), exclusive.
    type: str
    default: '17:00'
  timezone:
    description: IANA time zone of the window, for example V(Europe/Berlin).
    type: str
    default: UTC
'''

EXAMPLES = r'''
- name: Refuse to deploy outside Mon-Thu 09:00-17:00 Berlin time
  ansible.builtin.assert:
    that: __deploy_window.allowed
    fail_msg: "{{ __deploy_window.reason }}"
  vars:
    __deploy_window: >-
      {{ now(utc=true).isoformat() | clawd.ops.deploy_window(weekdays=['Mon', 'Tue', 'Wed', 'Thu'],
         start='09:00', end='17:00', timezone='Europe/Berlin') }}

- name: A night window from Sunday to Thursday evenings, 22:00 to 06:00 the next morning
  ansible.builtin.debug:
    msg: "{{ '2026-03-06T03:00:00Z' | clawd.ops.deploy_window(weekdays=['Sun-Thu'], start='22:00', end='06:00') }}"
'''

RETURN = r'''
_value:
  description: The verdict.
  type: dict
  contains:
    allowed:
      description: Whether the moment is inside the window.
      type: bool
      sample: false
    reason:
      description: One sentence saying why.
      type: str
      sample: Friday is outside the deploy window (Mon-Thu 09:00-17:00 Europe/Berlin)
    local_time:
      description: The moment in the window's time zone, ISO 8601 with its offset.
      type: str
      sample: '2026-03-06T10:00:00+01:00'
    weekday:
      description: The local day's name.
      type: str
      sample: Friday
    window:
      description: The window, as written in the reason.
      type: str
      sample: Mon-Thu 09:00-17:00 Europe/Berlin
'''

import datetime
import re

from ansible.errors import AnsibleFilterError
from ansible.module_utils.common.text.converters import to_text

try:
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError
except ImportError:  # pragma: no cover - the controller runs Python 3.9+
    ZoneInfo = ZoneInfoNotFoundError = None

DAYS = ('Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun')
DAY_NAMES = ('Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday', 'Sunday')
_TIME = re.compile(r'^([01]?[0-9]|2[0-4]):([0-5][0-9])$')


def _day(name):
    text = to_text(name).strip().lower()
    for index, full in enumerate(DAY_NAMES):
        if len(text) >= 3 and full.lower().startswith(text):
            return index
    raise AnsibleFilterError('deploy_window: unknown weekday %r (use Mon, Tue, Wed, Thu, Fri, Sat, Sun)' % to_text(name))


def parse_weekdays(weekdays):
    """Day indexes (Monday 0) from names and ranges such as Mon-Thu (a range may wrap: Sat-Mon)."""
    if isinstance(weekdays, (str, bytes)):
        weekdays = [weekdays]
    if not weekdays:
        raise AnsibleFilterError('deploy_window: weekdays is empty')
    days = set()
    for item in weekdays:
        for part in to_text(item).split(','):
            if not part.strip():
                continue
            first, sep, last = part.partition('-')
            if sep:
                start, stop = _day(first), _day(last)
                days.update((start + offset) % 7 for offset in range((stop - start) % 7 + 1))
            else:
                days.add(_day(first))
    if not days:
        raise AnsibleFilterError('deploy_window: weekdays is empty')
    return days


def parse_clock(value, what):
    """Minutes since midnight from HH:MM (24:00 allowed)."""
    match = _TIME.match(to_text(value).strip())
    if not match or (int(match.group(1)) == 24 and match.group(2) != '00'):
        raise AnsibleFilterError('deploy_window: bad %s time %r (use HH:MM, 00:00 to 24:00)' % (what, to_text(value)))
    return int(match.group(1)) * 60 + int(match.group(2))


def _zone(name):
    try:
        return ZoneInfo(to_text(name))
    except (ZoneInfoNotFoundError, ValueError, TypeError):
        raise AnsibleFilterError('deploy_window: unknown timezone %r' % to_text(name))


def _moment(value):
    if isinstance(value, datetime.datetime):
        moment = value
    else:
        text = to_text(value).strip()
        parsed = text[:-1] + '+00:00' if text[-1:] in ('Z', 'z') else text
        try:
            moment = datetime.datetime.fromisoformat(parsed)
        except ValueError:
            raise AnsibleFilterError('deploy_window: cannot read %r as an ISO 8601 date and time' % text)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=datetime.timezone.utc)
    return moment


def describe_days(days):
    """Mon-Thu for a run of three days or more, else names joined by commas (Sat, Sun)."""
    ordered = sorted(days)
    if len(ordered) == 7:
        return 'Mon-Sun'
    runs, run = [], [ordered[0]]
    for day in ordered[1:]:
        if day == run[-1] + 1:
            run.append(day)
        else:
            runs.append(run)
            run = [day]
    runs.append(run)
    if len(runs) > 1 and runs[-1][-1] == 6 and runs[0][0] == 0:  # a run over the week's end: Sat-Mon
        runs[0] = runs.pop() + runs[0]
    parts = []
    for run in runs:
        if len(run) >= 3:
            parts.append('%s-%s' % (DAYS[run[0]], DAYS[run[-1]]))
        else:
            parts.extend(DAYS[day] for day in run)
    return ', '.join(parts)


def deploy_window(value, weekdays=None, start='09:00', end='17:00', timezone='UTC'):
    """The verdict for one moment: allowed, reason, local_time, weekday, window."""
    days = parse_weekdays(list(DAYS[:5]) if weekdays is None else weekdays)
    opens, closes = parse_clock(start, 'start'), parse_clock(end, 'end')
    if opens == 24 * 60:
        raise AnsibleFilterError('deploy_window: bad start time %r (use HH:MM, 00:00 to 23:59)' % to_text(start))
    zone = _zone(timezone)
    local = _moment(value).astimezone(zone)
    window = '%s %s-%s %s' % (describe_days(days), to_text(start).strip(), to_text(end).strip(), to_text(timezone))
    minute = local.hour * 60 + local.minute
    today = local.weekday()
    if opens < closes:
        in_hours, window_day = opens <= minute < closes, today
    elif minute >= opens:  # over midnight (or 24 hours): the evening part belongs to today's window
        in_hours, window_day = True, today
    else:
        in_hours, window_day = minute < closes, (today - 1) % 7
    allowed = in_hours and window_day in days
    clock = '%s %02d:%02d' % (DAY_NAMES[today], local.hour, local.minute)
    if allowed:
        reason = '%s is inside the deploy window (%s)' % (clock, window)
    elif in_hours and window_day == today:
        reason = '%s is outside the deploy window (%s)' % (DAY_NAMES[today], window)
    else:
        reason = '%s is outside the deploy window (%s)' % (clock, window)
    return {
        'allowed': allowed,
        'reason': reason,
        'local_time': local.isoformat(),
        'weekday': DAY_NAMES[today],
        'window': window,
    }


class FilterModule(object):
    """clawd.ops deploy window filter."""

    def filters(self):
        return {'deploy_window': deploy_window}
