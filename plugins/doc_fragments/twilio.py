# -*- coding: utf-8 -*-
# Copyright (c) 2026, clawd.ops contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function
__metaclass__ = type


class ModuleDocFragment(object):
    """Connection options of the Twilio modules (use with clawd.ops.transport)."""

    DOCUMENTATION = r'''
options:
  account_sid:
    description:
      - The Account SID (C(AC) followed by 32 hexadecimal digits) whose numbers are managed.
    type: str
    required: true
  auth_token:
    description:
      - The account's Auth Token, sent with O(account_sid) as HTTP Basic credentials.
      - Never logged and never returned; keep it in an ansible-vault encrypted variable.
    type: str
    required: true
  api_url:
    description:
      - Base URL of the Twilio REST API. Change it only to reach Twilio through a proxy or a test server.
    type: str
    default: https://api.twilio.com
notes:
  - Twilio answers 429 with C(Retry-After) when it is asked too often; the request is repeated after that wait
    (capped at 30 seconds), within O(retries).
'''
