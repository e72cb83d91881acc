# -*- coding: utf-8 -*-
# Copyright (c) 2026, clawd.ops contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function
__metaclass__ = type


class ModuleDocFragment(object):
    """Options of the modules that talk to the Telegram Bot API (use with clawd.ops.transport)."""

    DOCUMENTATION = r'''
options:
  bot_token:
    description:
      - The bot's token from BotFather, V(<digits>:<letters>).
      - It is never shown, not even inside a URL in an error message.
    type: str
    required: true
  api_url:
    description:
      - Base URL of the Bot API. Change it for a self-hosted Bot API server (or a test server).
    type: str
    default: https://api.telegram.org
notes:
  - The Bot API carries the token in the URL path (C(/bot<token>/<method>)); the modules show such URLs as C(/bot***/<method>).
'''
