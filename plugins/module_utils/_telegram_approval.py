# -*- coding: utf-8 -*-
# Copyright (c) 2026, clawd.ops contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function
__metaclass__ = type

# An approval asked in a Telegram chat with inline buttons (private to the collection).
#
# The bot sends the question with an inline keyboard (Approve / Reject, callback data carrying a nonce
# of this request), long-polls getUpdates for callback_query updates, answers every press
# (answerCallbackQuery), counts only presses of listed approvers on this very message, and edits the
# message to say who decided, or that nobody did within the timeout. The clock is injected for tests.

import time

CHOICES = ('approve', 'reject')
OUTCOMES = ('approve', 'reject', 'fail')
BUTTON_TEXT = {'approve': 'Approve', 'reject': 'Reject'}
# Telegram limits callback_data to 1-64 bytes.
NONCE_LENGTH = 16


def keyboard(nonce):
    """The inline keyboard of a request: one row, Approve and Reject."""
    return {'inline_keyboard': [[{'text': BUTTON_TEXT[c], 'callback_data': '%s:%s' % (c, nonce)} for c in CHOICES]]}


def describe_user(user):
    """How the edited message names a user: @username (id), else the first name (id)."""
    user = user or {}
    name = ('@' + user['username']) if user.get('username') else (user.get('first_name') or 'user')
    return '%s (%s)' % (name, user.get('id'))


def closing_text(text, decision, decided_by, timed_out, timeout):
    """The request's text once decided: who approved or rejected, or what the timeout decided."""
    if timed_out:
        verdict = {'approve': 'approved', 'reject': 'rejected', 'fail': 'failed'}[decision]
        return '%s\n\nNo decision within %d s: %s by default.' % (text, int(timeout), verdict)
    return '%s\n\n%s by %s.' % (text, 'Approved' if decision == 'approve' else 'Rejected', describe_user(decided_by))


class Approval:
    """One request: ``run()`` returns a dict (decision, approved, decided_by, timed_out, ignored, message_id)."""

    def __init__(self, client, chat_id, text, approvers, timeout, timeout_outcome, nonce, poll_timeout=25, clock=time.monotonic):
        self.client = client
        self.chat_id = chat_id
        self.text = text
        self.approvers = set(int(a) for a in approvers)
        self.timeout = float(timeout)
        self.timeout_outcome = timeout_outcome
        self.nonce = nonce
        self.poll_timeout = max(0, int(poll_timeout))
        self.clock = clock

    def run(self):
        message = self.client.send_message(self.chat_id, self.text, reply_markup=keyboard(self.nonce))
        message_id = message.get('message_id')
        started = self.clock()
        deadline = started + self.timeout
        offset = None
        ignored = []
        decision = decided_by = None
        while decision is None:
            remaining = deadline - self.clock()
            if remaining <= 0:
                break
            updates = self.client.get_updates(offset=offset, timeout=min(self.poll_timeout, max(1, int(remaining))),
                                              allowed_updates=['callback_query'])
            for update in updates or ():
                offset = max(offset or 0, int(update.get('update_id', 0)) + 1)
                if decision is not None:
                    continue  # confirmed with the offset; a later request's presses are answered by that request
                decision, decided_by = self._judge(update.get('callback_query'), message_id, ignored)
        if offset is not None:
            # Confirm what was read, so that no later request sees these updates again.
            self.client.get_updates(offset=offset, timeout=0, allowed_updates=['callback_query'])
        timed_out = decision is None
        if timed_out:
            decision = self.timeout_outcome
        self.client.edit_message_text(self.chat_id, message_id, closing_text(self.text, decision, decided_by, timed_out, self.timeout),
                                      reply_markup={'inline_keyboard': []})
        return {
            'decision': decision, 'approved': decision == 'approve', 'decided_by': decided_by, 'timed_out': timed_out,
            'ignored': ignored, 'message_id': message_id, 'waited': round(self.clock() - started, 1),
        }

    def _judge(self, query, message_id, ignored):
        """(decision, user) when ``query`` decides this request, else (None, None); every press is answered."""
        if not isinstance(query, dict):
            return None, None
        choice, _sep, nonce = str(query.get('data') or '').partition(':')
        user = query.get('from') or {}
        message = query.get('message') or {}
        if nonce != self.nonce or message.get('message_id') != message_id or choice not in CHOICES:
            self.client.answer_callback_query(query.get('id'), 'This request is closed.')
            return None, None
        if user.get('id') not in self.approvers:
            ignored.append({'user_id': user.get('id'), 'username': user.get('username'), 'choice': choice})
            self.client.answer_callback_query(query.get('id'), 'You are not an approver of this request.', show_alert=True)
            return None, None
        self.client.answer_callback_query(query.get('id'), 'Approved.' if choice == 'approve' else 'Rejected.')
        return choice, {k: user[k] for k in ('id', 'username', 'first_name') if k in user}
