# Copyright (c) 2026, clawd.ops contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The one parse_time: Coolify's Laravel times, run reports' ISO 8601, the ledger's epoch seconds and errors."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import datetime

import pytest

from ansible_collections.clawd.ops.plugins.module_utils._time import parse_time

UTC = datetime.timezone.utc
NOON = datetime.datetime(2026, 1, 31, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize('text', [
    '2026-01-31T12:00:00Z', '2026-01-31T12:00:00.000000Z', '2026-01-31 12:00:00', '2026-01-31T12:00:00', '2026-01-31T13:00:00+01:00',
    '2026-01-31T13:00:00+0100', '2026-01-31T07:00:00-05:00', ' 2026-01-31T12:00:00z ', '2026-01-31T12:00:00.000000000Z',
])
def test_iso_and_laravel_times_are_one_utc_moment(text):
    moment = parse_time(text)
    assert moment == NOON and moment.tzinfo == UTC


def test_fractions_are_kept():
    assert parse_time('2026-01-31T12:00:00.250Z') - NOON == datetime.timedelta(milliseconds=250)


@pytest.mark.parametrize('value', ['yesterday', '', None, 1769860800, '1769860800', '2026-13-01T00:00:00Z', NOON, True])
def test_what_is_not_iso_text_is_none(value):
    # As run reports and Coolify read times: text only, no epoch seconds, no datetime objects.
    assert parse_time(value) is None


@pytest.mark.parametrize('value', [1769860800, 1769860800.0, '1769860800', ' 1769860800 ', NOON, NOON.replace(tzinfo=None), '2026-01-31T12:00:00Z'])
def test_the_ledger_also_takes_epoch_seconds_and_datetimes(value):
    assert parse_time(value, epoch=True) == NOON


def test_required_says_what_could_not_be_read():
    with pytest.raises(ValueError, match="'yesterday' is neither an ISO 8601 time nor epoch seconds"):
        parse_time('yesterday', epoch=True, required=True)
    with pytest.raises(ValueError, match="None is not an ISO 8601 time"):
        parse_time(None, required=True)
