# -*- coding: utf-8 -*-
# Copyright (c) 2026, clawd.ops contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The log lines of a window written to files as evidence: secrets masked, bounded in size.

``export_container`` reads one container's lines of the window through the Docker Engine API (the low-level
``APIClient``: ``inspect_container`` and ``logs``), as ``_log_summary.read_container`` does, masks each line with the
masking of ``_log_summary`` (the shapes of secrets, then every given secret; lines are kept whole up to LINE_BYTES)
and writes it to ``out``; lines of the auth kinds (``unauthorized``, ``unauthorized_upstream``) also go to ``auth``.
At most ``max_bytes`` bytes are read per container; the newest ``max_lines`` lines are read.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import math

from ansible_collections.clawd.ops.plugins.module_utils._log_summary import (
    _SECRET_SHAPES,
    DEFAULT_MAX_BYTES,
    DEFAULT_MAX_LINES,
    Classifier,
    bounded_lines,
    split_stamp,
)
from ansible_collections.clawd.ops.plugins.module_utils._redact import redact

AUTH_KINDS = ('unauthorized', 'unauthorized_upstream')


def mask_whole_line(line, secrets=()):
    """A log line fit to keep as evidence: the shapes of secrets masked, then every given secret; not cut."""
    text = str(line).rstrip('\r\n')
    for shape, replacement in _SECRET_SHAPES:
        text = shape.sub(replacement, text)
    return redact(text, [secret for secret in secrets if secret])


def export_container(api, name, start, now, out, auth, max_lines=DEFAULT_MAX_LINES, max_bytes=DEFAULT_MAX_BYTES,
                     secrets=(), not_found=(), classifier=None):
    """Write the masked lines that container `name` logged from start to now (epoch seconds) to out (text file).

    Returns {found, lines, auth_lines, cut} (cut: why the lines were cut, or None). Lines of an auth kind are also
    written to auth, prefixed with the container's name.
    """
    classifier = classifier or Classifier()
    try:
        api.inspect_container(name)
    except tuple(not_found):
        return {'found': False, 'lines': 0, 'auth_lines': 0, 'cut': None}
    after = int(start * 1e9)
    before = int(now * 1e9)
    result = {'found': True, 'lines': 0, 'auth_lines': 0, 'cut': None}
    received = 0
    stream = api.logs(name, stdout=True, stderr=True, stream=True, follow=False, timestamps=True, tail=max_lines,
                      since=int(math.floor(start)))
    try:
        for line, reason in bounded_lines(stream, max_bytes):
            if reason:
                result['cut'] = reason
                break
            received += 1
            nanos, text = split_stamp(line)
            if nanos is not None and (nanos > before or nanos < after):
                continue
            masked = mask_whole_line(line, secrets)
            out.write(masked + '\n')
            result['lines'] += 1
            if classifier.kind(text) in AUTH_KINDS:
                auth.write('%s %s\n' % (name, masked))
                result['auth_lines'] += 1
    finally:
        close = getattr(stream, 'close', None)
        if close is not None:
            close()
    if received >= max_lines and not result['cut']:
        result['cut'] = 'the newest %d lines (max_lines) were read; older lines of the window were not' % max_lines
    return result
