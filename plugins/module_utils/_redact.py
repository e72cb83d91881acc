# -*- coding: utf-8 -*-
# Copyright (c) 2026, clawd.ops contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Secrets out of text: ``redact(text, secrets)`` and the ``MASK`` that replaces them.

Its own file (the standard library only) so that code running on a host can redact without importing the
HTTP transport and requests; ``_transport`` re-exports both names for the service clients.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import re

from urllib.parse import quote, quote_plus

MASK = '***'
# A Telegram bot token inside a URL path (/bot<digits>:<token>). Redacted even when the caller
# forgot to declare it as a secret: such a URL must never be printed.
_TELEGRAM_TOKEN_IN_PATH = re.compile(r'(/bot)[0-9]+:[A-Za-z0-9_-]+')


def redact(text, secrets=()):
    """Return ``text`` with each secret (also URL-quoted) and any Telegram token in a URL path replaced by ``***``."""
    if text is None:
        return None
    if isinstance(text, bytes):
        text = text.decode('utf-8', 'replace')
    text = _TELEGRAM_TOKEN_IN_PATH.sub(r'\1' + MASK, text)
    variants = set()
    for secret in secrets:
        if secret:
            variants.update((secret, quote(secret, safe=''), quote(secret), quote_plus(secret)))
    for variant in sorted(variants, key=len, reverse=True):
        text = text.replace(variant, MASK)
    return text
