# Copyright (c) 2026, clawd.ops contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The twilio_webhook_probe module against the lab's sample app (in-process), and against a fake app that records
what it got and checks the signature with the Twilio stand-in's validator."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import base64

from urllib.parse import parse_qsl, urlsplit

import pytest

pytest.importorskip('requests')

# pylint: disable=wrong-import-position
from standins.twilio import signature  # noqa: E402 (lab/ is put on sys.path by tests/unit/conftest.py)

from ansible_collections.clawd.ops.tests.unit.plugins.fake_http import Origin  # noqa: E402
from ansible_collections.clawd.ops.tests.unit.plugins.modules.module_runner import run_main  # noqa: E402
from ansible_collections.clawd.ops.plugins.modules import twilio_webhook_probe  # noqa: E402

SID = 'AC' + '7e7e7e7e' * 4
TOKEN = 'probeTWILIOtoken-4b4b4b4b'
NUMBER = '+14155550100'
TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response><Say>hi</Say></Response>'


class FakeApp(Origin):
    """Answers every request with ``reply`` (status, body) when the signature is right, 403 otherwise; records each
    request with its form and whether it was signed right."""

    def __init__(self):
        self.reply = (200, TWIML)
        Origin.__init__(self, self.answer_callback)

    def answer_callback(self, method, path, headers, body):
        form = dict(parse_qsl(body.decode())) if body else {}
        url = self.url + path
        expected = signature(TOKEN, url, form) if method == 'POST' else signature(TOKEN, url)
        self.requests[-1].update(form=form, signed=headers.get('X-Twilio-Signature') == expected)
        status, text = self.reply if self.requests[-1]['signed'] else (403, '{"error": "invalid Twilio signature"}')
        return status, {'Content-Type': 'application/xml'}, text


@pytest.fixture(name='fake')
def fake_fixture():
    with FakeApp() as app:
        yield app


def run(results, **args):
    base = {'account_sid': SID, 'auth_token': TOKEN, 'phone_number': NUMBER, 'timeout': 5}
    base.update(args)
    code = run_main(twilio_webhook_probe.main, base)
    return code, results[-1]


def test_the_sample_app_answers_signed_calls_and_messages_with_twiml(sample_app, results):
    app = sample_app('web', TWILIO_AUTH_TOKEN=TOKEN)
    code, out = run(results, voice_url=app + '/twilio/voice', sms_url=app + '/twilio/sms')
    assert code == 0 and out['changed'] is False, out
    for kind in ('voice', 'sms'):
        assert out[kind]['status'] == 200 and out[kind]['twiml'] is True and out[kind]['error'] is None, out[kind]
        assert out[kind]['url'] == app + '/twilio/' + kind and out[kind]['method'] == 'POST' and out[kind]['elapsed_ms'] >= 0


def test_the_sample_app_refuses_another_token_and_the_token_is_never_shown(sample_app, results):
    app = sample_app('web', TWILIO_AUTH_TOKEN='the-apps-own-token')
    code, out = run(results, voice_url=app + '/twilio/voice', sms_url=app + '/twilio/sms')
    assert code == 1
    assert out['voice']['status'] == 403 and out['sms']['status'] == 403 and not out['voice']['twiml']
    assert out['msg'].startswith("Failed to hand the app the number's signed call to %s/twilio/voice: HTTP 403: " % app)
    assert 'signed message to %s/twilio/sms: HTTP 403' % app in out['msg']
    assert TOKEN not in repr(out)


def test_the_form_is_what_twilio_sends(fake, results):
    code, out = run(results, voice_url=fake.url + '/voice', sms_url=fake.url + '/sms', sms_body='ping?')
    assert code == 0, out
    voice, sms = fake.requests
    assert voice['signed'] and sms['signed']
    assert voice['method'] == sms['method'] == 'POST'
    assert voice['headers']['Content-Type'] == 'application/x-www-form-urlencoded'
    assert voice['form']['To'] == voice['form']['Called'] == NUMBER and voice['form']['AccountSid'] == SID
    assert voice['form']['From'] == '+15005550006' and voice['form']['CallStatus'] == 'ringing' and voice['form']['Direction'] == 'inbound'
    assert voice['form']['CallSid'].startswith('CA') and voice['form']['ApiVersion'] == '2010-04-01'
    assert sms['form']['Body'] == 'ping?' and sms['form']['MessageSid'].startswith('SM') and sms['form']['To'] == NUMBER


def test_get_carries_the_parameters_in_the_signed_url(fake, results):
    code, out = run(results, voice_url=fake.url + '/voice?tenant=1', voice_method='GET')
    assert code == 0, out
    request = fake.requests[0]
    assert request['method'] == 'GET' and request['signed'] and request['form'] == {}
    query = dict(parse_qsl(urlsplit(request['path']).query))
    assert query['tenant'] == '1' and query['To'] == NUMBER and query['CallSid'].startswith('CA')
    assert 'sms' not in out


def test_credentials_in_the_url_go_as_basic_auth_and_stay_out_of_the_signature_and_the_output(fake, results):
    code, out = run(results, sms_url=fake.url.replace('http://', 'http://twilio:pa55word@') + '/sms')
    assert code == 0, out
    request = fake.requests[0]
    assert request['signed']
    assert request['headers']['Authorization'] == 'Basic ' + base64.b64encode(b'twilio:pa55word').decode()
    assert 'pa55word' not in repr(out)


def test_200_without_twiml_fails(fake, results):
    fake.reply = (200, '{"ok": true}')
    code, out = run(results, sms_url=fake.url + '/sms')
    assert code == 1 and out['sms']['status'] == 200 and out['sms']['twiml'] is False
    assert 'HTTP 200 without TwiML' in out['sms']['error'] and '{"ok": true}' in out['msg']


def test_a_5xx_is_not_repeated(fake, results):
    fake.reply = (503, 'busy')
    code, out = run(results, voice_url=fake.url + '/voice')
    assert code == 1 and out['voice']['error'] == 'HTTP 503: busy'
    assert len(fake.requests) == 1


def test_an_empty_url_fails_without_a_request(fake, results):
    code, out = run(results, voice_url='', sms_url=fake.url + '/sms')
    assert code == 1 and out['voice']['error'] == 'no voice URL: the number hands its calls to nobody'
    assert out['sms']['error'] is None and len(fake.requests) == 1


def test_an_app_that_is_not_there(results):
    code, out = run(results, voice_url='http://127.0.0.1:9/voice', retries=0)
    assert code == 1 and out['voice']['status'] == 0 and 'connection error' in out['voice']['error']


def test_nothing_sent_in_check_mode(fake, results):
    code, out = run(results, voice_url=fake.url + '/voice', _ansible_check_mode=True)
    assert code == 0 and out['skipped'] is True and out['changed'] is False
    assert fake.requests == []


@pytest.mark.parametrize('args, text', [
    ({'voice_url': 'http://127.0.0.1:9/voice', 'phone_number': '4155550100'}, 'phone_number must be in E.164 form'),
    ({'voice_url': 'http://127.0.0.1:9/voice', 'from_number': 'me'}, 'from_number must be in E.164 form'),
    ({}, 'one of the following is required: voice_url, sms_url'),
])
def test_bad_options(results, args, text):
    code, out = run(results, **args)
    assert code == 1 and text in out['msg']


@pytest.mark.parametrize('userinfo', ['', 'twilio:hookPASS@'], ids=['signature', 'signature-and-basic-auth'])
def test_the_signature_and_credentials_never_follow_a_redirect_to_another_origin(results, userinfo):
    from ansible_collections.clawd.ops.tests.unit.plugins.fake_http import Origin, redirect_to
    with Origin() as other:
        with Origin(redirect_to(other.url + '/twilio/voice', 307)) as app:
            url = app.url.replace('http://', 'http://' + userinfo) + '/twilio/voice'
            args = {'account_sid': SID, 'auth_token': TOKEN, 'phone_number': NUMBER, 'voice_url': url, 'retries': 0}
            assert run_main(twilio_webhook_probe.main, args) == 1
        assert 'X-Twilio-Signature' in app.requests[0]['headers']
        assert other.requests == []
    out = results[-1]
    assert out['failed'] and 'another origin' in out['msg'] and other.origin in out['msg']
    assert 'hookPASS' not in repr(out) and TOKEN not in repr(out)
