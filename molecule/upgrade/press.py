# Copyright (c) 2026, clawd.ops contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""An operator at the Telegram stand-in: presses the buttons of open approval requests of the operators' bot.

usage: press.py <telegram base url> <bot id> <chat id> <choice approve|reject> <count> <deadline seconds>

Each open request (a message of the bot in the chat whose inline keyboard still has buttons) is pressed first by
a user who is not an approver (id 666, must be ignored), then by the approver (id 4242, @alice). Exits after
<count> requests, or at the deadline (exit 1)."""

import json
import sys
import time
import urllib.request


def call(url, body=None):
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, headers={'Content-Type': 'application/json'}, method='POST' if data else 'GET')
    with urllib.request.urlopen(request, timeout=10) as answer:
        return json.load(answer)


def main():
    base, bot_id, chat_id, choice, count, deadline = sys.argv[1:7]
    bot_id, chat_id, count = int(bot_id), int(chat_id), int(count)
    end = time.monotonic() + float(deadline)
    pressed = set()
    while len(pressed) < count and time.monotonic() < end:
        for message in call(base + '/_lab/telegram/sent'):
            rows = (message.get('reply_markup') or {}).get('inline_keyboard') or []
            buttons = {b['text'].lower(): b['callback_data'] for row in rows for b in row if 'callback_data' in b}
            if message['chat']['id'] != chat_id or message['from']['id'] != bot_id or not buttons or message['message_id'] in pressed:
                continue
            for user in ({'id': 666, 'username': 'mallory'}, {'id': 4242, 'username': 'alice'}):
                call(base + '/_lab/telegram/press', {'token_id': bot_id, 'chat_id': chat_id, 'message_id': message['message_id'],
                                                     'data': buttons[choice], 'user': user})
            pressed.add(message['message_id'])
            print('pressed %s on message %d' % (choice, message['message_id']), flush=True)
        time.sleep(0.5)
    sys.exit(0 if len(pressed) >= count else 1)


if __name__ == '__main__':
    main()
