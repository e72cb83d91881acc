# -*- coding: utf-8 -*-
# Copyright (c) 2026, clawd.ops contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The monthly security audit's judgement: one check result (see _checks) per audit check, from what
_host_audit read. Pure functions, no I/O; ``now`` and ``at`` are given, never read from the clock.

Severities, in one place:

- ports: an unexpected TCP listener another machine can reach is critical, an unexpected UDP one a warning;
- users: an extra user with uid 0 is critical; an extra login user, or an expected user missing, a warning;
- sudo_rules: any rule that is not expected is critical (it grants root);
- sshd: drift in an authentication or root-login setting (SSHD_CRITICAL) is critical, other drift a warning;
- volume_files: a setuid or setgid file in an app volume is critical; a world-writable one, or a walk that
  stopped at its limits, a warning;
- security_updates: pending security updates, or package lists that could not be refreshed, a warning;
- image_age, app_image_age, certificate_age, credential_age: by age in days against warning and critical levels;
- python_libraries: a library the modules use that is missing is critical, one older than its minimum (or whose version
  cannot be compared) a warning, one in a virtualenv that could not be read unknown.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import re

from ansible_collections.clawd.ops.plugins.module_utils._checks import CRITICAL, OK, UNKNOWN, WARNING, make_result, worst
from ansible_collections.clawd.ops.plugins.module_utils._requirements import (
    HOST_DISTRIBUTIONS, HOST_MINIMUM_VERSIONS, HOST_REQUIREMENTS, HOST_VENV_LIBRARIES)
from ansible_collections.clawd.ops.plugins.module_utils._time import parse_time

DAY = 86400.0
SSHD_CRITICAL = ('permitrootlogin', 'passwordauthentication', 'permitemptypasswords', 'pubkeyauthentication',
                 'kbdinteractiveauthentication', 'challengeresponseauthentication', 'allowusers', 'authorizedkeysfile')
SHOWN = 10  # items named in a reason; details hold them all
_VERSION = re.compile(r'\s*(\d+(?:\.\d+)*)')
LATEST_UNKNOWN = 'whether newer releases exist is not known offline (the audit does not ask a package index)'


def _names(items, more=SHOWN):
    items = list(items)
    text = ', '.join(str(item) for item in items[:more])
    return text + (' and %d more' % (len(items) - more) if len(items) > more else '')


def _age_days(now, then):
    return int((now - then) // DAY)


def _by_age(age, warning, critical):
    if critical is not None and age >= critical:
        return CRITICAL
    if warning is not None and age >= warning:
        return WARNING
    return OK


def ports(unexpected, listening, at):
    """unexpected: [{proto, port, addresses}] (see _host_audit.unexpected_ports); listening: how many were reachable."""
    if not unexpected:
        return make_result('ports', OK, 'only expected ports listen (%d reachable listeners)' % listening, 0, 'ports', measured_at=at)
    status = CRITICAL if any(item['proto'] == 'tcp' for item in unexpected) else WARNING
    named = ['%d/%s on %s' % (item['port'], item['proto'], ' '.join(item['addresses'])) for item in unexpected]
    return make_result('ports', status, 'unexpected listening ports: %s' % _names(named), len(unexpected), 'ports',
                       measured_at=at, details={'unexpected': unexpected})


def users(found, expected, at):
    """found: login users [{name, uid, shell}]; expected: the names that should be there besides root."""
    names = [user['name'] for user in found]
    extra = [user for user in found if user['name'] not in expected and user['name'] != 'root']
    missing = [name for name in expected if name not in names]
    problems, status = [], OK
    root_like = [user['name'] for user in extra if user['uid'] == 0]
    if root_like:
        status = CRITICAL
        problems.append('extra users with uid 0: %s' % _names(root_like))
    others = [user['name'] for user in extra if user['uid'] != 0]
    if others:
        status = worst([status, WARNING])
        problems.append('login users not in the inventory: %s' % _names(others))
    if missing:
        status = worst([status, WARNING])
        problems.append('expected users missing: %s' % _names(missing))
    reason = '; '.join(problems) or 'login users as expected: %s' % _names(names)
    return make_result('users', status, reason, len(extra), 'users', measured_at=at,
                       details={'login_users': found, 'unexpected': [user['name'] for user in extra], 'missing': missing})


def sudo_rules(unexpected, total, at):
    """unexpected: [{file, rule}] not among the expected rules; total: how many rules were read."""
    if not unexpected:
        return make_result('sudo_rules', OK, 'sudo rules as expected (%d rules)' % total, 0, 'rules', measured_at=at)
    named = ['%s in %s' % (item['rule'], item['file']) for item in unexpected]
    return make_result('sudo_rules', CRITICAL, 'unexpected sudo rules: %s' % _names(named, 5), len(unexpected), 'rules',
                       measured_at=at, details={'unexpected': unexpected})


def sshd(drift, at, error=None):
    """drift: [{setting, expected, found}] (see _host_audit.sshd_drift); error: why sshd -T could not be read."""
    if error:
        return make_result('sshd', UNKNOWN, 'the effective sshd settings could not be read: %s' % error, measured_at=at)
    if not drift:
        return make_result('sshd', OK, 'sshd settings as server_setup set them', 0, 'settings', measured_at=at)
    status = CRITICAL if any(item['setting'] in SSHD_CRITICAL for item in drift) else WARNING
    named = ['%s is %s (expected %s)' % (item['setting'], item['found'] if item['found'] is not None else 'unset', item['expected'])
             for item in drift]
    return make_result('sshd', status, 'sshd drift: %s' % _names(named), len(drift), 'settings', measured_at=at,
                       details={'drift': drift})


def volume_files(found, at):
    """found: the result of _host_audit.walk over the app's volumes."""
    special = found['setuid'] + [path for path in found['setgid'] if path not in found['setuid']]
    problems, status = [], OK
    if special:
        status = CRITICAL
        problems.append('setuid/setgid files: %s' % _names(special, 5))
    if found['world_writable']:
        status = worst([status, WARNING])
        problems.append('world-writable: %s' % _names(found['world_writable'], 5))
    if found['truncated']:
        status = worst([status, WARNING])
        problems.append('walk %s' % found['truncated'])
    if found['missing']:
        problems.append('not found: %s' % _names(found['missing'], 5))
    reason = '; '.join(problems) if status != OK else 'no setuid, setgid or world-writable file in %d entries%s' % (
        found['scanned'], ('; ' + '; '.join(problems)) if problems else '')
    return make_result('volume_files', status, reason, len(special) + len(found['world_writable']), 'files', measured_at=at,
                       details=found)


def security_updates(pending, refreshed, refresh_error, cves, at, error=None):
    """pending: _host_audit.parse_apt_simulation; cves: {package: [ids]} from debsecan, or None without it."""
    if error:
        return make_result('security_updates', UNKNOWN, 'pending updates could not be read: %s' % error, measured_at=at)
    security = [item for item in pending if item['security']]
    packages = [{'package': item['package'], 'candidate': item['candidate'],
                 'cves': (cves or {}).get(item['package'], []) if cves is not None else 'unknown'} for item in security]
    notes = []
    if not refreshed:
        notes.append('could not refresh the package lists (%s): judged from the lists as they were' % (refresh_error or 'not asked to')
                     if refresh_error else 'package lists not refreshed (not asked to)')
    if security and cves is None:
        notes.append('CVE ids unknown (debsecan is not installed)')
    status = WARNING if security or refresh_error else OK
    reason = ('%d security updates pending: %s' % (len(security), _names(item['package'] for item in security))) if security \
        else 'no security update pending'
    return make_result('security_updates', status, '; '.join([reason] + notes), len(security), 'packages', measured_at=at,
                       details={'packages': packages, 'other_updates': len(pending) - len(security)})


def image_ages(check, images, now, warning_days, critical_days, at):
    """images: [{id, tags, created (epoch)}]; the oldest decides."""
    if not images:
        return make_result(check, OK, 'no image to judge', None, 'days', warning_days, critical_days, measured_at=at)
    aged = sorted(({'id': item['id'], 'tags': item.get('tags') or [], 'age_days': _age_days(now, item['created'])} for item in images),
                  key=lambda item: -item['age_days'])
    old = [item for item in aged if _by_age(item['age_days'], warning_days, critical_days) != OK]
    oldest = aged[0]
    status = _by_age(oldest['age_days'], warning_days, critical_days)
    label = ['%s (%d days)' % ((item['tags'] or [item['id'][:19]])[0], item['age_days']) for item in old]
    reason = ('%d images older than %s days: %s' % (len(old), warning_days, _names(label))) if old else \
        'every image younger than %s days (oldest %d days)' % (warning_days, oldest['age_days'])
    return make_result(check, status, reason, oldest['age_days'], 'days', warning_days, critical_days, measured_at=at,
                       details={'old': old, 'images': len(aged)})


def credential_ages(records, kinds, now, warning_days, critical_days, at):
    """records: credential_rotation ledger records (recorded_at, rotated); kinds: the credentials to judge."""
    newest = {}
    for record in records:
        moment = parse_time(record.get('recorded_at'))
        if moment is None:
            continue
        for kind in record.get('rotated') or []:
            newest[kind] = max(newest.get(kind, 0), moment.timestamp())
    credentials, statuses, problems = [], [], []
    for kind in kinds:
        if kind not in newest:
            credentials.append({'kind': kind, 'age_days': None, 'rotated_at': None})
            statuses.append(UNKNOWN)
            problems.append('%s never rotated (no ledger record)' % kind)
            continue
        age = _age_days(now, newest[kind])
        status = _by_age(age, warning_days, critical_days)
        statuses.append(status)
        credentials.append({'kind': kind, 'age_days': age, 'rotated_at': newest[kind]})
        if status != OK:
            problems.append('%s rotated %d days ago' % (kind, age))
    status = worst(statuses) if statuses else OK
    ages = [item['age_days'] for item in credentials if item['age_days'] is not None]
    reason = '; '.join(problems) or 'every credential rotated in the last %s days' % warning_days
    return make_result('credential_age', status, reason, max(ages) if ages else None, 'days', warning_days, critical_days,
                       measured_at=at, details={'credentials': credentials})


def certificate_ages(files, now, age_warning, age_critical, expiry_warning, expiry_critical, at):
    """files: [{path, mtime, not_after (optional)}] or [{path, error}]; a key's or certificate's age, a certificate's expiry."""
    statuses, problems, details = [], [], []
    for item in files:
        if item.get('error'):
            statuses.append(WARNING)
            problems.append('%s: %s' % (item['path'], item['error']))
            details.append(item)
            continue
        age = _age_days(now, item['mtime'])
        status = _by_age(age, age_warning, age_critical)
        if status != OK:
            problems.append('%s is %d days old' % (item['path'], age))
        entry = {'path': item['path'], 'age_days': age}
        if item.get('not_after') is not None:
            left = int((item['not_after'] - now) // DAY)
            entry['expires_in_days'] = left
            expiry = CRITICAL if left <= expiry_critical else WARNING if left <= expiry_warning else OK
            if expiry != OK:
                problems.append('%s expires in %d days' % (item['path'], left))
            status = worst([status, expiry])
        statuses.append(status)
        details.append(entry)
    status = worst(statuses) if statuses else OK
    ages = [entry['age_days'] for entry in details if 'age_days' in entry]
    reason = '; '.join(problems) or ('%d key and certificate files within their age and expiry limits' % len(files) if files
                                     else 'no key or certificate file given')
    return make_result('certificate_age', status, reason, max(ages) if ages else None, 'days', age_warning, age_critical,
                       measured_at=at, details={'files': details})


def version_numbers(text):
    """The leading dotted numbers of a version ('2.28.1+dfsg' -> (2, 28, 1), '1.34.0rc1' -> (1, 34, 0)); None without any."""
    match = _VERSION.match(str(text)) if text is not None else None
    return tuple(int(part) for part in match.group(1).split('.')) if match else None


def version_below(found, minimum):
    """Whether version found is below minimum (missing parts count as 0); None when either cannot be read."""
    have, need = version_numbers(found), version_numbers(minimum)
    if have is None or need is None:
        return None
    size = max(len(have), len(need))
    return have + (0,) * (size - len(have)) < need + (0,) * (size - len(need))


def _library(library, report, where, version, minimum):
    """(entry, problem or None) of one library as one Python sees it."""
    entry = {'library': library, 'distribution': HOST_DISTRIBUTIONS.get(library, library), 'python': report.get('executable'),
             'version': version, 'minimum': minimum}
    if version is None:
        return dict(entry, status=CRITICAL), '%s missing %s (server_setup installs %s)' % (
            library, where, HOST_REQUIREMENTS.get(library, library))
    below = version_below(version, minimum) if minimum else False
    if below is None:
        return dict(entry, status=WARNING), '%s version %r cannot be compared with %s %s' % (library, version, minimum, where)
    if below:
        return dict(entry, status=WARNING), '%s %s is older than %s %s' % (library, version, minimum, where)
    return dict(entry, status=OK), None


def python_libraries(own, venv, at, minimums=None, in_venv=HOST_VENV_LIBRARIES):
    """own: _host_audit.python_libraries of the module's Python; venv: None (not audited), {path, missing: True}, {path, error}
    or {path, executable, version, libraries}. Each library of HOST_REQUIREMENTS is judged where server_setup puts it: those of
    in_venv in the virtualenv when one is audited, the others for the module's Python."""
    minimums = HOST_MINIMUM_VERSIONS if minimums is None else minimums
    entries, problems, found = [], [], {'own': [], 'venv': []}
    for library in HOST_REQUIREMENTS:
        minimum = minimums.get(library)
        if venv is not None and library in in_venv:
            if venv.get('missing') or venv.get('error'):
                unread = {'library': library, 'distribution': HOST_DISTRIBUTIONS.get(library, library), 'python': None,
                          'version': None, 'minimum': minimum}
                if venv.get('missing'):
                    entries.append(dict(unread, status=CRITICAL))
                    problems.append('%s missing: no virtualenv %s (server_setup installs %s)' % (
                        library, venv['path'], HOST_REQUIREMENTS.get(library, library)))
                else:
                    entries.append(dict(unread, status=UNKNOWN))
                    problems.append('%s unknown: the virtualenv %s could not be read (%s)' % (library, venv['path'], venv['error']))
                continue
            entry, problem = _library(library, venv, 'in %s' % venv['path'], venv['libraries'].get(library), minimum)
            found['venv'].append('%s %s' % (library, entry['version']))
        else:
            entry, problem = _library(library, own, 'for %s' % own['executable'], own['libraries'].get(library), minimum)
            found['own'].append('%s %s' % (library, entry['version']))
        entries.append(entry)
        if problem:
            problems.append(problem)
    status = worst([entry['status'] for entry in entries]) if entries else OK
    if problems:
        reason = '; '.join(problems)
    else:
        reason = '%s for %s %s' % (', '.join(found['own']) or 'no library', own['executable'], own['version'])
        if found['venv']:
            reason += '; %s in %s (Python %s)' % (', '.join(found['venv']), venv['path'], venv.get('version'))
        reason += ': none below its minimum; ' + LATEST_UNKNOWN
    return make_result('python_libraries', status, reason, len([entry for entry in entries if entry['status'] != OK]), 'libraries',
                       measured_at=at,
                       details={'python': {'executable': own['executable'], 'version': own['version']}, 'venv': venv,
                                'libraries': entries, 'minimums': dict(minimums), 'latest': LATEST_UNKNOWN})
