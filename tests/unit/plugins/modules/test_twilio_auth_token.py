# Copyright (c) 2026, clawd.ops contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The twilio_auth_token module (Accounts v1 Auth Tokens), run in-process against the lab's Twilio stand-in on loopback."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import json

import pytest

requests = pytest.importorskip('requests')

from standins.twilio import TwilioStandIn  # noqa: E402 (lab/ is put on sys.path by tests/unit/conftest.py)

from ansible_collections.clawd.ops.tests.unit.plugins.modules.module_runner import run_main  # noqa: E402
from ansible_collections.clawd.ops.plugins.modules import twilio_auth_token  # noqa: E402

SID = 'AC' + '6b6b6b6b' * 4
TOKEN = 'rotateTWILIOtoken-8e8e8e8e'


@pytest.fixture(name='server', scope='module')
def server_fixture():
    with TwilioStandIn(config={'accounts': [{'sid': SID, 'auth_token': TOKEN}]}).serve_in_thread() as running:
        yield running


@pytest.fixture(name='tw')
def tw_fixture(server):
    requests.post(server.url + '/_lab/reset', timeout=5).raise_for_status()
    return server


def run(tw, results, operation, token=TOKEN, check_mode=False):
    args = {'account_sid': SID, 'auth_token': token, 'api_url': tw.url, 'accounts_api_url': tw.url, 'timeout': 5,
            'operation': operation}
    if check_mode:
        args['_ansible_check_mode'] = True
    run_main(twilio_auth_token.main, args)
    return results[-1]


def account_status(tw, token):
    return requests.get('%s/2010-04-01/Accounts/%s.json' % (tw.url, SID), auth=(SID, token), timeout=5).status_code


def test_create_secondary_promote_and_the_old_token_is_refused(tw, results):
    assert run(tw, results, 'create_secondary', check_mode=True) == {'changed': True, 'operation': 'create_secondary'} or \
        results[-1]['changed'] is True
    assert 'secondary_auth_token' not in results[-1] or not results[-1]['secondary_auth_token']
    created = run(tw, results, 'create_secondary')
    secondary = created['secondary_auth_token']
    assert created['changed'] is True and len(secondary) == 32 and secondary != TOKEN
    assert account_status(tw, TOKEN) == 200 and account_status(tw, secondary) == 200
    promoted = run(tw, results, 'promote', token=secondary)
    assert promoted['changed'] is True and promoted['auth_token_promoted'] is True
    assert account_status(tw, TOKEN) == 401 and account_status(tw, secondary) == 200
    # Nothing left to promote: not changed, not an error (a rerun after a promotion that went through).
    again = run(tw, results, 'promote', token=secondary)
    assert again['changed'] is False and again.get('failed') is not True
    assert TOKEN not in json.dumps(results[-2:])


def test_delete_secondary_is_idempotent_and_errors_name_the_cause(tw, results):
    run(tw, results, 'create_secondary')
    assert run(tw, results, 'delete_secondary', check_mode=True)['changed'] is True
    assert run(tw, results, 'delete_secondary')['changed'] is True
    assert run(tw, results, 'delete_secondary')['changed'] is False
    failed = run(tw, results, 'create_secondary', token='wrong-token')
    assert failed['failed'] is True
    assert failed['msg'] == 'Failed to create a secondary Auth Token of account %s: HTTP 401: Twilio error 20003: Authenticate' % SID
    assert failed['vendor_code'] == 20003


def test_a_server_error_is_not_repeated(tw, results):
    # Each call changes the account: after a 5xx nobody knows whether Twilio made (or promoted) a token, so no retry.
    requests.post(tw.url + '/_lab/faults', json={'mode': '5xx', 'status': 503, 'count': 1, 'match': '/v1/AuthTokens/Secondary'},
                  timeout=5).raise_for_status()
    requests.delete(tw.url + '/_lab/requests', timeout=5)
    failed = run(tw, results, 'create_secondary')
    assert failed['failed'] is True and failed['status_code'] == 503
    assert failed['msg'].startswith('Failed to create a secondary Auth Token of account %s: HTTP 503' % SID)
    posts = [e for e in requests.get(tw.url + '/_lab/requests', timeout=5).json() if e['method'] == 'POST']
    assert len(posts) == 1
