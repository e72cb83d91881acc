# Copyright (c) 2026, clawd.ops contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The Telegram stand-in's inline buttons, against the Bot API's documented fields and errors: sendMessage with an
inline keyboard, getUpdates (offset, limit, long polling, 409 while a webhook is set), answerCallbackQuery,
editMessageText, and the lab control that presses a button as a given user."""

import threading

import pytest
import requests

from standins.telegram import TelegramStandIn

TOKEN = "515151:AAbuttonsSECRETtoken_abc"
OTHER = "616161:AAotherBUTTONSbot_xyz"
TIMEOUT = 10
KEYBOARD = {"inline_keyboard": [[{"text": "Approve", "callback_data": "approve:n1"}, {"text": "Reject", "callback_data": "reject:n1"}]]}


@pytest.fixture(name="tg_server", scope="module")
def tg_server_fixture(start_standin):
    return start_standin(TelegramStandIn, {"tokens": [{"token": TOKEN, "username": "ops_bot"}, {"token": OTHER}], "set_webhook_interval": 0})


@pytest.fixture(name="tg")
def tg_fixture(tg_server):
    requests.post(tg_server.url + "/_lab/reset", timeout=TIMEOUT).raise_for_status()
    return tg_server


def call(tg, method, token=TOKEN, **params):
    return requests.post("%s/bot%s/%s" % (tg.url, token, method), json=params, timeout=TIMEOUT + 60)


def ask(tg, chat_id=-100200, markup=None):
    answer = call(tg, "sendMessage", chat_id=chat_id, text="Wave 2 of 4: 1 host", reply_markup=markup or KEYBOARD)
    assert answer.status_code == 200, answer.text
    return answer.json()["result"]


def press(tg, message, data="approve:n1", user=None):
    body = {"token_id": 515151, "chat_id": message["chat"]["id"], "message_id": message["message_id"], "data": data,
            "user": user or {"id": 1001, "username": "alice"}}
    return requests.post(tg.url + "/_lab/telegram/press", json=body, timeout=TIMEOUT)


def test_send_message_keeps_the_inline_keyboard(tg):
    message = ask(tg)
    assert message["reply_markup"] == KEYBOARD
    # The form encoding carries the markup as JSON text, as Telegram accepts it.
    form = requests.post("%s/bot%s/sendMessage" % (tg.url, TOKEN), timeout=TIMEOUT,
                         data={"chat_id": "-100200", "text": "x", "reply_markup": '{"inline_keyboard": [[{"text": "A", "callback_data": "a"}]]}'})
    assert form.json()["result"]["reply_markup"]["inline_keyboard"][0][0]["callback_data"] == "a"
    sent = requests.get(tg.url + "/_lab/telegram/sent", timeout=TIMEOUT).json()
    assert [m["message_id"] for m in sent] == [message["message_id"], form.json()["result"]["message_id"]]


@pytest.mark.parametrize("markup, description", [
    ("{not json", "Bad Request: can't parse reply keyboard markup JSON object"),
    ({"inline_keyboard": [[{"text": "A", "callback_data": "x" * 65}]]}, "Bad Request: BUTTON_DATA_INVALID"),
    ({"inline_keyboard": [[{"text": "A", "callback_data": ""}]]}, "Bad Request: BUTTON_DATA_INVALID"),
    ({"inline_keyboard": [[{"text": "A"}]]},
     "Bad Request: can't parse inline keyboard button: InlineKeyboardButton must have exactly one optional field"),
    ({"inline_keyboard": {"text": "A"}}, 'Bad Request: field "inline_keyboard" of the InlineKeyboardMarkup must be an Array of Arrays'),
])
def test_send_message_refuses_a_bad_keyboard(tg, markup, description):
    answer = call(tg, "sendMessage", chat_id=1, text="x", reply_markup=markup)
    assert answer.status_code == 400
    assert answer.json() == {"ok": False, "error_code": 400, "description": description}


def test_get_updates_is_refused_while_a_webhook_is_set(tg):
    assert call(tg, "setWebhook", url="https://ops.clawd.test/hook").json()["ok"]
    answer = call(tg, "getUpdates", timeout=0)
    assert answer.status_code == 409
    assert answer.json()["description"].startswith("Conflict: can't use getUpdates method while webhook is active")


def test_a_press_is_a_callback_query_until_confirmed_by_offset(tg):
    message = ask(tg)
    assert press(tg, message, user={"id": 2002, "username": "mallory"}).status_code == 200
    assert press(tg, message, data="reject:n1").status_code == 200
    updates = call(tg, "getUpdates", timeout=0, allowed_updates=["callback_query"]).json()["result"]
    assert [u["callback_query"]["from"]["id"] for u in updates] == [2002, 1001]
    query = updates[1]["callback_query"]
    assert query["data"] == "reject:n1"
    assert query["message"]["message_id"] == message["message_id"]
    assert query["from"] == {"id": 1001, "is_bot": False, "first_name": "alice", "username": "alice"}
    assert set(query) == {"id", "from", "message", "chat_instance", "data"}
    # Not confirmed yet: the same updates again; limit takes the first ones.
    again = call(tg, "getUpdates", timeout=0, limit=1).json()["result"]
    assert [u["update_id"] for u in again] == [updates[0]["update_id"]]
    confirmed = call(tg, "getUpdates", timeout=0, offset=updates[1]["update_id"] + 1).json()["result"]
    assert confirmed == []
    # Another bot sees none of it.
    assert call(tg, "getUpdates", token=OTHER, timeout=0).json()["result"] == []


def test_get_updates_long_polls_until_a_press_arrives(tg):
    message = ask(tg)
    outcome = {}

    def poll():
        outcome["answer"] = call(tg, "getUpdates", timeout=30).json()

    poller = threading.Thread(target=poll)
    poller.start()
    assert press(tg, message).status_code == 200
    poller.join(40)
    assert not poller.is_alive()
    assert [u["callback_query"]["data"] for u in outcome["answer"]["result"]] == ["approve:n1"]


def test_a_press_needs_a_button_of_a_sent_message(tg):
    message = ask(tg)
    assert press(tg, message, data="approve:other").status_code == 409
    assert press(tg, dict(message, message_id=99999)).status_code == 404
    assert requests.post(tg.url + "/_lab/telegram/press", json={"token_id": 515151, "chat_id": -100200,
                                                                "message_id": message["message_id"], "data": "approve:n1"},
                         timeout=TIMEOUT).status_code == 400  # no user


def test_answer_callback_query_once(tg):
    message = ask(tg)
    query_id = press(tg, message).json()["callback_query_id"]
    assert call(tg, "answerCallbackQuery", callback_query_id=query_id, text="Approved.").json() == {"ok": True, "result": True}
    again = call(tg, "answerCallbackQuery", callback_query_id=query_id)
    assert again.status_code == 400
    assert again.json()["description"] == "Bad Request: query is too old and response timeout expired or query ID is invalid"
    assert call(tg, "answerCallbackQuery", callback_query_id="nonsense").status_code == 400
    # Another bot cannot answer this bot's query.
    other = press(tg, message).json()["callback_query_id"]
    assert call(tg, "answerCallbackQuery", token=OTHER, callback_query_id=other).status_code == 400
    answers = requests.get(tg.url + "/_lab/telegram/callback_queries", timeout=TIMEOUT).json()
    assert answers[query_id]["answer"] == {"text": "Approved.", "show_alert": False}


def test_edit_message_text(tg):
    message = ask(tg)
    edited = call(tg, "editMessageText", chat_id=message["chat"]["id"], message_id=message["message_id"],
                  text="Wave 2 of 4: approved by @alice", reply_markup={"inline_keyboard": []})
    assert edited.status_code == 200, edited.text
    result = edited.json()["result"]
    assert result["text"] == "Wave 2 of 4: approved by @alice" and "reply_markup" not in result and "edit_date" in result
    same = call(tg, "editMessageText", chat_id=message["chat"]["id"], message_id=message["message_id"], text=result["text"])
    assert same.status_code == 400
    assert same.json()["description"].startswith("Bad Request: message is not modified")
    missing = call(tg, "editMessageText", chat_id=message["chat"]["id"], message_id=424242, text="x")
    assert missing.json()["description"] == "Bad Request: message to edit not found"
    other_bot = call(tg, "editMessageText", token=OTHER, chat_id=message["chat"]["id"], message_id=message["message_id"], text="y")
    assert other_bot.json()["description"] == "Bad Request: message to edit not found"
    empty = call(tg, "editMessageText", chat_id=message["chat"]["id"], message_id=message["message_id"], text="")
    assert empty.json()["description"] == "Bad Request: message text is empty"
    # A button of an edited message without keyboard can no longer be pressed.
    assert press(tg, message).status_code == 409
