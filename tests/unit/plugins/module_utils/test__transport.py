# Copyright (c) 2026, clawd.ops contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The shared HTTP transport against the lab's real stand-ins (Coolify, Telegram, Twilio) on loopback."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import importlib.util
import socket
import sys
import time
import traceback

import pytest

requests = pytest.importorskip('requests')

# pylint: disable=wrong-import-position
from standins.coolify import CoolifyStandIn  # noqa: E402 (lab/ is put on sys.path by tests/unit/conftest.py)
from standins.telegram import TelegramStandIn  # noqa: E402
from standins.twilio import TwilioStandIn  # noqa: E402

from ansible_collections.clawd.ops.plugins.module_utils import _transport  # noqa: E402
from ansible_collections.clawd.ops.plugins.module_utils._transport import Transport, TransportError  # noqa: E402

TG_TOKEN = '123456:AAHsecretTELEGRAMtoken_0123456789-xyz'
COOLIFY_TOKEN = '3|coolifySECRETtokenForUnitTests'
TW_SID = 'AC' + '0123456789abcdef' * 2
TW_TOKEN = 'twilioAUTHsecret0123456789abcdef'
FAST = {'backoff_factor': 0.01, 'backoff_max': 0.05, 'timeout': 5}


@pytest.fixture(name='coolify_server', scope='module')
def coolify_server_fixture():
    with CoolifyStandIn(config={'tokens': [{'token': COOLIFY_TOKEN, 'abilities': ['root']}]}).serve_in_thread() as running:
        yield running


@pytest.fixture(name='telegram_server', scope='module')
def telegram_server_fixture():
    with TelegramStandIn(config={'tokens': [{'token': TG_TOKEN, 'username': 'clawd_lab_bot'}]}).serve_in_thread() as running:
        yield running


@pytest.fixture(name='coolify')
def coolify_fixture(coolify_server):
    lab(coolify_server, 'POST', 'reset')
    return coolify_server


@pytest.fixture(name='telegram')
def telegram_fixture(telegram_server):
    lab(telegram_server, 'POST', 'reset')
    return telegram_server


@pytest.fixture(name='fresh_coolify')
def fresh_coolify_fixture():
    """A server of its own, for tests that leave a slow answer pending after they end."""
    with CoolifyStandIn(config={'tokens': [{'token': COOLIFY_TOKEN, 'abilities': ['root']}]}).serve_in_thread() as running:
        yield running


def lab(running, method, what, **kwargs):
    resp = requests.request(method, '%s/_lab/%s' % (running.url, what), timeout=5, **kwargs)
    assert resp.status_code < 300, resp.text
    return resp.json()


def fault(running, **spec):
    return lab(running, 'POST', 'faults', json=spec)


def answered(running):
    """Statuses of the service requests the stand-in saw, per /_lab/requests (None = no answer)."""
    return [entry['status'] for entry in lab(running, 'GET', 'requests')]


def coolify_transport(running, **kwargs):
    options = dict(FAST)
    options.update(kwargs)
    return Transport(running.url + '/api/v1', headers={'Authorization': 'Bearer ' + COOLIFY_TOKEN}, **options)


def telegram_transport(running, **kwargs):
    options = dict(FAST, retry_after_from_body=_transport.telegram_retry_after, secrets=(TG_TOKEN,))
    options.update(kwargs)
    return Transport(running.url + '/bot' + TG_TOKEN, **options)


def everything_about(exc):
    """All text an error could leak through: message, repr, body, args, and how a traceback shows it."""
    return '\n'.join([str(exc), repr(exc), str(exc.body), repr(exc.args), ''.join(traceback.format_exception_only(type(exc), exc))])


def free_port():
    sock = socket.socket()
    sock.bind(('127.0.0.1', 0))
    port = sock.getsockname()[1]
    sock.close()
    return port


# --------------------------------------------------------------------------- 429 and Retry-After


def test_429_retry_after_is_honoured(coolify, retry_sleeps):
    fault(coolify, mode='429', retry_after=1)
    answer = coolify_transport(coolify).get('version')
    assert answer.status == 200 and answer.text == '4.3.10'
    assert answered(coolify) == [429, 200]
    # The wait urllib3 asked for is Retry-After's second, not the backoff's hundredths.
    assert retry_sleeps == [1]


def test_retry_after_is_capped(coolify, retry_sleeps):
    fault(coolify, mode='429', retry_after=30)
    answer = coolify_transport(coolify, retry_after_max=0.3).get('version')
    assert answer.status == 200
    assert answered(coolify) == [429, 200]
    assert retry_sleeps == [0.3]


def test_429_exhausts_budget(coolify):
    fault(coolify, mode='429', retry_after=0, count=10)
    with pytest.raises(TransportError) as info:
        coolify_transport(coolify, retries=2).get('version')
    assert info.value.status == 429
    assert 'HTTP 429' in str(info.value)
    assert answered(coolify) == [429, 429, 429]


def test_telegram_body_retry_after_is_honoured(telegram, retry_sleeps):
    fault(telegram, mode='429', retry_after=1, match='sendMessage')
    answer = telegram_transport(telegram).post('sendMessage', json={'chat_id': 42, 'text': 'deploy done'})
    assert answer.json()['ok'] is True
    assert answered(telegram) == [429, 200]
    assert retry_sleeps == [1]
    assert lab(telegram, 'GET', 'telegram/messages') == [{'chat_id': 42, 'text': 'deploy done', 'reply_to_message_id': None}]


def test_telegram_body_retry_after_is_capped(telegram):
    fault(telegram, mode='429', retry_after=40)
    started = time.monotonic()
    answer = telegram_transport(telegram, retry_after_max=0.3).get('getMe')
    assert answer.status == 200
    assert time.monotonic() - started < 3
    assert answered(telegram) == [429, 200]


def test_telegram_body_retry_after_uses_the_same_budget(telegram):
    fault(telegram, mode='429', retry_after=0, count=10)
    with pytest.raises(TransportError) as info:
        telegram_transport(telegram, retries=2).get('getMe')
    assert info.value.status == 429
    assert answered(telegram) == [429, 429, 429]


def test_telegram_retry_after_helper():
    class Fake:
        """Just enough of a TransportResponse."""

        def __init__(self, body):
            self.body = body

        def json(self):
            if self.body is None:
                raise _transport.InvalidJSONError('not json')
            return self.body

    assert _transport.telegram_retry_after(Fake({'ok': False, 'parameters': {'retry_after': 5}})) == 5
    assert _transport.telegram_retry_after(Fake({'ok': False})) is None
    assert _transport.telegram_retry_after(Fake({'parameters': {'retry_after': True}})) is None
    assert _transport.telegram_retry_after(Fake(None)) is None


# --------------------------------------------------------------------------- 5xx, methods, backoff


def test_503_retried_then_success(coolify):
    fault(coolify, mode='5xx', status=503, count=2)
    assert coolify_transport(coolify).get('version').text == '4.3.10'
    assert answered(coolify) == [503, 503, 200]


@pytest.mark.parametrize('status', [502, 503, 504])
def test_5xx_retried_then_exhausted(coolify, status):
    fault(coolify, mode='5xx', status=status, count=10)
    with pytest.raises(TransportError) as info:
        coolify_transport(coolify, retries=2).get('version')
    assert info.value.status == status
    assert 'HTTP %d' % status in str(info.value)
    assert 'Server Error' in info.value.body
    assert answered(coolify) == [status] * 3


def test_500_is_not_retried(coolify):
    fault(coolify, mode='5xx', status=500, count=10)
    with pytest.raises(TransportError) as info:
        coolify_transport(coolify).get('version')
    assert info.value.status == 500
    assert answered(coolify) == [500]


def test_post_not_retried_on_503(telegram):
    fault(telegram, mode='5xx', status=503)
    with pytest.raises(TransportError) as info:
        telegram_transport(telegram).post('sendMessage', json={'chat_id': 1, 'text': 'once'})
    assert info.value.status == 503
    assert answered(telegram) == [503]


def test_post_retried_on_503_when_caller_says_safe(telegram):
    fault(telegram, mode='5xx', status=503)
    answer = telegram_transport(telegram).post('sendMessage', json={'chat_id': 1, 'text': 'safe'}, retry=True)
    assert answer.status == 200
    assert answered(telegram) == [503, 200]


def test_post_retried_on_429_with_retry_after_header(coolify):
    fault(coolify, mode='429', retry_after=0)
    answer = coolify_transport(coolify).post('version', expected=None)
    # The stand-in's /version knows GET only; what matters is that the POST was sent twice.
    assert answer.status == 404
    assert answered(coolify) == [429, 404]


def test_post_retried_on_429_without_body_hook(telegram):
    fault(telegram, mode='429', retry_after=0)
    answer = telegram_transport(telegram, retry_after_from_body=None).post('sendMessage', json={'chat_id': 1, 'text': 'x'})
    assert answer.status == 200
    assert answered(telegram) == [429, 200]


def test_retry_false_disables_retrying_a_get(coolify):
    fault(coolify, mode='5xx', status=503)
    with pytest.raises(TransportError):
        coolify_transport(coolify).get('version', retry=False)
    assert answered(coolify) == [503]


def test_retry_statuses_limits_what_is_retried(coolify):
    fault(coolify, mode='5xx', status=503)
    with pytest.raises(TransportError):
        coolify_transport(coolify, retry_statuses=(429,)).get('version')
    assert answered(coolify) == [503]


def test_backoff_is_capped(coolify):
    fault(coolify, mode='5xx', status=502, count=3)
    started = time.monotonic()
    answer = coolify_transport(coolify, backoff_factor=20, backoff_max=0.1).get('version')
    assert answer.status == 200
    # Uncapped, the second and third waits alone would be 20 s and 40 s.
    assert time.monotonic() - started < 2
    assert answered(coolify) == [502, 502, 502, 200]


# --------------------------------------------------------------------------- connection errors and timeouts


def test_dropped_connection_retried_for_get(coolify):
    fault(coolify, mode='drop')
    assert coolify_transport(coolify).get('version').status == 200
    assert answered(coolify) == [None, 200]


def test_dropped_connection_not_retried_for_post(telegram):
    fault(telegram, mode='drop')
    with pytest.raises(TransportError) as info:
        telegram_transport(telegram).post('sendMessage', json={'chat_id': 1, 'text': 'x'})
    assert info.value.status is None
    assert 'connection' in str(info.value)
    assert answered(telegram) == [None]


def test_reset_connection_exhausts_retries(coolify):
    fault(coolify, mode='reset', count=10)
    with pytest.raises(TransportError) as info:
        coolify_transport(coolify, retries=1).get('version')
    assert info.value.status is None
    assert answered(coolify) == [None, None]


def test_connection_refused():
    transport = Transport('http://127.0.0.1:%d/api/v1' % free_port(), retries=1, **FAST)
    with pytest.raises(TransportError) as info:
        transport.get('version')
    assert info.value.status is None
    assert info.value.body is None
    assert 'refused' in str(info.value).lower()
    assert str(info.value).startswith('GET http://127.0.0.1:')


def test_read_timeout(fresh_coolify):
    fault(fresh_coolify, mode='slow', delay=1.5)
    started = time.monotonic()
    with pytest.raises(TransportError) as info:
        coolify_transport(fresh_coolify, timeout=0.25, retries=0).get('version')
    assert time.monotonic() - started < 1.2
    assert 'no answer within 0.25 seconds' in str(info.value)
    assert info.value.status is None


def test_read_timeout_retried_for_get(fresh_coolify):
    fault(fresh_coolify, mode='slow', delay=1.5)
    started = time.monotonic()
    assert coolify_transport(fresh_coolify, timeout=0.25).get('version').status == 200
    assert time.monotonic() - started < 1.2


def test_read_timeout_not_retried_for_post(fresh_coolify):
    fault(fresh_coolify, mode='slow', delay=1.5)
    with pytest.raises(TransportError) as info:
        coolify_transport(fresh_coolify, timeout=0.25).post('version')
    assert 'no answer within' in str(info.value)


# --------------------------------------------------------------------------- redaction


def assert_no_token(exc, *secrets):
    text = everything_about(exc)
    for secret in secrets or (TG_TOKEN,):
        assert secret not in text
        assert requests.utils.quote(secret, safe='') not in text
    assert exc.__cause__ is None and exc.__context__ is None


@pytest.mark.parametrize('declared', [True, False])
def test_token_not_in_error_after_dropped_connection(telegram, declared):
    # requests puts the full URL (with the token) into the exception it raises after retries.
    fault(telegram, mode='drop', count=10)
    transport = telegram_transport(telegram, retries=1, secrets=(TG_TOKEN,) if declared else ())
    with pytest.raises(TransportError) as info:
        transport.get('getMe')
    assert '/bot***/getMe' in str(info.value)
    assert_no_token(info.value)


def test_token_not_in_error_after_reset_or_refused(telegram):
    fault(telegram, mode='reset')
    with pytest.raises(TransportError) as info:
        telegram_transport(telegram).post('sendMessage', json={'chat_id': 1, 'text': 'x'})
    assert_no_token(info.value)
    refused = Transport('http://127.0.0.1:%d/bot%s' % (free_port(), TG_TOKEN), secrets=(TG_TOKEN,), retries=0, **FAST)
    with pytest.raises(TransportError) as info:
        refused.get('getMe')
    assert_no_token(info.value)


def test_token_not_in_error_after_timeout(fresh_coolify):
    transport = Transport(fresh_coolify.url + '/api/v1', headers={'Authorization': 'Bearer ' + COOLIFY_TOKEN},
                          timeout=0.25, retries=0, backoff_factor=0.01)
    fault(fresh_coolify, mode='slow', delay=1)
    with pytest.raises(TransportError) as info:
        transport.get('version', params={'token': COOLIFY_TOKEN})
    assert_no_token(info.value, COOLIFY_TOKEN)


def test_token_not_in_error_for_unexpected_status(telegram):
    # The echoed message text carries the token: the body excerpt must be redacted too.
    with pytest.raises(TransportError) as info:
        telegram_transport(telegram).post('sendMessage', json={'chat_id': 1, 'text': 'leak ' + TG_TOKEN}, expected=(201,))
    assert info.value.status == 200
    assert 'leak ***' in info.value.body
    assert_no_token(info.value)


def test_twilio_basic_auth_and_redaction():
    config = {'accounts': [{'sid': TW_SID, 'auth_token': TW_TOKEN}]}
    with TwilioStandIn(config=config).serve_in_thread() as running:
        good = Transport(running.url + '/2010-04-01', auth=(TW_SID, TW_TOKEN), **FAST)
        assert good.get('Accounts/%s.json' % TW_SID).json()['status'] == 'active'
        bad = Transport(running.url + '/2010-04-01', auth=(TW_SID, 'wrongSECRET'), **FAST)
        with pytest.raises(TransportError) as info:
            bad.get('Accounts/%s.json' % TW_SID, params={'echo': 'wrongSECRET'})
        assert info.value.status == 401
        assert '20003' in info.value.body
        assert_no_token(info.value, 'wrongSECRET')
        assert good.redact('token=%s' % TW_TOKEN) == 'token=***'


def test_redact():
    transport = Transport('http://127.0.0.1:1/bot' + TG_TOKEN, secrets=(TG_TOKEN, 'p@ss word'))
    text = 'url /bot%s/getMe q=%s form=%s pw=p@ss word enc=%s' % (
        TG_TOKEN, requests.utils.quote(TG_TOKEN, safe=''), TG_TOKEN.replace(':', '%3A'), 'p%40ss+word')
    redacted = transport.redact(text)
    assert TG_TOKEN not in redacted and 'p@ss' not in redacted and 'p%40ss' not in redacted
    assert redacted.count('***') == 5
    assert transport.redact(None) is None
    assert TG_TOKEN not in repr(transport)
    # Even undeclared, a bot token in a URL path is redacted.
    assert _transport.redact('GET https://api.telegram.org/bot%s/getMe' % TG_TOKEN) == 'GET https://api.telegram.org/bot***/getMe'


# --------------------------------------------------------------------------- responses and import guard


def test_response_object(coolify):
    transport = coolify_transport(coolify)
    answer = transport.get('nothing-here', expected=None)
    assert answer.status == 404
    assert answer.json()['message'] == 'Not found.'
    assert answer.headers['content-type'] == 'application/json'
    text_answer = transport.get('version')
    with pytest.raises(ValueError):
        text_answer.json()
    with pytest.raises(TransportError) as info:
        text_answer.json()
    assert '4.3.10' in str(info.value)
    assert transport.get('version', expected=200).text == '4.3.10'
    assert 'User-Agent' in lab(coolify, 'GET', 'requests')[0]['headers']
    assert lab(coolify, 'GET', 'requests')[0]['headers']['User-Agent'] == 'clawd.ops'


def test_without_requests(monkeypatch):
    monkeypatch.setitem(sys.modules, 'requests', None)
    spec = importlib.util.spec_from_file_location('_transport_without_requests', _transport.__file__)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert module.HAS_REQUESTS is False
    assert 'ImportError' in module.REQUESTS_IMPORT_ERROR or 'ModuleNotFoundError' in module.REQUESTS_IMPORT_ERROR
    with pytest.raises(module.TransportError):
        module.Transport('http://127.0.0.1:1')
    assert _transport.HAS_REQUESTS is True and _transport.REQUESTS_IMPORT_ERROR is None


# --------------------------------------------------------------------------- redirects: credentials stay with their origin

from ansible_collections.clawd.ops.tests.unit.plugins.fake_http import Origin, redirect_to  # noqa: E402

CREDENTIAL_HEADERS = {'Authorization': 'Bearer ' + COOLIFY_TOKEN, 'X-Telegram-Bot-Api-Secret-Token': 'hookSECRET-1',
                      'X-Custom-Key': 'customSECRET-2'}


@pytest.fixture(name='elsewhere')
def elsewhere_fixture():
    """The other origin: records everything it is sent."""
    with Origin() as other:
        yield other


def assert_nothing_secret(other, *secrets):
    seen = other.everything()
    for secret in secrets + tuple(CREDENTIAL_HEADERS.values()) + (TG_TOKEN, TW_TOKEN, COOLIFY_TOKEN):
        assert secret not in seen
    for request in other.requests:
        assert not set(h.lower() for h in request['headers']) & {'authorization', 'x-telegram-bot-api-secret-token', 'x-custom-key'}


@pytest.mark.parametrize('status', [301, 302, 303, 307, 308])
def test_redirect_to_another_origin_fails_naming_both(elsewhere, status):
    with Origin(redirect_to(elsewhere.url + '/landing', status)) as api:
        transport = Transport(api.url + '/api/v1', headers=CREDENTIAL_HEADERS, **FAST)
        with pytest.raises(TransportError) as info:
            transport.post('deploy', json={'uuid': 'x'}, retry=True)
    message = str(info.value)
    assert api.origin in message and elsewhere.origin in message and 'another origin' in message
    assert 'HTTP %d' % status in message
    assert elsewhere.requests == []
    assert_no_token(info.value, COOLIFY_TOKEN)


def test_redirect_to_another_origin_with_basic_auth_fails(elsewhere):
    with Origin(redirect_to(elsewhere.url + '/2010-04-01/Accounts.json')) as api:
        transport = Transport(api.url + '/2010-04-01', auth=(TW_SID, TW_TOKEN), **FAST)
        with pytest.raises(TransportError) as info:
            transport.get('Accounts.json')
    assert elsewhere.origin in str(info.value) and elsewhere.requests == []
    assert api.requests[0]['headers']['Authorization'].startswith('Basic ')


def test_redirect_to_another_origin_stripped_when_asked(elsewhere):
    with Origin(redirect_to(elsewhere.url + '/health', 302)) as app:
        transport = Transport('', headers=CREDENTIAL_HEADERS, auth=('user', 'basicPASS'), secret_headers=('X-Custom-Key',),
                              cross_origin_redirects='strip', **FAST)
        answer = transport.get(app.url + '/health', headers={'X-Telegram-Bot-Api-Secret-Token': 'perREQUEST'})
    assert answer.status == 200 and len(elsewhere.requests) == 1
    assert app.requests[0]['headers']['X-Custom-Key'] == 'customSECRET-2'
    assert_nothing_secret(elsewhere, 'basicPASS', 'perREQUEST')


def test_a_header_holding_a_secret_is_a_credential(elsewhere):
    with Origin(redirect_to(elsewhere.url + '/x')) as app:
        transport = Transport('', headers={'X-Signature': 'sig-of-hookSECRET'}, secrets=('hookSECRET',),
                              cross_origin_redirects='strip', **FAST)
        assert transport.get(app.url + '/x').status == 200
    assert 'hookSECRET' not in elsewhere.everything() and 'X-Signature' not in elsewhere.requests[0]['headers']


def test_a_secret_in_the_new_url_is_never_sent_to_another_origin(elsewhere):
    with Origin(redirect_to(lambda path: elsewhere.url + path)) as api:
        transport = telegram_transport(api, cross_origin_redirects='strip')
        with pytest.raises(TransportError) as info:
            transport.get('getMe')
    assert elsewhere.requests == [] and 'another origin' in str(info.value)
    assert_no_token(info.value)


def test_a_body_holding_a_secret_is_not_sent_again_to_another_origin(elsewhere):
    with Origin(redirect_to(elsewhere.url + '/setWebhook', 307)) as api:
        transport = Transport(api.url, secrets=('webhookSECRET',), cross_origin_redirects='strip', **FAST)
        with pytest.raises(TransportError) as info:
            transport.post('setWebhook', json={'url': 'https://x', 'secret_token': 'webhookSECRET'})
    assert elsewhere.requests == [] and 'another origin' in str(info.value)


def test_same_origin_redirect_keeps_credentials():
    def answer(method, path, headers, body):
        if path == '/api/v1/old':
            return 308, {'Location': '/api/v1/new'}, b''
        return 200, {}, {'path': path, 'auth': headers.get('Authorization')}

    with Origin(answer) as api:
        transport = Transport(api.url + '/api/v1', headers=CREDENTIAL_HEADERS, **FAST)
        body = transport.get('old').json()
    assert body == {'path': '/api/v1/new', 'auth': 'Bearer ' + COOLIFY_TOKEN}


def test_another_port_on_the_same_host_is_another_origin(elsewhere):
    assert elsewhere.url.rsplit(':', 1)[0] == 'http://127.0.0.1'
    with Origin(redirect_to(elsewhere.url + '/x')) as api:
        with pytest.raises(TransportError):
            Transport(api.url, headers=CREDENTIAL_HEADERS, **FAST).get('x')
    assert elsewhere.requests == []


def test_redirect_without_credentials_is_followed_anywhere(elsewhere):
    with Origin(redirect_to(elsewhere.url + '/health', 301)) as app:
        answer = Transport('', **FAST).get(app.url + '/health')
    assert answer.status == 200 and elsewhere.requests[0]['path'] == '/health'


def test_absolute_url_to_another_origin_refused_with_credentials(elsewhere):
    with Origin() as api:
        transport = Transport(api.url + '/2010-04-01', auth=(TW_SID, TW_TOKEN), **FAST)
        with pytest.raises(TransportError) as info:
            transport.get(elsewhere.url + '/2010-04-01/Accounts.json')
        assert api.origin in str(info.value) and elsewhere.origin in str(info.value)
        assert transport.get(api.url + '/2010-04-01/Accounts.json').status == 200
    assert elsewhere.requests == []


@pytest.mark.parametrize('one, other, same', [
    ('https://api.example.com/x', 'https://API.example.com:443/y', True),
    ('http://api.example.com/x', 'http://api.example.com:80', True),
    ('https://api.example.com/x', 'http://api.example.com/x', False),
    ('https://api.example.com/x', 'https://api.example.com:8443/x', False),
    ('https://api.example.com/x', 'https://api.example.com.evil.test/x', False),
    ('https://api.example.com/x', 'https://api.example.com@evil.test/x', False),
])
def test_origin(one, other, same):
    assert (_transport.origin(one) == _transport.origin(other)) is same


def test_cross_origin_redirects_option_is_checked():
    with pytest.raises(TransportError):
        Transport('http://127.0.0.1:1', cross_origin_redirects='follow')


@pytest.mark.parametrize('target, refused', [
    ('http://api.example.com/next', True),         # https -> http on the same host: a downgrade, another origin
    ('https://api.example.com:8443/next', True),   # another port
    ('https://api.example.com:443/next', False),   # the same origin, the default port spelled out
    ('https://API.example.com/next', False),
])
def test_a_downgrade_to_http_on_the_same_host_is_another_origin(target, refused):
    """The hop check itself, as the session calls it before each redirect is sent (no TLS server needed)."""
    transport = Transport('https://api.example.com', headers={'Authorization': 'Bearer ' + COOLIFY_TOKEN})
    previous = requests.Request('GET', 'https://api.example.com/start', headers={'Authorization': 'Bearer ' + COOLIFY_TOKEN}).prepare()
    response = requests.Response()
    response.status_code, response.request = 301, previous
    following = previous.copy()
    following.url = target
    if refused:
        with pytest.raises(_transport._CrossOriginRedirect) as info:  # pylint: disable=protected-access
            transport._check_redirect(following, response)  # pylint: disable=protected-access
        assert info.value.source == 'https://api.example.com' and info.value.target == _transport.origin_text(target)
    else:
        transport._check_redirect(following, response)  # pylint: disable=protected-access
        assert following.headers['Authorization'] == 'Bearer ' + COOLIFY_TOKEN


# --------------------------------------------------------------------------- the options and the ending of every HTTP module


def test_spec_holds_the_module_options_and_the_transport_options():
    spec = _transport.transport_argument_spec(url=dict(type='str', required=True))
    assert spec == {
        'url': {'type': 'str', 'required': True},
        'timeout': {'type': 'float', 'default': 10},
        'validate_certs': {'type': 'bool', 'default': True},
        'ca_path': {'type': 'path'},
        'retries': {'type': 'int', 'default': 3},
    }
    assert _transport.transport_argument_spec()['timeout'] is not spec['timeout']  # each module gets its own dicts


@pytest.mark.parametrize('validate_certs, ca_path, verify', [(True, None, True), (True, '/etc/ca.pem', '/etc/ca.pem'), (False, '/etc/ca.pem', False)])
def test_transport_options_from_params(validate_certs, ca_path, verify):
    params = {'validate_certs': validate_certs, 'ca_path': ca_path, 'timeout': 2.5, 'retries': 1, 'url': 'https://x'}
    assert _transport.transport_options(params) == {'timeout': 2.5, 'retries': 1, 'verify': verify}


class FakeModule(object):
    def __init__(self):
        self.failed = None

    def fail_json(self, **kwargs):
        self.failed = kwargs


def test_require_requests_fails_naming_the_library_only_when_it_is_missing(monkeypatch):
    module = FakeModule()
    _transport.require_requests(module)
    assert module.failed is None
    monkeypatch.setattr(_transport, 'HAS_REQUESTS', False)
    monkeypatch.setattr(_transport, 'REQUESTS_IMPORT_ERROR', 'Traceback: no module named requests')
    _transport.require_requests(module)
    assert 'requests' in module.failed['msg'] and 'clawd.ops.server_setup' in module.failed['msg']
    assert module.failed['exception'] == 'Traceback: no module named requests'


def test_every_client_error_is_a_service_error():
    from ansible_collections.clawd.ops.plugins.module_utils._coolify import CoolifyError
    from ansible_collections.clawd.ops.plugins.module_utils._telegram import TelegramError
    from ansible_collections.clawd.ops.plugins.module_utils._twilio import TwilioError
    errors = [
        CoolifyError('Failed to read application a: HTTP 404: Not found.', status=404, api_message='Not found.'),
        TelegramError('HTTP 400: Bad Request: chat not found', status=400, description='Bad Request: chat not found', error_code=400),
        TwilioError('Failed to buy a number: HTTP 400: Twilio error 21452: No numbers', status=400, code=21452,
                    more_info='https://www.twilio.com/docs/errors/21452'),
        _transport.TransportError('GET / failed: connection error (refused)'),
    ]
    assert all(isinstance(e, _transport.ServiceError) for e in errors)
    assert [(e.status, e.vendor_code) for e in errors] == [(404, None), (400, 400), (400, 21452), (None, None)]
    assert errors[0].api_message == 'Not found.' and errors[1].description == 'Bad Request: chat not found'
    assert errors[2].code == 21452 and errors[2].more_info.endswith('21452')


def test_fail_with_is_the_one_ending():
    from ansible_collections.clawd.ops.plugins.module_utils._twilio import TwilioError
    module = FakeModule()
    _transport.fail_with(module, TwilioError('Failed to buy a number: HTTP 400: Twilio error 21452: none', status=400, code=21452),
                         changed=False, action='none')
    assert module.failed == {'msg': 'Failed to buy a number: HTTP 400: Twilio error 21452: none', 'status_code': 400, 'vendor_code': 21452,
                             'changed': False, 'action': 'none'}
    _transport.fail_with(module, _transport.TransportError('GET / failed: connection error (refused)'), msg='Failed to probe: refused',
                         webhook={'url': ''})
    assert module.failed == {'msg': 'Failed to probe: refused', 'status_code': None, 'webhook': {'url': ''}}
    _transport.fail_with(module, msg='App at https://app/health is not healthy: app: failed', status_code=503, http_status=503)
    assert module.failed == {'msg': 'App at https://app/health is not healthy: app: failed', 'status_code': 503, 'http_status': 503}
