# -*- coding: utf-8 -*-
# Copyright (c) 2026, clawd.ops contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function
__metaclass__ = type


class ModuleDocFragment(object):
    """Options of the shared HTTP transport (timeouts, TLS, retries)."""

    DOCUMENTATION = r'''
options:
  timeout:
    description:
      - Seconds to wait for each HTTP answer.
    type: float
    default: 10
  validate_certs:
    description:
      - Whether to check the server's TLS certificate.
      - Leave on; point O(ca_path) at a private CA instead of turning this off.
    type: bool
    default: true
  ca_path:
    description:
      - PEM file of the CA that signed the server's certificate, for private CAs.
    type: path
  retries:
    description:
      - How many times to retry a request that failed with a connection error or HTTP 429, 502, 503 or 504.
      - A V(Retry-After) answer is honoured, capped at 30 seconds.
    type: int
    default: 3
requirements:
  - requests
notes:
  - A failure returns, with the rest of the result, V(msg) (what was being done, to what, and why it failed), V(status_code)
    (the HTTP status, V(null) when no answer came) and, when the service gave one, V(vendor_code) (Telegram's C(error_code),
    Twilio's C(code); Coolify has none).
'''
