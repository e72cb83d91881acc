# -*- coding: utf-8 -*-
# Copyright (c) 2026, clawd.ops contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function
__metaclass__ = type

# Telegram Bot API client (webhook methods and getMe) and the webhook comparison.
#
# Private to the collection. The client speaks the Bot API envelope over the shared Transport:
# the token travels only in the URL path, which the Transport redacts (/bot***/); every failure
# becomes a TelegramError whose message is "HTTP <code>: <description>" or the Transport's own
# (redacted) account of a network failure. The pure helpers below validate webhook parameters
# as Telegram does and compare a WebhookInfo with what a module wants.

import datetime
import ipaddress
import json
import os
import re

from urllib.parse import urlsplit

from ansible_collections.clawd.ops.plugins.module_utils._transport import (
    ServiceError,
    Transport,
    TransportError,
    redact,
    telegram_retry_after,
    transport_argument_spec,
)

API_URL = 'https://api.telegram.org'
# Update types in Telegram's own order (Bot API 8.0).
UPDATE_TYPES = (
    'message', 'edited_message', 'channel_post', 'edited_channel_post', 'business_connection', 'business_message',
    'edited_business_message', 'deleted_business_messages', 'message_reaction', 'message_reaction_count', 'inline_query',
    'chosen_inline_result', 'callback_query', 'shipping_query', 'pre_checkout_query', 'purchased_paid_media', 'poll',
    'poll_answer', 'my_chat_member', 'chat_member', 'chat_join_request', 'chat_boost', 'removed_chat_boost',
)
# The subscription of an empty allowed_updates list, which getWebhookInfo leaves out.
DEFAULT_UPDATES = tuple(t for t in UPDATE_TYPES if t not in ('chat_member', 'message_reaction', 'message_reaction_count'))
WEBHOOK_PORTS = (443, 80, 88, 8443)
DEFAULT_MAX_CONNECTIONS = 40
SECRET_TOKEN_RE = re.compile(r'^[A-Za-z0-9_-]{1,256}$')
TOKEN_RE = re.compile(r'^[0-9]+:[A-Za-z0-9_-]+$')
ALREADY_SET = 'Webhook is already set'
# Fields of the webhook a module manages, in the order of a diff.
MANAGED_FIELDS = ('url', 'max_connections', 'ip_address', 'allowed_updates', 'has_custom_certificate')


def telegram_options(**options):
    """The bot's token and the Bot API's URL (doc fragment clawd.ops.telegram), with ``options``, as an argument spec."""
    return dict(bot_token=dict(type='str', required=True, no_log=True), api_url=dict(type='str', default=API_URL), **options)


def telegram_argument_spec(**options):
    """The options every telegram_* module takes (doc fragments clawd.ops.telegram and clawd.ops.transport) and its own."""
    return transport_argument_spec(**telegram_options(**options))


class TelegramError(ServiceError):
    """A Bot API call failed; ``message`` holds no token. ``status`` is the HTTP status (None: no answer),
    ``vendor_code`` the envelope's ``error_code``, ``description`` (``vendor_message``) its ``description``."""

    def __init__(self, message, status=None, description=None, error_code=None):
        super(TelegramError, self).__init__(message, status=status, vendor_code=error_code, vendor_message=description)

    @property
    def description(self):
        """Telegram's ``description`` of the refusal (redacted), or None."""
        return self.vendor_message


class TelegramClient:
    """The Bot API of one bot: ``call()`` and the webhook methods. ``secrets`` are redacted from every message."""

    def __init__(self, token, api_url=API_URL, timeout=10, retries=3, verify=True, secrets=(), **transport_options):
        self.token = token
        self.bot_id = token.split(':', 1)[0] if ':' in token else None
        self._secrets = tuple(s for s in (token,) + tuple(secrets) if s)
        self._transport = Transport(api_url, timeout=timeout, retries=retries, verify=verify, secrets=self._secrets,
                                    retry_after_from_body=telegram_retry_after, **transport_options)

    def redact(self, text):
        """``text`` without the token or any other secret of this client."""
        return redact(text, self._secrets)

    def call(self, method, params=None, files=None, retry=True, timeout=None):
        """Call a Bot API method; return ``(result, description)`` or raise TelegramError.

        Reads and webhook settings end the same however often they are sent, so by default 502/503/504
        and dropped connections are retried as well as 429; ``retry=False`` (a message sent) repeats a
        call only after a 429, which Telegram did not carry out. ``timeout``: seconds for this call only.
        """
        path = '/bot%s/%s' % (self.token, method)
        extra = {'timeout': timeout} if timeout is not None else {}
        try:
            if files:
                response = self._transport.post(path, data=_form(params or {}), files=files, retry=retry, expected=None, **extra)
            else:
                response = self._transport.post(path, json=params or {}, retry=retry, expected=None, **extra)
        except TransportError as exc:
            raise TelegramError(self.redact(str(exc)), status=exc.status)
        try:
            body = response.json()
        except ValueError as exc:
            raise TelegramError(self.redact(str(exc)), status=response.status)
        if not isinstance(body, dict) or body.get('ok') is not True:
            body = body if isinstance(body, dict) else {}
            description = self.redact(str(body.get('description') or 'no description'))
            error_code = body.get('error_code') if isinstance(body.get('error_code'), int) and not isinstance(body.get('error_code'), bool) else None
            code = response.status if error_code is None else error_code
            raise TelegramError('HTTP %d: %s' % (code, description), status=response.status, description=description,
                                error_code=error_code)
        return body.get('result'), body.get('description')

    def get_me(self):
        """The bot's User object."""
        return self.call('getMe')[0]

    def get_webhook_info(self):
        """The WebhookInfo object, as Telegram sends it."""
        return self.call('getWebhookInfo')[0]

    def set_webhook(self, url, certificate=None, ip_address=None, max_connections=None, allowed_updates=None,
                    drop_pending_updates=False, secret_token=None):
        """setWebhook; ``certificate`` is a file path (uploaded as multipart). Returns Telegram's description."""
        params = {'url': url}
        for name, value in (('ip_address', ip_address), ('max_connections', max_connections),
                            ('allowed_updates', allowed_updates), ('secret_token', secret_token)):
            if value is not None:
                params[name] = value
        if drop_pending_updates:
            params['drop_pending_updates'] = True
        files = None
        if certificate is not None:
            try:
                with open(certificate, 'rb') as handle:
                    files = {'certificate': (os.path.basename(certificate), handle.read(), 'application/x-pem-file')}
            except (IOError, OSError) as exc:
                raise TelegramError('cannot read the certificate %s: %s' % (certificate, exc.strerror or exc))
        return self.call('setWebhook', params, files=files)[1]

    def delete_webhook(self, drop_pending_updates=False):
        """deleteWebhook; returns Telegram's description."""
        params = {'drop_pending_updates': True} if drop_pending_updates else {}
        return self.call('deleteWebhook', params)[1]

    def send_message(self, chat_id, text, reply_markup=None):
        """sendMessage (not repeated after a dropped connection: the message may have gone); returns the Message."""
        params = {'chat_id': chat_id, 'text': text}
        if reply_markup is not None:
            params['reply_markup'] = reply_markup
        return self.call('sendMessage', params, retry=False)[0]

    def get_updates(self, offset=None, timeout=0, allowed_updates=None, limit=None):
        """getUpdates, long polling for up to ``timeout`` seconds; updates below ``offset`` are confirmed (forgotten)."""
        params = {'timeout': int(timeout)}
        if offset is not None:
            params['offset'] = offset
        if allowed_updates is not None:
            params['allowed_updates'] = list(allowed_updates)
        if limit is not None:
            params['limit'] = limit
        # The HTTP call outlives the long poll by a margin.
        return self.call('getUpdates', params, timeout=int(timeout) + 10)[0]

    def answer_callback_query(self, callback_query_id, text=None, show_alert=False):
        """answerCallbackQuery: the notification the pressing user sees."""
        params = {'callback_query_id': callback_query_id}
        if text:
            params['text'] = text
        if show_alert:
            params['show_alert'] = True
        return self.call('answerCallbackQuery', params)[0]

    def edit_message_text(self, chat_id, message_id, text, reply_markup=None):
        """editMessageText of a message the bot sent; returns the edited Message."""
        params = {'chat_id': chat_id, 'message_id': message_id, 'text': text}
        if reply_markup is not None:
            params['reply_markup'] = reply_markup
        return self.call('editMessageText', params)[0]

    def describe_bot(self, username=None):
        """How errors name the bot: ``bot @username`` when known, else ``bot <id>`` (the id is no secret)."""
        if username:
            return 'bot @%s' % username
        return 'bot %s' % (self.bot_id or '(unknown id)')

    def close(self):
        """Close the HTTP session."""
        self._transport.close()


def _form(params):
    """Parameters for a form or multipart body: arrays as JSON text, booleans as true/false."""
    form = {}
    for name, value in params.items():
        if isinstance(value, bool):
            form[name] = 'true' if value else 'false'
        elif isinstance(value, (list, tuple, dict)):
            form[name] = json.dumps(list(value) if isinstance(value, tuple) else value)
        else:
            form[name] = str(value)
    return form


# ---------------------------------------------------------------------- validation and comparison


def validate_token(token):
    """A message when ``token`` does not look like ``<digits>:<letters>``, else None (the message never holds it)."""
    if not token or not TOKEN_RE.match(token):
        return 'bot_token does not look like a Telegram bot token (<digits>:<letters, digits, _ and ->)'
    return None


def validate_webhook(url=None, secret_token=None, max_connections=None, ip_address=None, allowed_updates=None):
    """What Telegram would refuse (or quietly change) in these webhook settings: a list of messages, empty when fine."""
    errors = []
    if url is not None:
        errors.extend(_url_errors(url))
    if secret_token is not None and not SECRET_TOKEN_RE.match(secret_token):
        errors.append('secret_token must be 1 to 256 characters from A-Z, a-z, 0-9, _ and - (got %d characters%s)'
                      % (len(secret_token), '' if len(secret_token) > 256 or not secret_token
                         else ', some of them not allowed'))
    if max_connections is not None and not 1 <= max_connections <= 100:
        errors.append('max_connections must be from 1 to 100, not %d' % max_connections)
    if ip_address is not None:
        try:
            if ipaddress.ip_address(ip_address).version != 4:
                errors.append('ip_address must be an IPv4 address, not %s' % ip_address)
        except ValueError:
            errors.append('ip_address %r is not an IP address' % ip_address)
    if allowed_updates is not None:
        unknown = sorted(set(allowed_updates) - set(UPDATE_TYPES))
        if unknown:
            errors.append('allowed_updates has unknown update types %s (Telegram would ignore them); known types: %s'
                          % (', '.join(unknown), ', '.join(UPDATE_TYPES)))
    return errors


def _url_errors(url):
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        return ['url %r is not a valid URL: %s' % (url, exc)]
    if parts.scheme != 'https':
        return ['url must be an HTTPS URL, not %r' % url]
    if not parts.hostname:
        return ['url %r has no host name' % url]
    if port is not None and port not in WEBHOOK_PORTS:
        return ['url %r uses port %d: Telegram delivers webhooks only to ports 443, 80, 88 and 8443' % (url, port)]
    return []


def iso_time(timestamp):
    """A Unix time as ISO 8601 text in UTC, or None."""
    if not timestamp:
        return None
    return datetime.datetime.fromtimestamp(int(timestamp), datetime.timezone.utc).isoformat().replace('+00:00', 'Z')


def normalise_info(info):
    """A WebhookInfo with every field present: defaults filled in, allowed_updates as a sorted list, times also as ISO text."""
    info = info or {}
    url = info.get('url') or ''
    allowed = info.get('allowed_updates')
    result = {
        'url': url,
        'has_custom_certificate': bool(info.get('has_custom_certificate')),
        'pending_update_count': int(info.get('pending_update_count') or 0),
        'ip_address': info.get('ip_address') if url else None,
        'max_connections': info.get('max_connections', DEFAULT_MAX_CONNECTIONS) if url else None,
        'allowed_updates': sorted(allowed) if allowed else sorted(DEFAULT_UPDATES),
        'last_error_date': info.get('last_error_date'),
        'last_error_date_iso': iso_time(info.get('last_error_date')),
        'last_error_message': info.get('last_error_message'),
        'last_synchronization_error_date': info.get('last_synchronization_error_date'),
        'last_synchronization_error_date_iso': iso_time(info.get('last_synchronization_error_date')),
    }
    return result


def desired_webhook(url, max_connections=None, ip_address=None, allowed_updates=None, certificate=None):
    """The managed fields a module asks for; None = not managed (left as it is)."""
    return {
        'url': url,
        'max_connections': max_connections,
        'ip_address': ip_address,
        'allowed_updates': None if allowed_updates is None else sorted(set(allowed_updates or DEFAULT_UPDATES)),
        'has_custom_certificate': certificate is not None,
    }


def webhook_changes(current, desired):
    """``{field: (current, desired)}`` for each managed field that differs (``current`` from normalise_info)."""
    changes = {}
    for field in MANAGED_FIELDS:
        want = desired.get(field)
        if want is None:
            continue
        have = current.get(field)
        if field == 'max_connections' and not current['url']:
            have = None
        if field == 'ip_address' and not current['url']:
            have = None
        if have != want:
            changes[field] = (have, want)
    return changes


def predict(current, changes):
    """The normalised WebhookInfo expected once ``changes`` are applied."""
    predicted = dict(current)
    for field, (_have, want) in changes.items():
        predicted[field] = want
    if 'url' in changes and not current['url'] and predicted['max_connections'] is None:
        predicted['max_connections'] = DEFAULT_MAX_CONNECTIONS
    return predicted


def diff_view(info):
    """The managed fields of a normalised WebhookInfo, for diff mode."""
    return dict((field, info.get(field)) for field in MANAGED_FIELDS)


def probe_update(text, chat_id, message_id, now):
    """The Update Telegram would POST to a webhook for a private message (what the bot probes send)."""
    return {
        'update_id': 800000000 + message_id % 100000000,
        'message': {
            'message_id': message_id, 'date': int(now), 'text': text,
            'chat': {'id': chat_id, 'type': 'private'},
            'from': {'id': chat_id, 'is_bot': False, 'first_name': 'clawd.ops probe'},
        },
    }
