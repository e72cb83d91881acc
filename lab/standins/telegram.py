# Copyright (c) 2026, clawd.ops contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Stand-in for the Telegram Bot API (see /work/shared/specs/telegram-bot-api-webhooks.md).

Configuration: a list of bots, or an object ``{"tokens": [...], ...settings}``. A bot is
``{"token": "123456:ABC...", "username": "clawd_lab_bot", "id": 123456, "first_name": "..."}``
(``id`` defaults to the number before the colon). Settings (all optional):

* ``ca_file``: PEM file of the CA that signs the webhooks' certificates (the lab CA);
* ``hosts_file``: a file in /etc/hosts format naming the lab hosts, read again at each delivery;
* ``delivery_timeout``: seconds to wait for a webhook's answer (default 10);
* ``set_webhook_interval``: seconds between two non-empty setWebhook calls of a bot (default 1,
  as Telegram; a quicker call gets 429 with ``retry_after`` 1).

Methods: getMe, setWebhook, deleteWebhook, getWebhookInfo, getUpdates (409 while a webhook is
set; ``offset`` confirms earlier updates, ``limit``, ``timeout`` long polling, ``allowed_updates``),
sendMessage (``reply_markup`` with an inline keyboard), answerCallbackQuery, editMessageText.
Parameters come as query string, form, multipart (certificate upload) or JSON.

Lab endpoints: ``GET/DELETE /_lab/telegram/messages`` (what sendMessage sent),
``GET /_lab/telegram/webhooks`` (webhook state per bot id, the secret as a sha256 only), and
``POST /_lab/telegram/deliver`` ``{"token_id": <bot id> | "username": "...", "update": {...}}``
(or ``"text"`` [+ ``"chat_id"``] instead of ``update`` for a Message update): the update is POSTed
to the bot's webhook as Telegram does (secret header, pending updates first, failures recorded in
getWebhookInfo, a reply carrying a method executed). Deliveries go to loopback addresses only.
``POST /_lab/telegram/revoke`` ``{"token": "..."}`` does what BotFather's /revoke does: the token
answers 401 Unauthorized from then on and ``{"token": "<new>"}`` serves the same bot (its webhook
stays); ``POST /_lab/telegram/unrevoke`` ``{"token_id": <bot id>}`` undoes the revocations of a bot
(a test's cleanup). Both are kept in the state.
``POST /_lab/telegram/press`` ``{"token_id": <bot id>, "chat_id": ..., "message_id": ..., "data": "<callback_data>",
"user": {"id": ..., "username": ...}}`` presses an inline button of a message the bot sent, as that user: a
``callback_query`` update joins the bot's queue (getUpdates, or the webhook's next delivery).
``GET /_lab/telegram/sent`` lists the messages bots sent with their ids, reply markup and edits.
"""

import hashlib
import hmac
import http
import http.client
import ipaddress
import json
import re
import secrets as secrets_module
import socket
import ssl
import threading
import time
from urllib.parse import urlsplit

from .framework import StandIn, json_response, route

TOKEN_RE = re.compile(r"^[0-9]+:[A-Za-z0-9_-]+$")
SECRET_RE = re.compile(r"^[A-Za-z0-9_-]+$")
SECRET_MAX = 256
WEBHOOK_PORTS = (443, 80, 88, 8443)
DEFAULT_MAX_CONNECTIONS = 40
# Update types in Telegram's own order (Bot API 8.0).
UPDATE_TYPES = (
    "message", "edited_message", "channel_post", "edited_channel_post", "business_connection", "business_message",
    "edited_business_message", "deleted_business_messages", "message_reaction", "message_reaction_count", "inline_query",
    "chosen_inline_result", "callback_query", "shipping_query", "pre_checkout_query", "purchased_paid_media", "poll",
    "poll_answer", "my_chat_member", "chat_member", "chat_join_request", "chat_boost", "removed_chat_boost",
)
# What an empty allowed_updates list (and the initial state) subscribes to.
DEFAULT_UPDATES = tuple(t for t in UPDATE_TYPES if t not in ("chat_member", "message_reaction", "message_reaction_count"))
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
# getUpdates: at most this many seconds of long polling per call (Telegram suggests up to 50), and the limit range.
MAX_POLL_SECONDS = 50
UPDATES_LIMIT = 100
CALLBACK_DATA_MAX = 64
NOT_MODIFIED = ("message is not modified: specified new message content and reply markup are exactly the same as a current "
                "content and reply markup of the message")
QUERY_INVALID = "query is too old and response timeout expired or query ID is invalid"


def ok(result, description=None):
    """A Bot API success envelope."""
    body = {"ok": True, "result": result}
    if description is not None:
        body["description"] = description
    return json_response(body)


def error(code, description, parameters=None, headers=None):
    """A Bot API failure envelope; the HTTP status equals error_code."""
    body = {"ok": False, "error_code": code, "description": description}
    if parameters:
        body["parameters"] = parameters
    return json_response(body, code, headers)


def too_many_requests(retry_after):
    """Telegram's flood-control answer."""
    return error(429, "Too Many Requests: retry after %d" % retry_after, {"retry_after": retry_after})


class BadRequest(Exception):
    """A parameter Telegram refuses; the text follows "Bad Request: "."""


def new_webhook():
    """The webhook state of a bot that never set one."""
    return {
        "url": "", "certificate": None, "ip_address": None, "resolved_ip": None, "max_connections": DEFAULT_MAX_CONNECTIONS,
        "allowed_updates": None, "secret_token": "", "pending": [], "last_error_date": None, "last_error_message": None,
        "last_synchronization_error_date": None,
    }


class TelegramStandIn(StandIn):
    """Bot API: ``/bot<token>/<method>`` over GET or POST."""

    name = "telegram"
    secret_headers = StandIn.secret_headers + ("x-telegram-bot-api-secret-token",)
    # The token travels in the URL path: /bot<token>/<method>. Masked whether configured or not.
    secret_patterns = ((r"(/bot)[^/?#\s\"']+", r"\1***"),)

    def configure(self, config):
        settings = config if isinstance(config, dict) else {}
        bots = settings.get("tokens", settings.get("bots", [])) if isinstance(config, dict) else config
        self.bots = {}
        for bot in bots or ():
            token = str(bot["token"])
            if not TOKEN_RE.match(token):
                raise ValueError("telegram: token for %s does not look like <digits>:<letters>" % bot.get("username", "a bot"))
            self.bots[token] = {
                "id": int(bot.get("id") or token.split(":", 1)[0]),
                "is_bot": True,
                "first_name": bot.get("first_name", "Clawd Lab Bot"),
                "username": bot.get("username", "clawd_lab_bot"),
            }
        # Like BotFather, the lab issues a bot per host: a token <id>:AA<33 hex> is valid when the
        # hex is the start of sha256("<key>:<id>") (so each lab host can have its own bot).
        self.token_issuer_key = settings.get("token_issuer_key") or None
        self.ca_file = settings.get("ca_file") or None
        self.hosts_file = settings.get("hosts_file") or None
        self.delivery_timeout = float(settings.get("delivery_timeout", 10))
        self.set_webhook_interval = float(settings.get("set_webhook_interval", 1))
        self.methods = {
            "getme": self.get_me,
            "sendmessage": self.send_message,
            "setwebhook": self.set_webhook,
            "deletewebhook": self.delete_webhook,
            "getwebhookinfo": self.get_webhook_info,
            "getupdates": self.get_updates,
            "answercallbackquery": self.answer_callback_query,
            "editmessagetext": self.edit_message_text,
        }
        self._updates_arrived = threading.Condition(self.lock)
        self._delivery_lock = threading.Lock()
        self._next_set_time = {}

    def secrets(self):
        secrets = list(self.bots) + list(getattr(self, "reissued", {}))
        with self.lock:
            for webhook in getattr(self, "webhooks", {}).values():
                if webhook.get("secret_token"):
                    secrets.append(webhook["secret_token"])
        return tuple(secrets)

    def reset_state(self):
        self.messages = []
        self.next_message_id = 1
        self.webhooks = {}
        self.next_update_id = 10000
        self._next_set_time = {}
        self.revoked = {}     # sha256 of a revoked token -> bot id
        self.reissued = {}    # token BotFather-style /revoke gave -> bot
        self.sent = {}
        self.callback_queries = {}
        self.next_query_id = 1

    def export_state(self):
        return {"revoked": self.revoked, "reissued": self.reissued, "messages": self.messages, "next_message_id": self.next_message_id,
                "webhooks": self.webhooks,
                "next_update_id": self.next_update_id, "sent": self.sent, "callback_queries": self.callback_queries,
                "next_query_id": self.next_query_id}

    def import_state(self, data):
        self.messages = list(data.get("messages", []))
        self.next_message_id = int(data.get("next_message_id", 1))
        self.webhooks = {}
        for bot_id, webhook in (data.get("webhooks") or {}).items():
            state = new_webhook()
            state.update({k: v for k, v in webhook.items() if k in state})
            self.webhooks[str(bot_id)] = state
        self.next_update_id = int(data.get("next_update_id", 10000))
        self.revoked = dict(data.get("revoked") or {})
        self.reissued = dict(data.get("reissued") or {})
        self.sent = dict(data.get("sent") or {})
        self.callback_queries = dict(data.get("callback_queries") or {})
        self.next_query_id = int(data.get("next_query_id", 1))

    def webhook(self, bot):
        """The webhook state of a bot (created on first use)."""
        return self.webhooks.setdefault(str(bot["id"]), new_webhook())

    # ------------------------------------------------------------------ error shapes

    def not_found(self, request):
        return error(404, "Not Found")

    def method_not_allowed(self, request, allowed):
        return error(405, "Method Not Allowed", headers={"Allow": ", ".join(allowed)})

    def rate_limited(self, retry_after):
        return too_many_requests(retry_after)

    def server_error(self, status):
        return error(status, http.HTTPStatus(status).phrase)

    # ------------------------------------------------------------------ API

    @route(("GET", "POST"), r"/bot(?P<token>[^/]*)/(?P<method>[^/]*)")
    def api_call(self, request):
        """Authenticate the token, then call the method (names are case-insensitive)."""
        bot = self._bot_for_token(request.args["token"])
        if bot is None:
            return error(401, "Unauthorized")
        method = self.methods.get(request.args["method"].lower())
        if method is None:
            return error(404, "Not Found")
        try:
            params = request.params()
        except ValueError:
            return error(400, "Bad Request: can't parse JSON object")
        try:
            return method(bot, params)
        except BadRequest as exc:
            return error(400, "Bad Request: %s" % exc)

    def get_me(self, bot, _params):
        """getMe: the bot's User object."""
        user = dict(bot)
        user.update({
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        })
        return ok(user)

    def send_message(self, bot, params):
        """sendMessage: chat_id and text required; the message is recorded for /_lab/telegram/messages."""
        chat_id = _chat_id(params.get("chat_id"))
        if chat_id in (None, ""):
            return error(400, "Bad Request: chat_id is empty")
        text = params.get("text")
        if not isinstance(text, str) or not text.strip():
            return error(400, "Bad Request: message text is empty")
        reply_to = _reply_to(params)
        markup = _reply_markup(params.get("reply_markup"))
        message = {
            "message_id": self.next_message_id,
            "from": dict(bot),
            "chat": {"id": chat_id, "type": "private"},
            "date": int(time.time()),
            "text": text,
        }
        if markup:
            message["reply_markup"] = markup
        self.next_message_id += 1
        self.messages.append({"chat_id": chat_id, "text": text, "reply_to_message_id": reply_to})
        self.sent[_sent_key(bot, chat_id, message["message_id"])] = dict(message)
        return ok(message)

    def edit_message_text(self, bot, params):
        """editMessageText of a message the bot sent to chat_id: the edited Message ("message is not modified" if same)."""
        if params.get("inline_message_id"):
            raise BadRequest("MESSAGE_ID_INVALID")
        chat_id = _chat_id(params.get("chat_id"))
        if chat_id in (None, ""):
            raise BadRequest("chat_id is empty")
        try:
            message_id = int(params.get("message_id"))
        except (TypeError, ValueError):
            raise BadRequest("message identifier is not specified") from None
        text = params.get("text")
        if not isinstance(text, str) or not text.strip():
            raise BadRequest("message text is empty")
        markup = _reply_markup(params.get("reply_markup"))
        message = self.sent.get(_sent_key(bot, chat_id, message_id))
        if message is None:
            raise BadRequest("message to edit not found")
        if text == message["text"] and (markup or None) == (message.get("reply_markup") or None):
            raise BadRequest(NOT_MODIFIED)
        message["text"] = text
        message["edit_date"] = int(time.time())
        if markup and markup.get("inline_keyboard"):
            message["reply_markup"] = markup
        else:
            message.pop("reply_markup", None)
        message.setdefault("edits", 0)
        message["edits"] += 1
        return ok({k: v for k, v in message.items() if k != "edits"})

    def answer_callback_query(self, bot, params):
        """answerCallbackQuery: True once per query of this bot (a query answered or unknown is "too old")."""
        query_id = _text(params.get("callback_query_id"))
        if not query_id:
            raise BadRequest("query_id is empty" if "callback_query_id" not in params else "QUERY_ID_INVALID")
        query = self.callback_queries.get(query_id)
        if query is None or query["bot_id"] != bot["id"] or query["answered"]:
            raise BadRequest(QUERY_INVALID)
        text = params.get("text")
        if text is not None and len(str(text)) > 200:
            raise BadRequest("MESSAGE_TOO_LONG")
        query["answered"] = True
        query["answer"] = {"text": None if text is None else str(text), "show_alert": _bool(params.get("show_alert"))}
        return ok(True)

    def set_webhook(self, bot, params):
        """setWebhook: validate, then "Webhook was set" or "Webhook is already set" (an empty url deletes)."""
        url = _text(params.get("url"))
        secret = _secret_token(params.get("secret_token"))
        drop = _bool(params.get("drop_pending_updates"))
        if not url:
            return self._delete(bot, drop)
        _check_webhook_url(url)
        max_connections = _max_connections(params.get("max_connections"))
        ip_address = _ip_address(params.get("ip_address"))
        allowed = _allowed_updates(params.get("allowed_updates"))
        certificate = params.get("certificate")
        # A certificate given as a string is not an upload: Telegram ignores it.
        certificate = certificate if isinstance(certificate, dict) else None

        now = time.monotonic()
        key = str(bot["id"])
        if now < self._next_set_time.get(key, 0):
            return too_many_requests(1)
        if self.set_webhook_interval > 0:
            self._next_set_time[key] = now + self.set_webhook_interval

        webhook = self.webhook(bot)
        if allowed is not None:
            webhook["allowed_updates"] = allowed or None
        same = (url == webhook["url"] and max_connections == webhook["max_connections"] and ip_address == webhook["ip_address"]
                and secret == webhook["secret_token"] and webhook["certificate"] is None and certificate is None and not drop)
        if same:
            return ok(True, "Webhook is already set")
        webhook.update({
            "url": url,
            "certificate": certificate["content"].decode("ascii", "replace") if certificate else None,
            "ip_address": ip_address,
            "resolved_ip": ip_address or self._lookup(urlsplit(url).hostname),
            "max_connections": max_connections,
            "secret_token": secret,
            "last_error_date": None,
            "last_error_message": None,
        })
        if drop:
            webhook["pending"] = []
        return ok(True, "Webhook was set")

    def delete_webhook(self, bot, params):
        """deleteWebhook: "Webhook was deleted" or "Webhook is already deleted"."""
        return self._delete(bot, _bool(params.get("drop_pending_updates")))

    def _delete(self, bot, drop):
        webhook = self.webhook(bot)
        if drop:
            webhook["pending"] = []
        if not webhook["url"]:
            return ok(True, "Webhook is already deleted")
        webhook.update({"url": "", "certificate": None, "ip_address": None, "resolved_ip": None,
                        "max_connections": DEFAULT_MAX_CONNECTIONS, "secret_token": ""})
        return ok(True, "Webhook was deleted")

    def get_webhook_info(self, bot, _params):
        """getWebhookInfo: WebhookInfo, optional fields omitted as Telegram does."""
        webhook = self.webhook(bot)
        info = {"url": webhook["url"], "has_custom_certificate": webhook["certificate"] is not None,
                "pending_update_count": len(webhook["pending"])}
        if webhook["url"]:
            info["ip_address"] = webhook["ip_address"] or webhook["resolved_ip"] or "<unknown>"
        if webhook["last_error_date"]:
            info["last_error_date"] = webhook["last_error_date"]
            info["last_error_message"] = webhook["last_error_message"]
        if webhook["last_synchronization_error_date"]:
            info["last_synchronization_error_date"] = webhook["last_synchronization_error_date"]
        if webhook["url"]:
            info["max_connections"] = webhook["max_connections"]
        if webhook["allowed_updates"] is not None:
            info["allowed_updates"] = list(webhook["allowed_updates"])
        return ok(info)

    def get_updates(self, bot, params):
        """getUpdates: 409 while a webhook is set. An ``offset`` confirms (forgets) every update below it, a negative one
        keeps the last -offset; up to ``limit`` updates (1-100) of the ``allowed_updates`` types, waiting up to ``timeout``
        seconds for one (long polling, the lock released while waiting)."""
        webhook = self.webhook(bot)
        if webhook["url"]:
            return error(409, "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to delete the webhook first")
        offset = _int_param(params.get("offset"), 0)
        limit = min(max(_int_param(params.get("limit"), UPDATES_LIMIT), 1), UPDATES_LIMIT)
        timeout = min(max(_int_param(params.get("timeout"), 0), 0), MAX_POLL_SECONDS)
        allowed = _allowed_updates(params.get("allowed_updates"))
        if allowed is not None:
            webhook["allowed_updates"] = allowed or None
        deadline = time.monotonic() + timeout
        while True:
            if offset > 0:
                webhook["pending"] = [u for u in webhook["pending"] if int(u.get("update_id", 0)) >= offset]
            elif offset < 0:
                webhook["pending"] = webhook["pending"][offset:]
            wanted = webhook["allowed_updates"] or DEFAULT_UPDATES
            updates = [u for u in webhook["pending"] if any(t in u for t in wanted)][:limit]
            remaining = deadline - time.monotonic()
            if updates or remaining <= 0:
                return ok(updates)
            self._updates_arrived.wait(remaining)

    # ------------------------------------------------------------------ lab

    @route("GET", r"/_lab/telegram/messages")
    def lab_messages(self, _request):
        """Messages sent with sendMessage: list of {chat_id, text, reply_to_message_id}."""
        with self.lock:
            return json_response(list(self.messages))

    @route("DELETE", r"/_lab/telegram/messages")
    def lab_clear_messages(self, _request):
        """Forget the sent messages."""
        with self.lock:
            count = len(self.messages)
            self.messages = []
        return json_response({"cleared": count})

    @route("GET", r"/_lab/telegram/webhooks")
    def lab_webhooks(self, _request):
        """Webhook state by bot id; the secret only as its sha256, certificates only as a flag."""
        with self.lock:
            data = {}
            for bot_id, webhook in self.webhooks.items():
                entry = {k: v for k, v in webhook.items() if k not in ("secret_token", "certificate", "pending")}
                entry["has_custom_certificate"] = webhook["certificate"] is not None
                entry["pending_update_count"] = len(webhook["pending"])
                entry["secret_token_sha256"] = (hashlib.sha256(webhook["secret_token"].encode()).hexdigest()
                                                if webhook["secret_token"] else None)
                data[bot_id] = entry
        return json_response(data)

    @route("POST", r"/_lab/telegram/deliver")
    def lab_deliver(self, request):
        """Deliver one update (after the pending ones) to a bot's webhook, as Telegram does; return the outcome."""
        try:
            data = request.json()
        except ValueError:
            return json_response({"error": "body is not JSON"}, 400)
        if not isinstance(data, dict):
            return json_response({"error": "body must be a JSON object"}, 400)
        bot = self._find_bot(data)
        if bot is None:
            return json_response({"error": "no such bot (give token_id or username)"}, 404)
        with self._delivery_lock:
            with self.lock:
                webhook = self.webhook(bot)
                if not webhook["url"]:
                    return json_response({"error": "bot %s has no webhook" % bot["id"]}, 409)
                update = data.get("update")
                if update is None:
                    update = self._message_update(data)
                if not isinstance(update, dict):
                    return json_response({"error": "update must be a JSON object"}, 400)
                update = dict(update)
                if "update_id" not in update:
                    update["update_id"] = self.next_update_id
                self.next_update_id = max(self.next_update_id, int(update["update_id"])) + 1
                target = {k: webhook[k] for k in ("url", "ip_address", "secret_token", "certificate")}
            host = urlsplit(target["url"]).hostname
            ip = target["ip_address"] or self._lookup(host)
            if ip is not None and not _is_loopback(ip):
                return json_response({"error": "refusing to deliver to %s (%s): not a loopback address" % (host, ip)}, 403)
            with self.lock:
                webhook["pending"].append(update)
                queue = list(webhook["pending"])
            outcome = None
            delivered = []
            for item in queue:
                outcome = self._post_update(target, ip, item)
                if outcome["error"] is not None:
                    break
                delivered.append(item["update_id"])
                outcome["method_result"] = self._run_reply_method(bot, outcome["body"])
            with self.lock:
                if webhook["url"] == target["url"]:
                    webhook["pending"] = [u for u in webhook["pending"] if u.get("update_id") not in delivered]
                    if ip is not None:
                        webhook["resolved_ip"] = ip
                    if outcome["error"] is not None:
                        webhook["last_error_date"] = int(time.time())
                        webhook["last_error_message"] = outcome["error"]
                pending = len(webhook["pending"])
                self._save_state()
        outcome.update({"ok": outcome["error"] is None, "update_id": update["update_id"], "delivered": len(delivered),
                        "pending_update_count": pending})
        return json_response(outcome)

    @route("GET", r"/_lab/telegram/sent")
    def lab_sent(self, _request):
        """Messages bots sent (sendMessage), as Message objects with their reply markup and edits, in order."""
        with self.lock:
            return json_response(sorted(self.sent.values(), key=lambda m: m["message_id"]))

    @route("POST", r"/_lab/telegram/press")
    def lab_press(self, request):
        """Press an inline button of a message a bot sent, as a given user: a callback_query update for the bot."""
        try:
            data = request.json()
        except ValueError:
            return json_response({"error": "body is not JSON"}, 400)
        if not isinstance(data, dict):
            return json_response({"error": "body must be a JSON object"}, 400)
        user = data.get("user") if isinstance(data.get("user"), dict) else {"id": data.get("user_id")}
        if not isinstance(user.get("id"), int) or isinstance(user.get("id"), bool):
            return json_response({"error": "user.id (an integer) is required"}, 400)
        with self.lock:
            bot = self._find_bot(data)
            if bot is None:
                return json_response({"error": "no such bot (give token_id or username)"}, 404)
            message = self.sent.get(_sent_key(bot, _chat_id(data.get("chat_id")), data.get("message_id")))
            if message is None:
                missing = "bot %s sent no message %s to chat %s" % (bot["id"], data.get("message_id"), data.get("chat_id"))
                return json_response({"error": missing}, 404)
            buttons = [b for row in (message.get("reply_markup") or {}).get("inline_keyboard", []) for b in row]
            if not any(b.get("callback_data") == data.get("data") for b in buttons):
                return json_response({"error": "message %s has no button with callback_data %r" % (message["message_id"], data.get("data"))}, 409)
            query_id = "%d%08d" % (bot["id"] % 100000, self.next_query_id)
            self.next_query_id += 1
            sender = {"id": user["id"], "is_bot": False, "first_name": str(user.get("first_name") or user.get("username") or "Lab user")}
            if user.get("username"):
                sender["username"] = str(user["username"])
            update = {"update_id": self.next_update_id, "callback_query": {
                "id": query_id, "from": sender, "message": {k: v for k, v in message.items() if k != "edits"},
                "chat_instance": str(int(hashlib.sha1(("%s:%s" % (bot["id"], message["chat"]["id"])).encode()).hexdigest()[:15], 16)), "data": data["data"],
            }}
            self.next_update_id += 1
            self.callback_queries[query_id] = {"bot_id": bot["id"], "answered": False, "answer": None}
            self.webhook(bot)["pending"].append(update)
            self._updates_arrived.notify_all()
            self._save_state()
        return json_response({"ok": True, "update_id": update["update_id"], "callback_query_id": query_id})

    @route("GET", r"/_lab/telegram/callback_queries")
    def lab_callback_queries(self, _request):
        """Callback queries by id: whether the bot answered them, and how."""
        with self.lock:
            return json_response(dict(self.callback_queries))

    def _issued_token(self, bot_id):
        digest = hashlib.sha256(("%s:%s" % (self.token_issuer_key, bot_id)).encode("utf-8")).hexdigest()
        return "%s:AA%s" % (bot_id, digest[:33])

    @route("POST", r"/_lab/telegram/revoke")
    def lab_revoke(self, request):
        """BotFather's /revoke: the token is refused from now on; a new token serves the same bot."""
        data = _json_object(request)
        token = str(data.get("token", ""))
        bot = self._bot_for_token(token) if token else None
        if bot is None:
            return json_response({"error": "no such token (or already revoked)"}, 404)
        self.revoked[hashlib.sha256(token.encode("utf-8")).hexdigest()] = bot["id"]
        self.reissued.pop(token, None)
        new = "%s:AA%s" % (bot["id"], secrets_module.token_urlsafe(25)[:33])
        self.reissued[new] = dict(bot)
        return json_response({"token": new})

    @route("POST", r"/_lab/telegram/unrevoke")
    def lab_unrevoke(self, request):
        """Undo every revocation of a bot: its earlier tokens work again, the tokens /revoke gave do not."""
        bot_id = str(_json_object(request).get("token_id", ""))
        if not bot_id.isdigit():
            return json_response({"error": "give token_id (the bot id)"}, 400)
        self.revoked = {k: v for k, v in self.revoked.items() if str(v) != bot_id}
        self.reissued = {k: v for k, v in self.reissued.items() if str(v["id"]) != bot_id}
        return json_response({"restored": int(bot_id)})

    def _bot_for_token(self, token):
        """The bot a token belongs to: a configured one, or one the lab's issuer key vouches for; none once revoked."""
        if hashlib.sha256(token.encode("utf-8")).hexdigest() in self.revoked:
            return None
        if token in self.reissued:
            return self.reissued[token]
        bot = self.bots.get(token)
        if bot is None and self.token_issuer_key:
            bot_id = token.split(":", 1)[0]
            if bot_id.isdigit() and hmac.compare_digest(token.encode("utf-8"), self._issued_token(int(bot_id)).encode("utf-8")):
                bot = self.bots[token] = {"id": int(bot_id), "is_bot": True, "first_name": "Clawd Lab Bot %s" % bot_id,
                                          "username": "clawd_lab%s_bot" % bot_id}
        return bot

    def _find_bot(self, data):
        if self.token_issuer_key and str(data.get("token_id", "")).isdigit():
            self._bot_for_token(self._issued_token(int(data["token_id"])))
        for bot in self.bots.values():
            if "token_id" in data and str(data["token_id"]) == str(bot["id"]):
                return bot
            if "username" in data and str(data["username"]).lstrip("@").lower() == bot["username"].lower():
                return bot
        return None

    def _message_update(self, data):
        chat_id = data.get("chat_id", 42)
        return {"message": {
            "message_id": int(time.time() * 1000) % 1000000, "date": int(time.time()),
            "chat": {"id": chat_id, "type": "private", "first_name": "Lab"},
            "from": {"id": chat_id, "is_bot": False, "first_name": "Lab"},
            "text": str(data.get("text", "/start")),
        }}

    def _lookup(self, host):
        """The address of a webhook host: an IP literal, a name in hosts_file (read now), or localhost; None if unknown."""
        if not host:
            return None
        try:
            return str(ipaddress.ip_address(host))
        except ValueError:
            pass
        for ip, names in _read_hosts(self.hosts_file):
            if host.lower() in names:
                return ip
        if host.lower() == "localhost":
            return "127.0.0.1"
        return None

    def _post_update(self, target, ip, update):
        """POST one update; {"status", "body", "error"} where error is Telegram's text for a failure, or None."""
        outcome = {"status": None, "body": None, "error": None}
        if ip is None:
            outcome["error"] = "Failed to resolve host: Name or service not known"
            return outcome
        parts = urlsplit(target["url"])
        path = (parts.path or "/") + ("?" + parts.query if parts.query else "")
        body = json.dumps(update, separators=(",", ":")).encode("utf-8")
        headers = {"Content-Type": "application/json"}
        if target["secret_token"]:
            headers[SECRET_HEADER] = target["secret_token"]
        conn = None
        try:
            context = ssl.create_default_context(cafile=self.ca_file)
            if target["certificate"]:
                context.load_verify_locations(cadata=target["certificate"])
            conn = _PinnedHTTPSConnection(parts.hostname, parts.port or 443, ip, context=context, timeout=self.delivery_timeout)
            conn.request("POST", path, body, headers)
            answer = conn.getresponse()
            outcome["status"] = answer.status
            outcome["body"] = answer.read().decode("utf-8", "replace")
            if not 200 <= answer.status < 300:
                reason = answer.reason or http.HTTPStatus(answer.status).phrase
                outcome["error"] = "Wrong response from the webhook: %d %s" % (answer.status, reason)
        except ConnectionRefusedError:
            outcome["error"] = "Connection refused"
        except ssl.SSLCertVerificationError as exc:
            outcome["error"] = "SSL error {certificate verify failed: %s}" % (exc.verify_message or exc.reason)
        except ssl.SSLError as exc:
            outcome["error"] = "SSL error {%s}" % (exc.reason or exc)
        except (socket.timeout, TimeoutError):
            outcome["error"] = "Read timeout expired"
        except (OSError, http.client.HTTPException) as exc:
            outcome["error"] = "Connection error: %s" % (getattr(exc, "strerror", None) or exc or type(exc).__name__)
        finally:
            if conn is not None:
                conn.close()
        return outcome

    def _run_reply_method(self, bot, body):
        """A webhook reply may carry a Bot API call ({"method": ...}); run it as Telegram does (its outcome goes nowhere else)."""
        try:
            reply = json.loads(body) if body and body.strip() else None
        except ValueError:
            return None
        if not isinstance(reply, dict) or not isinstance(reply.get("method"), str):
            return None
        params = {k: v for k, v in reply.items() if k != "method"}
        method = self.methods.get(reply["method"].lower())
        with self.lock:
            if method is None:
                response = error(404, "Not Found")
            else:
                try:
                    response = method(bot, params)
                except BadRequest as exc:
                    response = error(400, "Bad Request: %s" % exc)
        return json.loads(response.body.decode("utf-8"))


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    """HTTPS to ``host`` (Host header, SNI, certificate check) through a connection to ``ip``."""

    def __init__(self, host, port, ip, context, timeout):
        super().__init__(host, port, context=context, timeout=timeout)
        self._ip = ip
        self._tls_context = context

    def connect(self):
        sock = socket.create_connection((self._ip, self.port), self.timeout)
        try:
            self.sock = self._tls_context.wrap_socket(sock, server_hostname=self.host)
        except BaseException:
            sock.close()
            raise


def _read_hosts(path):
    """(ip, set of lower-case names) from a file in /etc/hosts format; nothing when it is missing."""
    if not path:
        return []
    try:
        with open(path, encoding="utf-8") as handle:
            lines = handle.read().splitlines()
    except OSError:
        return []
    entries = []
    for line in lines:
        fields = line.split("#", 1)[0].split()
        if len(fields) >= 2:
            entries.append((fields[0], {name.lower() for name in fields[1:]}))
    return entries


def _is_loopback(ip):
    try:
        return ipaddress.ip_address(ip).is_loopback
    except ValueError:
        return False


def _text(value):
    if value is None:
        return ""
    if isinstance(value, dict):
        return ""
    return str(value).strip()


def _bool(value):
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, float)):
        return value != 0
    return str(value or "").strip().lower() in ("true", "1", "yes")


def _json_object(request):
    """The JSON object body of a control request ({} when it is not one)."""
    try:
        data = request.json()
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def _secret_token(value):
    secret = "" if value is None or isinstance(value, dict) else str(value)
    if secret:
        if len(secret) > SECRET_MAX:
            raise BadRequest("secret token is too long")
        if not SECRET_RE.match(secret):
            raise BadRequest("secret token contains unallowed characters")
    return secret


def _check_webhook_url(url):
    if any(c.isspace() for c in url):
        raise BadRequest("invalid webhook URL specified")
    text = url if "://" in url else "http://" + url
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError:
        raise BadRequest("invalid webhook URL specified") from None
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        raise BadRequest("invalid webhook URL specified")
    if parts.scheme.lower() != "https":
        raise BadRequest("bad webhook: An HTTPS URL must be provided for webhook")
    if (port or 443) not in WEBHOOK_PORTS:
        raise BadRequest("bad webhook: Webhook can be set up only on ports 80, 88, 443 or 8443")


def _max_connections(value):
    if value in (None, ""):
        return DEFAULT_MAX_CONNECTIONS
    try:
        number = int(str(value).strip()) if not isinstance(value, bool) else int(value)
    except ValueError:
        raise BadRequest("invalid max_connections specified") from None
    return min(max(number, 1), 100)


def _ip_address(value):
    text = _text(value)
    if not text:
        return None
    try:
        return str(ipaddress.ip_address(text))
    except ValueError:
        raise BadRequest("invalid IP address specified") from None


def _allowed_updates(value):
    """None = keep the previous setting; [] = the default set; else the known types in Telegram's order."""
    if value is None or value == "":
        return None
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            raise BadRequest("can't parse allowed updates JSON object") from None
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise BadRequest("field \"allowed_updates\" must be an Array of Strings")
    wanted = set(value) & set(UPDATE_TYPES)
    if not wanted or wanted == set(DEFAULT_UPDATES):
        return []
    return [t for t in UPDATE_TYPES if t in wanted]


def _chat_id(value):
    """Integer chat ids arrive as strings in query/form encodings; @usernames stay strings."""
    if isinstance(value, str):
        value = value.strip()
        if re.match(r"^-?[0-9]+$", value):
            return int(value)
    if isinstance(value, bool):
        return None
    return value


def _sent_key(bot, chat_id, message_id):
    return "%s:%s:%s" % (bot["id"], chat_id, message_id)


def _int_param(value, default):
    if value in (None, ""):
        return default
    try:
        return int(str(value).strip()) if not isinstance(value, bool) else int(value)
    except ValueError:
        raise BadRequest("invalid integer value specified") from None


def _reply_markup(value):
    """An InlineKeyboardMarkup (the only markup the lab's bots send) checked as Telegram does; None when absent."""
    if value in (None, ""):
        return None
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            raise BadRequest("can't parse reply keyboard markup JSON object") from None
    if not isinstance(value, dict):
        raise BadRequest("can't parse reply keyboard markup JSON object")
    if "inline_keyboard" not in value:
        return value  # reply keyboards and the like: kept as given
    rows = value["inline_keyboard"]
    if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
        raise BadRequest("field \"inline_keyboard\" of the InlineKeyboardMarkup must be an Array of Arrays")
    for row in rows:
        for button in row:
            if not isinstance(button, dict) or not isinstance(button.get("text"), str):
                raise BadRequest("can't parse inline keyboard button: Text must be non-empty")
            if not button["text"]:
                raise BadRequest("can't parse inline keyboard button: Text must be non-empty")
            kinds = [k for k in ("url", "callback_data", "web_app", "login_url", "switch_inline_query",
                                 "switch_inline_query_current_chat", "switch_inline_query_chosen_chat", "copy_text",
                                 "callback_game", "pay") if k in button]
            if len(kinds) != 1:
                raise BadRequest("can't parse inline keyboard button: InlineKeyboardButton must have exactly one optional field")
            if "callback_data" in button:
                data = button["callback_data"]
                if not isinstance(data, str) or not 1 <= len(data.encode("utf-8")) <= CALLBACK_DATA_MAX:
                    raise BadRequest("BUTTON_DATA_INVALID")
    return {"inline_keyboard": rows}


def _reply_to(params):
    value = params.get("reply_to_message_id")
    if value in (None, ""):
        reply = params.get("reply_parameters")
        if isinstance(reply, str):
            try:
                reply = json.loads(reply)
            except ValueError:
                reply = None
        value = reply.get("message_id") if isinstance(reply, dict) else None
    try:
        return int(value) if value not in (None, "") else None
    except (TypeError, ValueError):
        return None
