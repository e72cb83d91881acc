# Copyright (c) 2026, clawd.ops contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The Twilio client: pure helpers with plain dicts, calls against the lab's Twilio stand-in on loopback; the webhook
signature against Twilio's published example and the validators of the lab's sample app and stand-in."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import pytest

requests = pytest.importorskip('requests')

# pylint: disable=wrong-import-position
from standins.twilio import TwilioStandIn, signature as standin_signature  # noqa: E402 (lab/ is put on sys.path by tests/unit/conftest.py)

from ansible_collections.clawd.ops.tests.unit.conftest import load_sample_app  # noqa: E402
from ansible_collections.clawd.ops.plugins.module_utils._transport import Transport, TransportError  # noqa: E402
from ansible_collections.clawd.ops.plugins.module_utils._twilio import (  # noqa: E402
    TwilioClient, TwilioError, capabilities, config_changes, describe_search, desired_state, error_cause, is_twiml,
    managed_state, number_result, pascal, send_webhook, signed_url, to_form, url_password, webhook_params, webhook_signature,
)

SID = 'AC' + 'abcdef01' * 4
TOKEN = 'unitTWILIOtoken-3c3c3c3c3c'


@pytest.fixture(name='server', scope='module')
def server_fixture():
    with TwilioStandIn(config={'accounts': [{'sid': SID, 'auth_token': TOKEN}]}).serve_in_thread() as running:
        yield running


@pytest.fixture(name='tw')
def tw_fixture(server):
    requests.post(server.url + '/_lab/reset', timeout=5).raise_for_status()
    return server


def client_for(tw, **kwargs):
    kwargs.setdefault('timeout', 5)
    kwargs.setdefault('backoff_factor', 0.01)
    return TwilioClient(SID, kwargs.pop('token', TOKEN), tw.url, **kwargs)


def logged(tw):
    return requests.get(tw.url + '/_lab/requests', timeout=5).json()


# ---------------------------------------------------------------------------- pure helpers


def test_pascal_and_form():
    assert pascal('sms_fallback_method') == 'SmsFallbackMethod'
    assert pascal('status_callback') == 'StatusCallback'
    assert to_form({'voice_url': 'https://x/v', 'friendly_name': 'n'}) == {'VoiceUrl': 'https://x/v', 'FriendlyName': 'n'}


def test_capabilities_case_insensitive():
    assert capabilities({'voice': True, 'SMS': True, 'MMS': False, 'fax': False}) == {'voice': True, 'sms': True, 'mms': False, 'fax': False}
    assert capabilities(None) == {}


def test_unset_is_not_managed_and_server_defaults_compare_equal():
    params = dict((k, None) for k in ('friendly_name', 'sms_url', 'sms_method', 'sms_fallback_url', 'sms_fallback_method', 'voice_url',
                                      'voice_method', 'voice_fallback_url', 'voice_fallback_method', 'status_callback', 'status_callback_method'))
    params.update(sms_url='https://a/sms', voice_method='post', voice_url='')
    desired = desired_state(params)
    assert desired == {'sms_url': 'https://a/sms', 'voice_method': 'POST', 'voice_url': ''}
    current = {'sms_url': 'https://a/sms', 'voice_url': None, 'voice_method': None, 'friendly_name': 'anything'}
    assert config_changes(current, desired) == {}
    current['sms_url'] = 'https://old/sms'
    current['voice_method'] = 'GET'
    assert config_changes(current, desired) == {'sms_url': ('https://old/sms', 'https://a/sms'), 'voice_method': ('GET', 'POST')}
    assert managed_state({})['sms_method'] == 'POST' and managed_state({})['status_callback'] == ''


def test_number_result_keeps_documented_fields_only():
    result = number_result({'sid': 'PN1', 'phone_number': '+1', 'capabilities': {'SMS': True}, 'subresource_uris': {}, 'trunk_sid': None})
    assert result['sid'] == 'PN1' and result['capabilities'] == {'sms': True}
    assert 'subresource_uris' not in result and 'trunk_sid' not in result


def test_describe_search():
    assert describe_search('US', '415') == 'US area code 415'
    assert describe_search('GB', None, '7*', {'sms': True, 'mms': False, 'voice': None}, 'mobile') == 'GB mobile containing 7* with sms without mms'


def test_error_cause_reads_the_envelope():
    exc = TransportError('x', status=400, body='{"code": 21452, "message": "No numbers found in area code 533", "more_info": "", "status": 400}')
    assert error_cause(exc) == ('HTTP 400: Twilio error 21452: No numbers found in area code 533', 21452)
    assert error_cause(TransportError('x', status=502, body='<html>bad gateway</html>')) == ('HTTP 502: <html>bad gateway</html>', None)
    assert error_cause(TransportError('GET / failed: connection error (refused)')) == ('GET / failed: connection error (refused)', None)


# ---------------------------------------------------------------------------- client against the stand-in


def test_buy_find_update_release(tw):
    client = client_for(tw)
    bought = client.buy('buy', phone_number='+14155550100', config={'friendly_name': 'web', 'sms_url': 'https://a/sms'})
    assert bought['phone_number'] == '+14155550100' and bought['sms_url'] == 'https://a/sms'
    entry = logged(tw)[-1]
    assert 'PhoneNumber=%2B14155550100' in entry['body'] and 'SmsUrl=' in entry['body'] and 'FriendlyName=web' in entry['body']
    found = client.find_number('+14155550100')
    assert found['sid'] == bought['sid']
    assert 'PhoneNumber=%2B14155550100' in logged(tw)[-1]['query']
    assert client.find_number('+1415555010') is None  # the API matches partially; the client does not
    updated = client.update(found, {'voice_url': 'https://a/voice', 'voice_method': 'GET'})
    assert updated['voice_url'] == 'https://a/voice' and updated['voice_method'] == 'GET'
    client.release(found)
    assert client.find_number('+14155550100') is None
    client.release(found)  # already gone: a repeat after a lost answer is fine


def test_list_follows_pages(tw):
    client = client_for(tw)
    for _index in range(5):
        client.buy('buy', area_code='212', config={'friendly_name': 'same'})
    numbers = client.list_numbers(friendly_name='same', page_size=2)
    assert len(numbers) == 5 and len(set(n['sid'] for n in numbers)) == 5
    queries = [e['query'] for e in logged(tw) if e['method'] == 'GET']
    assert len(queries) == 3 and 'PageToken=PA' in queries[1] and 'FriendlyName=same' in queries[2]


def test_search_available_with_capabilities(tw):
    client = client_for(tw)
    found = client.search_available('US', 'local', area_code='415', wanted_capabilities={'mms': True, 'sms': True})
    assert found and all(n['capabilities']['mms'] and n['capabilities']['sms'] for n in found)
    assert 'MmsEnabled=true' in logged(tw)[-1]['query'] and 'SmsEnabled=true' in logged(tw)[-1]['query']
    assert client.search_available('GB', 'mobile')[0]['phone_number'].startswith('+447')


@pytest.mark.parametrize('kwargs, code, text', [
    ({'area_code': '533'}, 21452, 'Failed to buy a number in US area code 533: HTTP 400: Twilio error 21452: No numbers found in area code 533'),
    ({'phone_number': '+15005550000'}, 21422, 'HTTP 400: Twilio error 21422: PhoneNumber +15005550000 is not available'),
    ({'phone_number': '+15005550001'}, 21421, 'HTTP 400: Twilio error 21421: PhoneNumber is invalid'),
])
def test_buy_errors_carry_twilio_code(tw, kwargs, code, text):
    with pytest.raises(TwilioError) as info:
        client_for(tw).buy('buy a number in US area code 533' if 'area_code' in kwargs else 'buy', **kwargs)
    assert info.value.code == code and info.value.status == 400
    assert text in info.value.message


def test_bad_token_is_20003_and_never_in_the_message(tw):
    with pytest.raises(TwilioError) as info:
        client_for(tw, token='wrongSECRETvalue').list_numbers()
    assert info.value.message == 'Failed to list the numbers of account %s: HTTP 401: Twilio error 20003: Authenticate' % SID
    assert 'wrongSECRETvalue' not in repr(info.value.__dict__)


def test_buy_is_not_repeated_after_a_5xx_but_after_a_429(tw):
    requests.post(tw.url + '/_lab/faults', json={'mode': '5xx', 'status': 503, 'match': 'IncomingPhoneNumbers'}, timeout=5)
    with pytest.raises(TwilioError) as info:
        client_for(tw).buy('buy', phone_number='+14155550101')
    assert info.value.status == 503 and len(logged(tw)) == 1
    requests.post(tw.url + '/_lab/faults', json={'mode': '429', 'retry_after': 0, 'match': 'IncomingPhoneNumbers'}, timeout=5)
    assert client_for(tw).buy('buy', phone_number='+14155550101')['phone_number'] == '+14155550101'
    assert [e['status'] for e in logged(tw)] == [503, 429, 201]


def test_update_is_repeated_after_a_503(tw):
    client = client_for(tw)
    number = client.buy('buy', phone_number='+14155550102')
    requests.post(tw.url + '/_lab/faults', json={'mode': '5xx', 'status': 503, 'match': number['sid']}, timeout=5)
    assert client.update(number, {'friendly_name': 'again'})['friendly_name'] == 'again'
    assert [e['status'] for e in logged(tw)][-2:] == [503, 200]


def test_buy_matching_dry_run_only_searches(tw):
    predicted = client_for(tw).buy_matching('US', area_code='720', wanted_capabilities={'sms': True}, config={'friendly_name': 'n'}, dry_run=True)
    assert predicted['phone_number'].startswith('+1720') and predicted['friendly_name'] == 'n'
    assert [e['method'] for e in logged(tw)] == ['GET']


def test_buy_matching_takes_the_next_candidate_when_one_was_taken_meanwhile(tw):
    client = client_for(tw)
    first = client.search_available('US', area_code='212', wanted_capabilities={'voice': True})[0]['phone_number']
    client.buy('buy', phone_number=first)  # someone else buys it after our search

    class Stale(TwilioClient):
        def search_available(self, *args, **kwargs):
            return [{'phone_number': first, 'capabilities': {}}] + super(Stale, self).search_available(*args, **kwargs)

    bought = Stale(SID, TOKEN, tw.url, timeout=5).buy_matching('US', area_code='212', wanted_capabilities={'voice': True}, config={})
    assert bought['phone_number'] != first and bought['phone_number'].startswith('+1212')
    assert [e['status'] for e in logged(tw) if e['method'] == 'POST'][-2:] == [400, 201]


def test_buy_matching_searches_again_when_other_buyers_took_every_candidate(tw):
    # Twenty hosts provisioned at once in one account all search, then race for the same first numbers: a loser
    # searches again (what was taken is gone from the answer) instead of failing after three 21422s.
    client = client_for(tw)
    first_five = [n['phone_number'] for n in client.search_available('US', area_code='212', wanted_capabilities={'voice': True})[:5]]
    searches = []

    class Racing(TwilioClient):
        def search_available(self, *args, **kwargs):
            found = super(Racing, self).search_available(*args, **kwargs)
            searches.append([n['phone_number'] for n in found])
            if len(searches) == 1:  # the others buy the first five right after this search
                for number in first_five:
                    client.buy('buy', phone_number=number)
            return found

    bought = Racing(SID, TOKEN, tw.url, timeout=5).buy_matching('US', area_code='212', wanted_capabilities={'voice': True}, config={})
    assert bought['phone_number'] not in first_five and bought['phone_number'].startswith('+1212')
    assert len(searches) == 2 and set(first_five) <= set(searches[0]) and not set(first_five) & set(searches[1])


def test_buy_matching_gives_up_after_a_bounded_number_of_taken_numbers(tw):
    client = client_for(tw)

    class AlwaysTaken(TwilioClient):
        def buy(self, what, phone_number=None, area_code=None, config=None):
            client.buy('buy', phone_number=phone_number)  # someone else is always quicker
            return super(AlwaysTaken, self).buy(what, phone_number, area_code, config)

    with pytest.raises(TwilioError) as info:
        AlwaysTaken(SID, TOKEN, tw.url, timeout=5).buy_matching('US', area_code='212', wanted_capabilities={'voice': True}, config={})
    assert info.value.code == 21422
    assert 'taken meanwhile' in info.value.message
    assert len([e for e in logged(tw) if e['method'] == 'POST' and e['status'] == 400]) == 10  # BUY_ATTEMPTS


def test_buy_matching_without_candidates(tw):
    with pytest.raises(TwilioError) as info:
        client_for(tw).buy_matching('GB', 'local', wanted_capabilities={'sms': True})
    assert info.value.message == 'Failed to buy a number in GB with sms: no available number matches'


# ---------------------------------------------------------------------------- webhook signature

# Twilio's published example (docs "Webhooks security", twilio-python's RequestValidator tests).
DOCS_TOKEN = '12345'
DOCS_URL = 'https://mycompany.com/myapp.php?foo=1&bar=2'
DOCS_PARAMS = {'CallSid': 'CA1234567890ABCDE', 'Caller': '+12349013030', 'Digits': '1234', 'From': '+12349013030', 'To': '+18005551212'}
DOCS_SIGNATURE = '0/KCTR6DLpKmkAf8muzZqo1nDgQ='


def test_signature_of_twilios_published_example():
    assert webhook_signature(DOCS_TOKEN, DOCS_URL, DOCS_PARAMS) == DOCS_SIGNATURE
    # the order the parameters come in does not matter; pairs work like a dict
    assert webhook_signature(DOCS_TOKEN, DOCS_URL, list(reversed(list(DOCS_PARAMS.items())))) == DOCS_SIGNATURE
    assert webhook_signature('54321', DOCS_URL, DOCS_PARAMS) != DOCS_SIGNATURE
    assert webhook_signature(DOCS_TOKEN, DOCS_URL + '&x=1', DOCS_PARAMS) != DOCS_SIGNATURE


@pytest.mark.parametrize('params', [
    DOCS_PARAMS,
    webhook_params('voice', SID, '+14155550100', '+15005550006'),
    webhook_params('sms', SID, '+14155550100', '+15005550006', body='héllo & <bye> = ✓'),
    # byte order of names: upper case before lower case, a name's values sorted
    {'b': 'x', 'B': 'y', 'a': ['3', '1', '2'], 'Body': ''},
])
def test_signature_is_what_the_sample_app_and_the_stand_in_accept(params):
    pairs = [(name, value) for name, values in params.items() for value in (values if isinstance(values, list) else [values])]
    expected = webhook_signature(TOKEN, DOCS_URL, params)
    assert load_sample_app().twilio_signature(TOKEN, DOCS_URL, pairs) == expected
    assert standin_signature(TOKEN, DOCS_URL, params) == expected


def test_get_signature_covers_the_url_alone():
    url = DOCS_URL + '&CallSid=CA1'
    assert webhook_signature(TOKEN, url) == webhook_signature(TOKEN, url, {}) == standin_signature(TOKEN, url)


def test_webhook_params_are_those_twilio_sends():
    voice = webhook_params('voice', SID, '+14155550100', '+15005550006', sid_tag='0' * 32)
    assert voice == {'AccountSid': SID, 'ApiVersion': '2010-04-01', 'From': '+15005550006', 'To': '+14155550100',
                     'CallSid': 'CA' + '0' * 32, 'CallStatus': 'ringing', 'Direction': 'inbound', 'Caller': '+15005550006',
                     'Called': '+14155550100'}
    sms = webhook_params('sms', SID, '+14155550100', '+15005550006', body='hi')
    assert sms['Body'] == 'hi' and sms['MessageSid'] == sms['SmsSid'] == sms['SmsMessageSid']
    assert sms['MessageSid'].startswith('SM') and len(sms['MessageSid']) == 34
    assert webhook_params('sms', SID, '+1', '+2')['MessageSid'] != sms['MessageSid']


@pytest.mark.parametrize('text, expected', [
    ('<?xml version="1.0" encoding="UTF-8"?><Response><Say>Hello</Say></Response>', True),
    ('  <Response/>\n', True),
    ('<Response><Message>h\u00e9</Message></Response>', True),
    ('<response/>', False),
    ('<Twiml><Response/></Twiml>', False),
    ('{"ok": true}', False),
    ('', False),
    ('<Response>', False),
    ('<?xml version="1.0"?><!DOCTYPE r [<!ENTITY a "aaaa">]><Response>&a;</Response>', False),
    (None, False),
])
def test_is_twiml(text, expected):
    assert is_twiml(text) is expected


def test_signed_url_leaves_credentials_out():
    assert signed_url('https://user:pa55@app.example.com:8443/twilio/sms?x=1#top') == 'https://app.example.com:8443/twilio/sms?x=1'
    assert signed_url(DOCS_URL) == DOCS_URL
    assert url_password('https://user:pa55@app.example.com/') == 'pa55' and url_password(DOCS_URL) is None


def test_send_webhook_to_the_sample_app(sample_app):
    app = sample_app('web', TWILIO_AUTH_TOKEN=TOKEN)
    with Transport('', timeout=5, secrets=[TOKEN]) as transport:
        for kind in ('voice', 'sms'):
            found = send_webhook(transport, app + '/twilio/' + kind, 'POST', webhook_params(kind, SID, '+14155550100', '+15005550006'), TOKEN)
            assert found['status'] == 200 and found['twiml'] is True and found['error'] is None, found
            assert found['elapsed_ms'] >= 0 and found['method'] == 'POST' and found['url'] == app + '/twilio/' + kind
        refused = send_webhook(transport, app + '/twilio/sms', 'POST', webhook_params('sms', SID, '+1', '+2'), 'not-the-token')
    assert refused['status'] == 403 and refused['twiml'] is False
    assert refused['error'].startswith('HTTP 403: ') and 'invalid Twilio signature' in refused['error']


# ---------------------------------------------------------------------------- next_page_uri stays on the API's origin

from ansible_collections.clawd.ops.tests.unit.plugins.fake_http import Origin  # noqa: E402


def paged_api(next_page_uri):
    """A Twilio API whose first page of numbers points at ``next_page_uri(origin)``; later pages are empty."""
    def answer(method, path, headers, body):
        if 'PageToken' in path or path.startswith('/page2'):
            return 200, {}, {'incoming_phone_numbers': [{'sid': 'PN2', 'phone_number': '+15005550002'}], 'next_page_uri': None}
        return 200, {}, {'incoming_phone_numbers': [{'sid': 'PN1', 'phone_number': '+15005550001'}],
                         'next_page_uri': next_page_uri(api.origin)}
    api = Origin(answer)
    return api


@pytest.mark.parametrize('make_uri', [
    lambda api, other: other + '/2010-04-01/Accounts/%s/IncomingPhoneNumbers.json?PageToken=PA1' % SID,
    lambda api, other: '//' + other.split('//', 1)[1] + '/2010-04-01/IncomingPhoneNumbers.json?PageToken=PA1',
    lambda api, other: api.replace('http://', 'https://') + '/2010-04-01/IncomingPhoneNumbers.json?PageToken=PA1',
], ids=['absolute-elsewhere', 'scheme-relative', 'scheme-change'])
def test_next_page_uri_on_another_origin_is_not_followed(make_uri):
    with Origin() as other:
        with paged_api(lambda api: make_uri(api, other.origin)) as api:
            client = TwilioClient(SID, TOKEN, api.url, timeout=5, backoff_factor=0.01)
            with pytest.raises(TwilioError) as info:
                client.list_numbers()
            assert len(api.requests) == 1
        assert other.requests == [] and TOKEN not in other.everything()
    message = str(info.value)
    assert message.startswith('Failed to list the numbers of account %s: ' % SID) and 'another origin' in message
    assert api.origin in message and TOKEN not in message


@pytest.mark.parametrize('make_uri', [
    lambda api: '/page2/IncomingPhoneNumbers.json?PageToken=PA1',
    lambda api: api + '/page2/IncomingPhoneNumbers.json?PageToken=PA1',
], ids=['relative', 'absolute-same-origin'])
def test_next_page_uri_on_the_api_origin_is_followed(make_uri):
    with paged_api(make_uri) as api:
        numbers = TwilioClient(SID, TOKEN, api.url + '/', timeout=5).list_numbers()
    assert [n['sid'] for n in numbers] == ['PN1', 'PN2']
    assert api.requests[1]['path'] == '/page2/IncomingPhoneNumbers.json?PageToken=PA1'
    assert all(r['headers']['Authorization'].startswith('Basic ') for r in api.requests)


def test_next_page_uri_is_a_path_on_the_api_origin_even_when_it_looks_like_userinfo():
    """Appended to the API's address, ``@host:port/...`` would make the API's host a user name and send the credentials to host."""
    with Origin() as other:
        with paged_api(lambda api: '@' + other.origin.split('//', 1)[1] + '/2010-04-01/IncomingPhoneNumbers.json?PageToken=PA1') as api:
            numbers = TwilioClient(SID, TOKEN, api.url, timeout=5).list_numbers()
        assert other.requests == []
    assert [n['sid'] for n in numbers] == ['PN1', 'PN2'] and api.requests[1]['path'].startswith('/@127.0.0.1:')
