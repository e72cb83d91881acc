# -*- coding: utf-8 -*-
# Copyright (c) 2026, clawd.ops contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""What the host_checks module measures on a host, and how each measurement is judged.

Pure parts (parsers of /proc files, log counting, access-line statistics, the judges that turn a
measurement into a check result of the shared format of module_utils/_checks) take plain data and are
unit-tested on their own. The readers at the bottom (``read_*``) are the thin I/O around them; containers
and their log lines are read through module_utils/_containers, as app_watch reads them.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import os
import re
import socket
import time

from ansible_collections.clawd.ops.plugins.module_utils import _backup_reader
from ansible_collections.clawd.ops.plugins.module_utils._backup_format import MissingLibraryError
from ansible_collections.clawd.ops.plugins.module_utils._containers import LineCounter
from ansible_collections.clawd.ops.plugins.module_utils._requirements import missing_lib_msg
from ansible_collections.clawd.ops.plugins.module_utils._checks import judge, make_result, unknown

HOST_CHECKS = ('containers', 'container_restarts', 'disk', 'memory', 'cpu',
               'logs_errors', 'logs_unauthorized', 'logs_rate_limit', 'error_rate', 'dns')
LOG_CHECKS = {'logs_errors': 'errors', 'logs_unauthorized': 'unauthorized', 'logs_rate_limit': 'rate_limit'}
DEFAULT_THRESHOLDS = {
    'containers': {'warning': 1, 'critical': 1},
    'container_restarts': {'warning': 1, 'critical': 5},
    'disk': {'warning': 70, 'critical': 80},
    'memory': {'warning': 80, 'critical': 95},
    'cpu': {'warning': 70, 'critical': 90},
    'logs_errors': {'warning': 10, 'critical': 100},
    'logs_unauthorized': {'warning': 20, 'critical': 200},
    'logs_rate_limit': {'warning': 5, 'critical': 50},
    'error_rate': {'warning': 1, 'critical': 5},
}
# The access line the sample app (and most small apps) write: <client> "<METHOD> <path>" <status>.
ACCESS_LINE = re.compile(r'"(?:GET|HEAD|POST|PUT|PATCH|DELETE|OPTIONS) [^"]*" (\d{3})\b')


def _num(value):
    return int(value) if float(value).is_integer() else round(float(value), 1)


def judged(check, value, thresholds, unit, what, measured_at=None, details=None):
    """judge() a number against the check's thresholds; the reason says what the number is and where the limits are."""
    limits = thresholds[check]
    out = judge(check, value, limits['warning'], limits['critical'], unit=unit, measured_at=measured_at, details=details)
    space = ' ' if unit and unit != '%' else ''
    unit_text = ' %' if unit == '%' else space + unit
    out['reason'] = '%s (warning at %s%s, critical at %s%s)' % (what, _num(limits['warning']), unit_text, _num(limits['critical']), unit_text)
    return out


def merge_thresholds(overrides):
    """The default thresholds with the given ones over them; raises ValueError on an unknown check or a non-number."""
    merged = dict((name, dict(limits)) for name, limits in DEFAULT_THRESHOLDS.items())
    for name, limits in (overrides or {}).items():
        if name not in merged:
            raise ValueError('thresholds: unknown check %r (known: %s)' % (name, ', '.join(sorted(merged))))
        if not isinstance(limits, dict):
            raise ValueError('thresholds: %s must be a dict with warning and critical' % name)
        for level, value in limits.items():
            if level not in ('warning', 'critical'):
                raise ValueError('thresholds: %s: unknown level %r' % (name, level))
            try:
                merged[name][level] = float(value)
            except (TypeError, ValueError):
                raise ValueError('thresholds: %s.%s: %r is not a number' % (name, level, value))
    return merged


# -- /proc parsers -----------------------------------------------------------------------------

def parse_meminfo(text):
    """Used memory in percent from /proc/meminfo (MemTotal - MemAvailable), and the totals in MiB."""
    values = {}
    for line in text.splitlines():
        key, _sep, rest = line.partition(':')
        parts = rest.split()
        if parts and parts[0].isdigit():
            values[key.strip()] = int(parts[0])
    total = values.get('MemTotal')
    available = values.get('MemAvailable')
    if available is None and total is not None:
        available = values.get('MemFree', 0) + values.get('Buffers', 0) + values.get('Cached', 0)
    if not total:
        raise ValueError('no MemTotal in /proc/meminfo')
    used = total - available
    return {'used_percent': round(100.0 * used / total, 1), 'total_mib': total // 1024, 'available_mib': available // 1024}


def parse_cpu_times(text):
    """(busy, total) jiffies of all CPUs from the first line of /proc/stat."""
    for line in text.splitlines():
        fields = line.split()
        if fields and fields[0] == 'cpu':
            numbers = [int(f) for f in fields[1:]]
            idle = numbers[3] + (numbers[4] if len(numbers) > 4 else 0)  # idle + iowait
            total = sum(numbers[:8])  # user nice system idle iowait irq softirq steal (guest is in user)
            return total - idle, total
    raise ValueError('no cpu line in /proc/stat')


def cpu_percent(before, after):
    """Busy share in percent between two parse_cpu_times() samples."""
    busy = after[0] - before[0]
    total = after[1] - before[1]
    return round(100.0 * busy / total, 1) if total > 0 else 0.0


def disk_percent(used, free):
    """Used share as df(1) shows it: used / (used + available to unprivileged users)."""
    denominator = used + free
    return round(100.0 * used / denominator, 1) if denominator else 0.0


# -- logs --------------------------------------------------------------------------------------

def count_lines(lines_by_container, patterns=None, secrets=()):
    """Lines per category, per container, the last matching line per category, and the access-line statistics.

    lines_by_container: container -> list of log lines. Returns {counts, by_container, last, requests, server_errors,
    client_errors, status_codes}.
    """
    counter = LineCounter(patterns)
    requests_total = server_errors = client_errors = 0
    codes = {}
    for container, lines in sorted(lines_by_container.items()):
        counter.add_lines(container, lines)
        for line in lines:
            access = ACCESS_LINE.search(line)
            if access:
                code = access.group(1)
                requests_total += 1
                codes[code] = codes.get(code, 0) + 1
                if code.startswith('5'):
                    server_errors += 1
                elif code.startswith('4'):
                    client_errors += 1
    return {'counts': counter.counts, 'by_container': counter.by_container, 'last': counter.last_lines(secrets),
            'requests': requests_total, 'server_errors': server_errors, 'client_errors': client_errors, 'status_codes': codes}


def judge_logs(stats, checks, thresholds, hours, measured_at=None):
    """Results of the log checks (logs_errors, logs_unauthorized, logs_rate_limit) and error_rate from count_lines()."""
    out = []
    for check in checks:
        category = LOG_CHECKS.get(check)
        if category is not None:
            count = stats['counts'].get(category, 0)
            where = ', '.join('%s %d' % (c, per[category]) for c, per in sorted(stats['by_container'].items()) if per.get(category))
            details = {'by_container': dict((c, per.get(category, 0)) for c, per in stats['by_container'].items())}
            if stats['last'].get(category):
                details['last_line'] = stats['last'][category]
            what = '%d %s lines in the last %s h%s' % (count, category.replace('_', ' '), _num(hours), ' (%s)' % where if where else '')
            out.append(judged(check, count, thresholds, 'lines', what, measured_at, details))
        elif check == 'error_rate':
            total = stats['requests']
            rate = round(100.0 * stats['server_errors'] / total, 2) if total else 0.0
            details = {'requests': total, 'server_errors': stats['server_errors'], 'client_errors': stats['client_errors'],
                       'status_codes': stats['status_codes']}
            if total:
                what = '%s %% of %d requests in the last %s h answered 5xx' % (_num(rate), total, _num(hours))
            else:
                what = 'no requests logged in the last %s h, so no errors' % _num(hours)
            out.append(judged(check, rate, thresholds, '%', what, measured_at, details))
    return out


# -- containers --------------------------------------------------------------------------------

def judge_containers(states, checks, thresholds, measured_at=None):
    """containers and container_restarts from container -> container_state() (None when the container does not exist)."""
    out = []
    if 'containers' in checks:
        problems = []
        for name, state in sorted(states.items()):
            if state is None:
                problems.append('%s does not exist' % name)
            elif state.get('status') != 'running':
                problems.append('%s is %s (exit code %s)' % (name, state.get('status'), state.get('exit_code')))
            elif state.get('health') == 'unhealthy':
                problems.append('%s is unhealthy (Docker health check)' % name)
        running = len(states) - len(problems)
        what = '%d of %d containers running%s' % (running, len(states), ': ' + '; '.join(problems) if problems else '')
        details = dict((name, (state or {}).get('status', 'missing')) for name, state in states.items())
        out.append(judged('containers', len(problems), thresholds, '', what, measured_at, details))
    if 'container_restarts' in checks:
        counts = dict((name, int((state or {}).get('restart_count') or 0)) for name, state in states.items())
        restarting = [name for name, state in sorted(states.items()) if state and state.get('status') == 'restarting']
        total = sum(counts.values())
        where = ', '.join('%s %d' % (name, n) for name, n in sorted(counts.items()) if n)
        what = '%d restarts since the containers were created%s%s' % (
            total, ' (%s)' % where if where else '', '; restarting now: %s' % ', '.join(restarting) if restarting else '')
        res = judged('container_restarts', total, thresholds, '', what, measured_at, {'restart_count': counts})
        if restarting and res['status'] != 'critical':
            res['status'] = 'critical'
        out.append(res)
    return out


# -- DNS ---------------------------------------------------------------------------------------

def judge_dns(answers, expected=None, measured_at=None):
    """dns from name -> list of addresses (or an error string). expected: addresses each name must resolve to (any of)."""
    failed = sorted(name for name, found in answers.items() if not isinstance(found, list))
    wrong = []
    if expected:
        wrong = sorted(name for name, found in answers.items() if isinstance(found, list) and not set(found) & set(expected))
    parts = ['%s: %s' % (name, answers[name]) for name in failed]
    parts += ['%s resolves to %s, expected %s' % (name, ', '.join(answers[name]), ', '.join(expected)) for name in wrong]
    if not answers:
        return unknown('dns', 'no names to resolve', measured_at=measured_at)
    status = 'critical' if failed else 'warning' if wrong else 'ok'
    reason = '; '.join(parts) if parts else '%s resolve%s' % (
        ', '.join('%s to %s' % (name, ', '.join(found)) for name, found in sorted(answers.items())), '' if len(answers) > 1 else 's')
    return make_result('dns', status, reason, len(failed) + len(wrong), measured_at=measured_at, details={'answers': answers})


# -- readers (I/O) -----------------------------------------------------------------------------

def read_file(path):
    with open(path) as handle:
        return handle.read()


def read_cpu(sample_seconds, reader=read_file, sleep=time.sleep):
    before = parse_cpu_times(reader('/proc/stat'))
    sleep(sample_seconds)
    return cpu_percent(before, parse_cpu_times(reader('/proc/stat')))


def read_disks(paths):
    """path -> {used_percent, free_gib} or an error string, for each path (the closest existing parent is measured)."""
    found = {}
    for path in paths:
        probe = os.path.abspath(path)
        while not os.path.exists(probe) and os.path.dirname(probe) != probe:
            probe = os.path.dirname(probe)
        try:
            stat = os.statvfs(probe)
        except OSError as exc:
            found[path] = 'cannot stat %s: %s' % (probe, exc.strerror or exc)
            continue
        used = (stat.f_blocks - stat.f_bfree) * stat.f_frsize
        free = stat.f_bavail * stat.f_frsize
        found[path] = {'used_percent': disk_percent(used, free), 'free_gib': round(free / 1024.0 ** 3, 1)}
    return found


def judge_disks(found, thresholds, measured_at=None):
    """disk: the fullest of the measured filesystems."""
    sizes = dict((path, info) for path, info in found.items() if isinstance(info, dict))
    if not sizes:
        return unknown('disk', '; '.join(str(v) for v in found.values()) or 'no disk paths given', measured_at=measured_at)
    path, info = max(sizes.items(), key=lambda item: item[1]['used_percent'])
    what = '%s %% used on %s (%s GiB free)' % (_num(info['used_percent']), path, info['free_gib'])
    return judged('disk', info['used_percent'], thresholds, '%', what, measured_at, {'paths': found})


def resolve(names, resolver=socket.getaddrinfo):
    answers = {}
    for name in names:
        try:
            answers[name] = sorted(set(info[4][0] for info in resolver(name, None, 0, socket.SOCK_STREAM)))
        except (socket.gaierror, socket.herror, UnicodeError, OSError) as exc:
            answers[name] = 'does not resolve (%s)' % (getattr(exc, 'strerror', None) or exc)
    return answers


# Fields of clawd.ops.backup_verify's result that the backup check does not judge or report.
BACKUP_LEFT_OUT = ('manifest', 'unsafe_members', 'spot_check')


def verify_backup(folder, pattern='*.tar.*', max_age=None, find=None, verify=None):
    """The newest archive of ``folder`` verified with the code of clawd.ops.backup_verify, as its registered result.

    The result is backup_verify's report without BACKUP_LEFT_OUT, with ``failed`` and its ``msg`` when the
    verification failed (no archive, an unreadable folder, a broken archive, a missing library); it never raises.
    """
    find = _backup_reader.find_newest if find is None else find
    verify = _backup_reader.verify_archive if verify is None else verify
    reason = None
    try:
        archive = find(folder, pattern) if os.path.isdir(folder) else folder
    except _backup_reader.BackupReadError as exc:
        archive, reason = None, str(exc)
    if archive is None:
        reason = reason or 'no archive matching %s in %s' % (pattern, folder)
        return dict(changed=False, failed=True, msg='Backup verification failed: %s' % reason, archive=None, ok=False,
                    checks=[{'name': 'exists', 'ok': False, 'reason': reason}])
    try:
        report = verify(archive, require_checksum=True, require_manifest=True, max_age=max_age or None, min_size=1)
    except MissingLibraryError as exc:
        return dict(changed=False, failed=True, msg=missing_lib_msg(exc.library))
    except ValueError as exc:
        return dict(changed=False, failed=True, msg='Invalid max_age: %s' % exc)
    result = dict((key, value) for key, value in report.items() if key not in BACKUP_LEFT_OUT)
    result['changed'] = False
    if not report['ok']:
        result.update(failed=True, msg='Backup %s failed verification: %s' % (archive, _backup_reader.failure_summary(report)))
    return result
