# Copyright (c) 2026, clawd.ops contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The deploy_window filter across days, hours, DST changes, the window's edges and windows over midnight."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import datetime

import pytest

from ansible.errors import AnsibleFilterError

from ansible_collections.clawd.ops.plugins.filter.deploy_window import FilterModule, deploy_window

BERLIN = dict(weekdays=['Mon', 'Tue', 'Wed', 'Thu'], start='09:00', end='17:00', timezone='Europe/Berlin')


def test_the_filter_is_registered():
    assert FilterModule().filters()['deploy_window'] is deploy_window


@pytest.mark.parametrize('moment, allowed', [
    ('2026-03-02T08:00:00Z', True),   # Monday 09:00 Berlin (CET, +01:00): start is inclusive
    ('2026-03-02T07:59:59Z', False),  # Monday 08:59:59
    ('2026-03-05T15:59:00Z', True),   # Thursday 16:59
    ('2026-03-05T16:00:00Z', False),  # Thursday 17:00: end is exclusive
    ('2026-03-06T10:00:00Z', False),  # Friday
    ('2026-03-08T10:00:00Z', False),  # Sunday
])
def test_days_and_hours(moment, allowed):
    assert deploy_window(moment, **BERLIN)['allowed'] is allowed


def test_friday_reason_and_local_time():
    verdict = deploy_window('2026-03-06T10:00:00Z', **BERLIN)
    assert verdict['reason'] == 'Friday is outside the deploy window (Mon-Thu 09:00-17:00 Europe/Berlin)'
    assert verdict['local_time'] == '2026-03-06T11:00:00+01:00'
    assert verdict['weekday'] == 'Friday'


def test_reason_names_the_time_when_the_day_is_fine():
    verdict = deploy_window('2026-03-03T17:30:00+01:00', **BERLIN)
    assert verdict['allowed'] is False
    assert verdict['reason'] == 'Tuesday 17:30 is outside the deploy window (Mon-Thu 09:00-17:00 Europe/Berlin)'
    assert deploy_window('2026-03-03T10:15:00+01:00', **BERLIN)['reason'] == \
        'Tuesday 10:15 is inside the deploy window (Mon-Thu 09:00-17:00 Europe/Berlin)'


def test_daylight_saving_time_moves_the_utc_edges():
    # Winter (CET, +01:00): 08:30Z is 09:30 local. Summer (CEST, +02:00, from 2026-03-29): 07:30Z is 09:30 local.
    assert deploy_window('2026-03-26T07:30:00Z', **BERLIN)['allowed'] is False  # 08:30 CET
    assert deploy_window('2026-03-30T07:30:00Z', **BERLIN)['allowed'] is True   # Monday 09:30 CEST
    assert deploy_window('2026-03-30T07:30:00Z', **BERLIN)['local_time'] == '2026-03-30T09:30:00+02:00'
    # Back to CET on 2026-10-25: Monday 2026-10-26 07:30Z is 08:30 local, before the window.
    assert deploy_window('2026-10-26T07:30:00Z', **BERLIN)['allowed'] is False
    assert deploy_window('2026-10-26T08:00:00Z', **BERLIN)['allowed'] is True


def test_a_night_of_dst_change_inside_a_window_over_midnight():
    night = dict(weekdays=['Sat'], start='22:00', end='06:00', timezone='Europe/Berlin')
    # 2026-03-29 01:30Z is 03:30 CEST on Sunday, inside Saturday's night window; 04:00Z is 06:00 CEST, outside.
    assert deploy_window('2026-03-29T01:30:00Z', **night)['allowed'] is True
    assert deploy_window('2026-03-29T04:00:00Z', **night)['allowed'] is False
    assert deploy_window('2026-03-29T03:59:00Z', **night)['allowed'] is True


@pytest.mark.parametrize('moment, allowed', [
    ('2026-03-05T22:00:00', True),    # Thursday 22:00: opens, inclusive
    ('2026-03-05T21:59:00', False),   # Thursday 21:59
    ('2026-03-06T05:59:00', True),    # Friday 05:59 belongs to Thursday's window
    ('2026-03-06T06:00:00', False),   # closes, exclusive
    ('2026-03-06T22:30:00', False),   # Friday evening: Friday is not a window day
    ('2026-03-02T03:00:00', False),   # Monday 03:00 would belong to Sunday's window
    ('2026-03-03T03:00:00', True),    # Tuesday 03:00 belongs to Monday's window
])
def test_window_over_midnight(moment, allowed):
    verdict = deploy_window(moment, weekdays=['Mon-Thu'], start='22:00', end='06:00', timezone='UTC')
    assert verdict['allowed'] is allowed, verdict['reason']


def test_end_at_midnight_and_whole_days():
    assert deploy_window('2026-03-02T23:59:00Z', weekdays=['Mon'], start='18:00', end='24:00')['allowed'] is True
    assert deploy_window('2026-03-03T00:00:00Z', weekdays=['Mon'], start='18:00', end='24:00')['allowed'] is False
    assert deploy_window('2026-03-07T03:00:00Z', weekdays=['Sat', 'Sun'], start='00:00', end='00:00')['allowed'] is True
    assert deploy_window('2026-03-06T23:00:00Z', weekdays=['Sat', 'Sun'], start='00:00', end='00:00')['allowed'] is False


def test_datetime_input_and_naive_means_utc():
    aware = datetime.datetime(2026, 3, 2, 8, 0, tzinfo=datetime.timezone.utc)
    assert deploy_window(aware, **BERLIN)['allowed'] is True
    assert deploy_window(datetime.datetime(2026, 3, 2, 7, 59), **BERLIN)['allowed'] is False
    assert deploy_window('2026-03-02T08:00:00', **BERLIN)['allowed'] is True


def test_weekday_spellings_and_descriptions():
    assert deploy_window('2026-03-04T12:00:00Z', weekdays=['monday', 'WED', 'Friday'])['window'] == 'Mon, Wed, Fri 09:00-17:00 UTC'
    assert deploy_window('2026-03-04T12:00:00Z', weekdays='Sat-Mon')['window'] == 'Sat-Mon 09:00-17:00 UTC'
    assert deploy_window('2026-03-04T12:00:00Z')['window'] == 'Mon-Fri 09:00-17:00 UTC'
    assert deploy_window('2026-03-02T12:00:00Z', weekdays='Sat-Mon')['allowed'] is True  # a range over the week's end


@pytest.mark.parametrize('kwargs, bad', [
    (dict(weekdays=['Mon', 'Fry']), "'Fry'"),
    (dict(weekdays=['Mo']), "'Mo'"),
    (dict(start='9am'), "'9am'"),
    (dict(end='17:60'), "'17:60'"),
    (dict(end='24:30'), "'24:30'"),
    (dict(start='24:00'), "'24:00'"),
    (dict(timezone='Europe/Berln'), "'Europe/Berln'"),
    (dict(weekdays=[]), 'weekdays is empty'),
])
def test_bad_arguments_name_the_bad_value(kwargs, bad):
    with pytest.raises(AnsibleFilterError) as error:
        deploy_window('2026-03-02T08:00:00Z', **kwargs)
    assert bad in str(error.value)


def test_bad_input_names_it():
    with pytest.raises(AnsibleFilterError, match="'next tuesday'"):
        deploy_window('next tuesday')
