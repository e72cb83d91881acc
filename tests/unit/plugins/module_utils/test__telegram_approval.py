# Copyright (c) 2026, clawd.ops contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The approval loop of _telegram_approval with a scripted Bot API and a frozen clock (each long poll moves it on)."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import pytest

from ansible_collections.clawd.ops.plugins.module_utils._telegram_approval import Approval, closing_text, keyboard

APPROVER = {'id': 1001, 'is_bot': False, 'first_name': 'Alice', 'username': 'alice'}
STRANGER = {'id': 2002, 'is_bot': False, 'first_name': 'Mallory'}


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


class FakeBot:
    """sendMessage gives message 7; each getUpdates returns the next scripted batch and moves the clock by its timeout."""

    def __init__(self, clock, batches):
        self.clock = clock
        self.batches = list(batches)
        self.calls = []

    def send_message(self, chat_id, text, reply_markup=None):
        self.calls.append(('sendMessage', chat_id, text, reply_markup))
        return {'message_id': 7, 'chat': {'id': chat_id}}

    def get_updates(self, offset=None, timeout=0, allowed_updates=None):
        self.calls.append(('getUpdates', offset, timeout))
        if self.batches:
            return self.batches.pop(0)
        self.clock.now += timeout
        return []

    def answer_callback_query(self, query_id, text=None, show_alert=False):
        self.calls.append(('answerCallbackQuery', query_id, text, show_alert))
        return True

    def edit_message_text(self, chat_id, message_id, text, reply_markup=None):
        self.calls.append(('editMessageText', chat_id, message_id, text, reply_markup))
        return {}


def press(update_id, user, choice='approve', nonce='n1', message_id=7):
    query = {'id': 'q%d' % update_id, 'from': user, 'data': '%s:%s' % (choice, nonce), 'message': {'message_id': message_id}}
    return {'update_id': update_id, 'callback_query': query}


def approval(bot, clock, timeout=60, outcome='fail'):
    return Approval(bot, -100, 'Wave 2 of 4', [1001], timeout, outcome, 'n1', poll_timeout=25, clock=clock)


def test_only_an_approver_decides_and_everyone_is_answered():
    clock = Clock()
    bot = FakeBot(clock, [[press(10, STRANGER)], [press(11, APPROVER)]])
    result = approval(bot, clock).run()
    assert result['approved'] and result['decision'] == 'approve' and not result['timed_out']
    assert result['decided_by'] == {'id': 1001, 'username': 'alice', 'first_name': 'Alice'}
    assert result['ignored'] == [{'user_id': 2002, 'username': None, 'choice': 'approve'}]
    answers = [c for c in bot.calls if c[0] == 'answerCallbackQuery']
    assert answers == [('answerCallbackQuery', 'q10', 'You are not an approver of this request.', True),
                       ('answerCallbackQuery', 'q11', 'Approved.', False)]
    # The keyboard was sent, the updates read were confirmed, and the message says who decided, without buttons.
    assert bot.calls[0] == ('sendMessage', -100, 'Wave 2 of 4', keyboard('n1'))
    assert ('getUpdates', 12, 0) in bot.calls
    assert bot.calls[-1] == ('editMessageText', -100, 7, 'Wave 2 of 4\n\nApproved by @alice (1001).', {'inline_keyboard': []})


def test_a_reject_by_an_approver():
    clock = Clock()
    bot = FakeBot(clock, [[press(10, APPROVER, choice='reject')]])
    result = approval(bot, clock).run()
    assert result['decision'] == 'reject' and not result['approved']
    assert bot.calls[-1][3].endswith('Rejected by @alice (1001).')


def test_presses_on_another_request_do_not_count():
    clock = Clock()
    bot = FakeBot(clock, [[press(10, APPROVER, nonce='old'), press(11, APPROVER, message_id=6)]])
    result = approval(bot, clock, timeout=30, outcome='reject').run()
    assert result['timed_out'] and result['decision'] == 'reject'
    assert [c[2] for c in bot.calls if c[0] == 'answerCallbackQuery'] == ['This request is closed.'] * 2


@pytest.mark.parametrize('outcome', ['approve', 'reject', 'fail'])
def test_the_timeout_takes_the_configured_outcome(outcome):
    clock = Clock()
    bot = FakeBot(clock, [])
    result = approval(bot, clock, timeout=60, outcome=outcome).run()
    assert result['timed_out'] and result['decision'] == outcome and result['decided_by'] is None
    assert result['approved'] == (outcome == 'approve')
    assert result['waited'] == 60.0
    # Long polls never outlast the deadline: 25 + 25 + 10.
    assert [c[2] for c in bot.calls if c[0] == 'getUpdates'] == [25, 25, 10]
    assert bot.calls[-1][3] == closing_text('Wave 2 of 4', outcome, None, True, 60)


def test_closing_text_names_the_default():
    assert closing_text('Q', 'fail', None, True, 90).endswith('No decision within 90 s: failed by default.')
