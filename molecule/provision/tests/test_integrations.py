# Copyright (c) 2026, clawd.ops contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Scenario provision: what the integrations role set up, seen from the stand-ins and the host.

The role checks the app the way Telegram and Twilio reach it, as on any server; what it cannot see
from there is checked here, at the stand-ins: the bot's reply to the role's /ping reached the Bot
API, and Twilio's own signed requests to the number's URLs are answered with TwiML.
"""

import hashlib
import json
import os

import pytest
import requests

testinfra_hosts = ['all']  # pylint: disable=invalid-name

NAME = 'molecule-provision'
STATE = os.environ['CLAWD_STATE']
HOST_DIR = os.path.join(STATE, 'hosts', NAME)
TELEGRAM = 'http://127.0.0.1:%s' % os.environ.get('CLAWD_PORT_TELEGRAM', '17002')
TWILIO = 'http://127.0.0.1:%s' % os.environ.get('CLAWD_PORT_TWILIO', '17003')
COOLIFY = 'http://127.0.0.1:%s/api/v1' % os.environ.get('CLAWD_PORT_COOLIFY', '17001')
APP_URL = 'https://%s.clawd.test' % NAME
# The chat the role's /ping comes from (converge.yml), where the bot replies.
SMOKE_CHAT_ID = 4242201


def secret(name):
    with open(os.path.join(STATE, 'secrets', name), encoding='utf-8') as handle:
        return handle.read().strip()


def bot_token():
    """The bot token of this scenario's host, as .config/molecule/config.yml derives it."""
    key = secret('telegram_bot_issuer_key')
    bot_id = 7200000000 + int(hashlib.md5(NAME.encode()).hexdigest()[:6], 16)  # nosec - not security
    return '%d:AA%s' % (bot_id, hashlib.sha256(('%s:%d' % (key, bot_id)).encode()).hexdigest()[:33])


def app_uuid():
    with open(os.path.join(HOST_DIR, 'coolify-app.json'), encoding='utf-8') as handle:
        return json.load(handle)['uuid']


def owned_number():
    sid = secret('twilio_account_sid')
    answer = requests.get('%s/2010-04-01/Accounts/%s/IncomingPhoneNumbers.json' % (TWILIO, sid), timeout=10,
                          params={'FriendlyName': 'clawd clawd-%s' % NAME}, auth=(sid, secret('twilio_auth_token')))
    assert answer.status_code == 200, answer.text
    numbers = answer.json()['incoming_phone_numbers']
    assert len(numbers) == 1, numbers
    return numbers[0]


def test_webhook_points_at_the_app_with_the_secret_and_no_error():
    answer = requests.get('%s/bot%s/getWebhookInfo' % (TELEGRAM, bot_token()), timeout=10).json()
    info = answer['result']
    assert info['url'] == APP_URL + '/telegram/webhook'
    assert info['pending_update_count'] == 0 and 'last_error_message' not in info, info
    assert sorted(info['allowed_updates']) == ['callback_query', 'message']
    bot_id = int(bot_token().split(':', maxsplit=1)[0])
    webhooks = requests.get(TELEGRAM + '/_lab/telegram/webhooks', timeout=10).json()
    assert webhooks[str(bot_id)]['secret_token_sha256'] == hashlib.sha256(secret('telegram_webhook_secret').encode()).hexdigest()


def test_the_bots_reply_to_the_roles_ping_reached_telegram():
    messages = requests.get(TELEGRAM + '/_lab/telegram/messages', timeout=10).json()
    replies = [m for m in messages if m['chat_id'] == SMOKE_CHAT_ID]
    # One reply per run of the role (converge, idempotence), each to the /ping with the right secret;
    # the /ping with a wrong secret was refused, so nothing answers it.
    assert replies, 'no message of the bot in chat %d' % SMOKE_CHAT_ID
    assert all(m['text'] == 'pong' and isinstance(m['reply_to_message_id'], int) for m in replies), replies


def test_the_number_hands_sms_and_calls_to_the_app():
    number = owned_number()
    assert number['sms_url'] == APP_URL + '/twilio/sms' and number['voice_url'] == APP_URL + '/twilio/voice'
    assert number['sms_method'] == 'POST' and number['voice_method'] == 'POST'
    assert number['capabilities']['sms'] and number['capabilities']['voice']


@pytest.mark.parametrize('kind, verb', [('sms', '<Message>'), ('voice', '<Say>')])
def test_twilio_signed_requests_to_the_number_are_answered_with_twiml(kind, verb):
    outcome = requests.post(TWILIO + '/_lab/twilio/callback', timeout=30,
                            json={'phone_number': owned_number()['phone_number'], 'kind': kind}).json()
    assert outcome['status'] == 200, outcome
    assert outcome['body'].lstrip().startswith('<?xml') and '<Response>' in outcome['body'] and verb in outcome['body'], outcome


def test_the_secrets_are_coolify_env_vars_and_the_app_runs_with_them(host):
    answer = requests.get('%s/applications/%s/envs' % (COOLIFY, app_uuid()), timeout=10,
                          headers={'Authorization': 'Bearer %s' % secret('coolify_api_token')})
    assert answer.status_code == 200
    env = {item['key']: item.get('real_value', item.get('value')) for item in answer.json()}
    assert env['TWILIO_AUTH_TOKEN'] == secret('twilio_auth_token')
    assert env['TELEGRAM_WEBHOOK_SECRET'] == secret('telegram_webhook_secret')
    assert env['TWILIO_PHONE_NUMBER'] == owned_number()['phone_number']
    cmd = host.run("python3 -c \"import docker; print('\\n'.join(docker.from_env().containers.get('%s-claudebox-web').attrs['Config']['Env']))\"" % NAME)
    assert cmd.rc == 0, cmd.stderr
    assert 'TWILIO_AUTH_TOKEN=%s' % secret('twilio_auth_token') in cmd.stdout.splitlines()


def test_the_audit_log_records_the_provisioning_without_secrets():
    with open(os.path.join(HOST_DIR, 'ledger.jsonl'), encoding='utf-8') as handle:
        text = handle.read()
    records = [json.loads(line) for line in text.splitlines() if line.strip()]
    provisions = [r for r in records if r['kind'] == 'provision']
    assert provisions and provisions[0]['phone_number'] == owned_number()['phone_number']
    assert provisions[0]['webhook_url'] == APP_URL + '/telegram/webhook'
    for name in ('telegram_webhook_secret', 'twilio_auth_token', 'coolify_api_token'):
        assert secret(name) not in text, name
    assert bot_token() not in text
