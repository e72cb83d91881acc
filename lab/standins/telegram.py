# Copyright (c) 2026, clawd.ops contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Stand-in for the Telegram Bot API (see /work/shared/specs/telegram-bot-api-webhooks.md).

Configuration: a list of bots, or ``{"tokens": [...]}``, each
``{"token": "123456:ABC...", "username": "clawd_lab_bot", "id": 123456, "first_name": "..."}``
(``id`` defaults to the number before the colon).
"""

import http
import json
import re
import time

from .framework import StandIn, json_response, route

TOKEN_RE = re.compile(r"^[0-9]+:[A-Za-z0-9_-]+$")


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


class TelegramStandIn(StandIn):
    """Bot API: ``/bot<token>/<method>`` over GET or POST."""

    name = "telegram"
    secret_headers = StandIn.secret_headers + ("x-telegram-bot-api-secret-token",)
    # The token travels in the URL path: /bot<token>/<method>. Masked whether configured or not.
    secret_patterns = ((r"(/bot)[^/?#\s\"']+", r"\1***"),)

    def configure(self, config):
        bots = config.get("tokens", config.get("bots", [])) if isinstance(config, dict) else config
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
        self.methods = {
            "getme": self.get_me,
            "sendmessage": self.send_message,
        }

    def secrets(self):
        return tuple(self.bots)

    def reset_state(self):
        self.messages = []
        self.next_message_id = 1

    def export_state(self):
        return {"messages": self.messages, "next_message_id": self.next_message_id}

    def import_state(self, data):
        self.messages = list(data.get("messages", []))
        self.next_message_id = int(data.get("next_message_id", 1))

    # ------------------------------------------------------------------ error shapes

    def not_found(self, request):
        return error(404, "Not Found")

    def method_not_allowed(self, request, allowed):
        return error(405, "Method Not Allowed", headers={"Allow": ", ".join(allowed)})

    def rate_limited(self, retry_after):
        return error(429, "Too Many Requests: retry after %d" % retry_after, {"retry_after": retry_after})

    def server_error(self, status):
        return error(status, http.HTTPStatus(status).phrase)

    # ------------------------------------------------------------------ API

    @route(("GET", "POST"), r"/bot(?P<token>[^/]*)/(?P<method>[^/]*)")
    def api_call(self, request):
        """Authenticate the token, then call the method (names are case-insensitive)."""
        bot = self.bots.get(request.args["token"])
        if bot is None:
            return error(401, "Unauthorized")
        method = self.methods.get(request.args["method"].lower())
        if method is None:
            return error(404, "Not Found")
        try:
            params = request.params()
        except ValueError:
            return error(400, "Bad Request: can't parse JSON object")
        return method(bot, params)

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
        message = {
            "message_id": self.next_message_id,
            "from": dict(bot),
            "chat": {"id": chat_id, "type": "private"},
            "date": int(time.time()),
            "text": text,
        }
        self.next_message_id += 1
        self.messages.append({"chat_id": chat_id, "text": text, "reply_to_message_id": reply_to})
        return ok(message)

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


def _chat_id(value):
    """Integer chat ids arrive as strings in query/form encodings; @usernames stay strings."""
    if isinstance(value, str):
        value = value.strip()
        if re.match(r"^-?[0-9]+$", value):
            return int(value)
    if isinstance(value, bool):
        return None
    return value


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
