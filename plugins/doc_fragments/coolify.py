# -*- coding: utf-8 -*-
# Copyright (c) 2026, clawd.ops contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function
__metaclass__ = type


class ModuleDocFragment(object):
    """Connection options of the Coolify modules (use with clawd.ops.transport)."""

    DOCUMENTATION = r'''
options:
  api_url:
    description:
      - Base URL of the Coolify instance, for example V(https://coolify.example.com).
      - C(/api/v1) is added unless the URL already ends with it.
    type: str
    required: true
  api_token:
    description:
      - 'A Coolify API token (Keys & Tokens > API tokens), sent as C(Authorization: Bearer <token>).'
      - Reading needs the C(read) ability, deploying the C(deploy) ability, changing an application the C(write) ability;
        deployment logs and environment variable values are returned only to a token with C(read:sensitive) or C(root).
    type: str
    required: true
notes:
  - Coolify answers 429 with C(Retry-After) when its deployment queue is full; the request is repeated after that wait
    (capped at 30 seconds), within O(retries).
'''
