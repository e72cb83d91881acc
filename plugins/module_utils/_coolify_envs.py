# -*- coding: utf-8 -*-
# Copyright (c) 2026, clawd.ops contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function
__metaclass__ = type

# A Coolify application's environment variables as coolify_app_env plans them (private to the collection):
# which to create, update or delete so that the wanted ones are there, compared by value where Coolify
# returns it and by a keyed mark in the comment where it hides the value. Pure functions of plain data;
# the calls themselves are _coolify.CoolifyClient's.

import hashlib
import hmac


ENV_FLAGS = ('is_preview', 'is_literal', 'is_multiline', 'is_shown_once', 'is_runtime', 'is_buildtime', 'comment')


def normalize_env_key(key):
    """An environment variable key as Coolify stores it (trimmed, spaces turned into underscores)."""
    return str(key).strip().replace(' ', '_')


FINGERPRINT_PREFIX = 'clawd-hmac-sha256:'


def env_fingerprinter(key):
    """A function ``(env key, value) -> comment`` marking a variable with a keyed hash of its value.

    Coolify hides values from a token without read:sensitive, but returns the variable's comment: the mark
    lets plan_envs() tell whether the value we set last is the one wanted, without reading it. The hash is
    an HMAC-SHA256 under ``key`` of the variable's name and value (so equal values of two variables differ).
    """
    secret = key.encode('utf-8')

    def mark(env_key, value):
        digest = hmac.new(secret, ('%s\0%s' % (env_key, value)).encode('utf-8'), hashlib.sha256).hexdigest()
        return FINGERPRINT_PREFIX + digest

    return mark


def plan_envs(current, desired, state='present', update='when_different', fingerprint=None):
    """What to change so that the variables ``desired`` are present (or absent) among ``current``.

    ``current`` is GET /applications/{uuid}/envs (values missing without read:sensitive); ``desired``
    a list of ``{key, value, is_preview, ...}`` where a flag set to None is not managed. A variable
    is matched by key and is_preview. Returns ``{"create": [...], "update": [...], "delete": [{uuid, key,
    is_preview}], "unchanged": [keys], "unknown": [keys]}``: ``unknown`` lists the variables whose value
    could not be read, so could not be compared; they are updated only when ``update`` is ``always``.
    With ``fingerprint`` (see env_fingerprinter()), every variable sent carries its mark as comment, and a
    variable whose value is hidden is compared by its mark: the same mark is unchanged, another mark of ours
    is an update; a variable without our mark stays unknown.
    """
    plan = {'create': [], 'update': [], 'delete': [], 'unchanged': [], 'unknown': []}
    by_id = dict(((e.get('key'), bool(e.get('is_preview'))), e) for e in current or () if isinstance(e, dict))
    for wanted in desired:
        key = normalize_env_key(wanted['key'])
        found = by_id.get((key, bool(wanted.get('is_preview'))))
        if state == 'absent':
            if found is not None:
                plan['delete'].append({'uuid': found.get('uuid'), 'key': key, 'is_preview': bool(found.get('is_preview'))})
            continue
        item = dict((k, v) for k, v in wanted.items() if v is not None and k in ENV_FLAGS + ('value',))
        item['key'] = key
        if fingerprint is not None and 'value' in item:
            item['comment'] = fingerprint(key, str(item['value']))
        if found is None:
            plan['create'].append(item)
            continue
        flags_differ = any(k in item and item[k] != found.get(k) for k in ENV_FLAGS if k != 'comment' or fingerprint is None)
        # Without read:sensitive (and always for is_shown_once variables) Coolify leaves the value out.
        readable = 'value' in found and not found.get('is_shown_once')
        value_differs = 'value' in item and readable and str(item['value']) != str(found.get('value'))
        value_unknown = 'value' in item and not readable
        marked = fingerprint is not None and str(found.get('comment') or '').startswith(FINGERPRINT_PREFIX)
        if value_unknown and marked:
            value_unknown = False
            value_differs = item['comment'] != found.get('comment')
        if flags_differ or value_differs or (value_unknown and update == 'always'):
            plan['update'].append(item)
        elif value_unknown:
            plan['unknown'].append(key)
        else:
            plan['unchanged'].append(key)
    return plan
