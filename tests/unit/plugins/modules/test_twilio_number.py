# Copyright (c) 2026, clawd.ops contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The twilio_number module, run in-process against the lab's Twilio stand-in on loopback."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type


import pytest

requests = pytest.importorskip('requests')

# pylint: disable=wrong-import-position
from standins.twilio import TwilioStandIn  # noqa: E402 (lab/ is put on sys.path by tests/unit/conftest.py)

from ansible_collections.clawd.ops.tests.unit.plugins.modules.module_runner import run_main  # noqa: E402
from ansible_collections.clawd.ops.plugins.modules import twilio_number  # noqa: E402

SID = 'AC' + '5a5a5a5a' * 4
TOKEN = 'moduleTWILIOtoken-9d9d9d9d'
SMS_URL = 'https://lab1.clawd.test/twilio/sms'
VOICE_URL = 'https://lab1.clawd.test/twilio/voice'


@pytest.fixture(name='server', scope='module')
def server_fixture():
    with TwilioStandIn(config={'accounts': [{'sid': SID, 'auth_token': TOKEN}]}).serve_in_thread() as running:
        yield running


@pytest.fixture(name='tw')
def tw_fixture(server):
    requests.post(server.url + '/_lab/reset', timeout=5).raise_for_status()
    return server


def run(tw, results, check_mode=False, diff=False, **args):
    base = {'account_sid': SID, 'auth_token': TOKEN, 'api_url': tw.url, 'timeout': 5}
    base.update(args)
    if check_mode:
        base['_ansible_check_mode'] = True
    if diff:
        base['_ansible_diff'] = True
    requests.delete(tw.url + '/_lab/requests', timeout=5)
    run_main(twilio_number.main, base)
    return results[-1]


def logged(tw):
    return requests.get(tw.url + '/_lab/requests', timeout=5).json()


def owned(tw):
    return requests.get(tw.url + '/_lab/twilio/numbers', timeout=5).json()


def fault(tw, **spec):
    requests.post(tw.url + '/_lab/faults', json=spec, timeout=5).raise_for_status()


def test_buy_by_number_then_idempotent_with_one_request(tw, results):
    args = dict(phone_number='+14155550100', friendly_name='lab1', sms_url=SMS_URL, voice_url=VOICE_URL)
    result = run(tw, results, **args)
    assert result['failed'] is False and result['changed'] is True and result['action'] == 'bought'
    assert result['number']['sms_url'] == SMS_URL and result['number']['voice_url'] == VOICE_URL
    assert result['sid'].startswith('PN') and result['phone_number'] == '+14155550100'
    assert result['number']['capabilities'] == {'voice': True, 'sms': True, 'mms': True, 'fax': False}
    assert [e['method'] for e in logged(tw)] == ['GET', 'POST']
    assert len(owned(tw)) == 1

    again = run(tw, results, **args)
    assert again['changed'] is False and again['action'] == 'none' and again['sid'] == result['sid']
    requests_made = logged(tw)
    assert len(requests_made) == 1
    assert requests_made[0]['method'] == 'GET' and requests_made[0]['query'].startswith('PageSize=50&PhoneNumber=%2B14155550100')


def test_buy_by_search_is_idempotent_by_friendly_name(tw, results):
    args = dict(friendly_name='tenant-mms', area_code='415', mms=True, sms_url=SMS_URL)
    result = run(tw, results, **args)
    assert result['changed'] is True and result['action'] == 'bought'
    assert result['phone_number'].startswith('+1415') and result['number']['capabilities']['mms'] is True
    assert [e['path'].rsplit('/', 1)[-1] for e in logged(tw)] == ['IncomingPhoneNumbers.json', 'Local.json', 'IncomingPhoneNumbers.json']
    again = run(tw, results, **args)
    assert again['changed'] is False and again['phone_number'] == result['phone_number']
    assert len(logged(tw)) == 1 and 'FriendlyName=tenant-mms' in logged(tw)[0]['query']
    assert len(owned(tw)) == 1


def test_buy_by_area_code_alone_lets_twilio_pick(tw, results):
    result = run(tw, results, friendly_name='tenant-212', area_code='212')
    assert result['changed'] is True and result['phone_number'].startswith('+1212')
    assert 'AreaCode=212' in logged(tw)[-1]['body']


def test_drift_is_fixed_with_diff(tw, results):
    run(tw, results, phone_number='+14155550101', sms_url=SMS_URL, friendly_name='lab1')
    number = owned(tw)[0]
    requests.post('%s/2010-04-01/Accounts/%s/IncomingPhoneNumbers/%s.json' % (tw.url, SID, number['sid']),
                  data={'SmsUrl': 'https://attacker.example/sms', 'SmsMethod': 'GET'}, auth=(SID, TOKEN), timeout=5)
    result = run(tw, results, diff=True, phone_number='+14155550101', sms_url=SMS_URL, sms_method='POST', friendly_name='lab1')
    assert result['changed'] is True and result['action'] == 'updated'
    assert result['changes'] == {'sms_url': {'before': 'https://attacker.example/sms', 'after': SMS_URL},
                                 'sms_method': {'before': 'GET', 'after': 'POST'}}
    assert result['diff']['before']['sms_url'] == 'https://attacker.example/sms' and result['diff']['after']['sms_url'] == SMS_URL
    assert owned(tw)[0]['sms_url'] == SMS_URL and owned(tw)[0]['sms_method'] == 'POST'
    # what is not given is not managed: voice_url stays as it is
    assert run(tw, results, phone_number='+14155550101')['changed'] is False


def test_check_mode_writes_nothing(tw, results):
    result = run(tw, results, check_mode=True, diff=True, phone_number='+14155550102', sms_url=SMS_URL)
    assert result['changed'] is True and result['action'] == 'bought' and result['sid'] is None
    assert result['diff'] == {'before': {'state': 'absent'}, 'after': {'state': 'present', 'phone_number': '+14155550102', 'sms_url': SMS_URL}}
    assert all(e['method'] == 'GET' for e in logged(tw)) and owned(tw) == []

    predicted = run(tw, results, check_mode=True, friendly_name='x', area_code='720', voice=True)
    assert predicted['changed'] is True and predicted['phone_number'].startswith('+1720')
    assert all(e['method'] == 'GET' for e in logged(tw)) and owned(tw) == []

    run(tw, results, phone_number='+14155550102', sms_url=SMS_URL)
    result = run(tw, results, check_mode=True, phone_number='+14155550102', sms_url=VOICE_URL)
    assert result['changed'] is True and result['number']['sms_url'] == VOICE_URL
    assert all(e['method'] == 'GET' for e in logged(tw)) and owned(tw)[0]['sms_url'] == SMS_URL

    result = run(tw, results, check_mode=True, state='absent', phone_number='+14155550102', release=True)
    assert result['changed'] is True and result['action'] == 'released'
    assert all(e['method'] == 'GET' for e in logged(tw)) and len(owned(tw)) == 1


@pytest.mark.parametrize('args', [
    {'state': 'absent', 'phone_number': '+14155550103'},
    {'state': 'absent', 'phone_number': '+14155550103', 'release': False},
    {'state': 'absent', 'friendly_name': 'lab', 'release': True},
])
def test_absent_without_explicit_release_is_refused(tw, results, args):
    run(tw, results, phone_number='+14155550103', friendly_name='lab')
    result = run(tw, results, **args)
    assert result['failed'] is True
    assert 'releases a number only when phone_number names it and release=true' in result['msg']
    assert logged(tw) == [] and len(owned(tw)) == 1


def test_absent_releases_and_is_idempotent(tw, results):
    run(tw, results, phone_number='+14155550104')
    result = run(tw, results, diff=True, state='absent', phone_number='+14155550104', release=True)
    assert result['changed'] is True and result['action'] == 'released'
    assert result['diff']['after'] == {'state': 'absent', 'phone_number': '+14155550104'}
    assert owned(tw) == [] and logged(tw)[-1]['method'] == 'DELETE'
    again = run(tw, results, state='absent', phone_number='+14155550104', release=True)
    assert again['changed'] is False and len(logged(tw)) == 1


def test_no_identity_is_refused(tw, results):
    result = run(tw, results, area_code='415')
    assert result['failed'] is True and 'friendly_name' in result['msg'] and logged(tw) == []


def test_two_numbers_with_the_friendly_name_is_an_error(tw, results):
    run(tw, results, phone_number='+14155550105', friendly_name='twin')
    run(tw, results, phone_number='+14155550106', friendly_name='twin')
    result = run(tw, results, friendly_name='twin', area_code='415')
    assert result['failed'] is True and '2 numbers with that friendly name' in result['msg'] and len(owned(tw)) == 2


@pytest.mark.parametrize('args, message', [
    ({'friendly_name': 'n', 'area_code': '533'},
     'Failed to buy a number in US area code 533: HTTP 400: Twilio error 21452: No numbers found in area code 533'),
    ({'phone_number': '+15005550000'}, 'Failed to buy number +15005550000: HTTP 400: Twilio error 21422: PhoneNumber +15005550000 is not available'),
    ({'phone_number': '+15005550001'}, 'Failed to buy number +15005550001: HTTP 400: Twilio error 21421: PhoneNumber is invalid: +15005550001'),
    ({'phone_number': '+14155550100', 'auth_token': 'wrongTOKENxyz'},
     'Failed to list the numbers of account %s: HTTP 401: Twilio error 20003: Authenticate' % SID),
    ({'friendly_name': 'n', 'area_code': '533', 'sms': True}, 'Failed to buy a number in US area code 533 with sms: no available number matches'),
    ({'phone_number': '4155550100'}, 'phone_number must be in E.164 form'),
])
def test_errors_are_clear(tw, results, args, message):
    result = run(tw, results, **args)
    assert result['failed'] is True
    assert result['msg'].startswith(message), result['msg']
    assert 'wrongTOKENxyz' not in str(result) and TOKEN not in str(result)
    assert 'Traceback' not in result['msg']


def test_429_retry_after_is_honoured(tw, results, retry_sleeps):
    fault(tw, mode='429', retry_after=1)
    result = run(tw, results, phone_number='+14155550107')
    assert result['failed'] is False and result['changed'] is True
    assert retry_sleeps == [1]
    assert [e['status'] for e in logged(tw)] == [429, 200, 201]


def test_5xx_is_retried_for_reads_but_a_purchase_is_not_repeated(tw, results):
    fault(tw, mode='5xx', status=502, count=2, match='IncomingPhoneNumbers.json')
    result = run(tw, results, phone_number='+14155550108')
    assert result['failed'] is False
    assert [e['status'] for e in logged(tw)] == [502, 502, 200, 201]
    fault(tw, mode='5xx', status=503, count=1, match='IncomingPhoneNumbers.json')
    run(tw, results, phone_number='+14155550109')  # the GET takes the fault and is repeated
    fault(tw, mode='5xx', status=503, count=5)
    result = run(tw, results, phone_number='+14155550110', retries=1)
    assert result['failed'] is True and result['msg'].startswith('Failed to list the numbers of account %s: HTTP 503' % SID)
    assert result['status_code'] == 503 and result['vendor_code'] == 20503 and 'http_status' not in result


def test_purchase_after_503_is_not_repeated(tw, results):
    # the list takes the first fault (a normal answer), the purchase the 503, and is not repeated
    fault(tw, mode='slow', delay=0, count=1)
    fault(tw, mode='5xx', status=503, count=1)
    result = run(tw, results, phone_number='+14155550111')
    assert result['failed'] is True and result['msg'].startswith('Failed to buy number +14155550111: HTTP 503')
    assert [(e['method'], e['status']) for e in logged(tw)] == [('GET', 200), ('POST', 503)] and owned(tw) == []


def test_timeout(tw, results):
    fault(tw, mode='slow', delay=2, count=3)
    result = run(tw, results, phone_number='+14155550112', timeout=0.5, retries=0)
    assert result['failed'] is True
    assert 'no answer within 0.5 seconds' in result['msg'] and result['msg'].startswith('Failed to list the numbers')
    # No answer: no HTTP status, no Twilio code.
    assert result['status_code'] is None and 'vendor_code' not in result
