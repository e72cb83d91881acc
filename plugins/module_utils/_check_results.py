# -*- coding: utf-8 -*-
# Copyright (c) 2026, clawd.ops contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Judging what other modules measured (app_health, backup_verify, telegram_webhook_info,
community.crypto.get_certificate, a timed webhook call; or the same results from host_checks' backup
option and fleet_probes) into check results of the shared format.

Pure: each judge takes the registered result of a task (a plain dict; ``None`` or a skipped result
when the task did not run) and the check's thresholds, and returns one result. A measurement that is
missing becomes ``unknown`` with the reason, never an omission.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import calendar
import time

from ansible_collections.clawd.ops.plugins.module_utils._checks import (
    MAINTENANCE,
    OK,
    SEVERITY,
    ChecksError,
    format_number,
    judge,
    make_result,
    summarise,
    unknown,
)
from ansible_collections.clawd.ops.plugins.module_utils._maintenance import mark_results

JUDGED_CHECKS = ('health', 'latency', 'backup', 'webhook', 'tls_certificate', 'bot_round_trip', 'api_usage')
DEFAULT_THRESHOLDS = {
    'latency': {'warning': 500, 'critical': 2000},           # ms of the health answer
    'backup': {'warning': 25, 'critical': 49},               # hours since the newest archive was made
    'webhook': {'warning': 10, 'critical': 100},             # updates waiting to be delivered
    'webhook_error_hours': 24,                               # a delivery error this recent is a warning
    'tls_certificate': {'warning': 21, 'critical': 7},       # days left (lower is worse)
    'bot_round_trip': {'warning': 2, 'critical': 5},         # seconds
    'api_usage': {'warning': 80, 'critical': 100},           # percent of the budget
}


def _ran(registered):
    """The registered result when its task ran, else None (not registered, skipped)."""
    if not isinstance(registered, dict) or not registered or registered.get('skipped'):
        return None
    return registered


def _limits(thresholds, check):
    limits = (thresholds or {}).get(check) or DEFAULT_THRESHOLDS[check]
    return limits.get('warning'), limits.get('critical')


def _why_not_run(registered, what):
    if isinstance(registered, dict) and registered.get('skipped'):
        return '%s was not measured: %s' % (what, registered.get('skip_reason') or registered.get('msg') or 'the task was skipped')
    return '%s was not measured' % what


def judge_health(registered, measured_at=None):
    """health: the app's health endpoint and its sub-checks (from clawd.ops.app_health)."""
    found = _ran(registered)
    if found is None:
        return unknown('health', _why_not_run(registered, 'the health endpoint'), measured_at=measured_at)
    checks = found.get('checks') or {}
    failed = found.get('failed_checks') or []
    details = {'status': found.get('status'), 'http_status': found.get('http_status'), 'version': found.get('version'),
               'checks': dict((name, (sub or {}).get('status')) for name, sub in checks.items())}
    if found.get('healthy'):
        reason = 'healthy: %d sub-checks ok%s' % (len(checks), ', version %s' % found['version'] if found.get('version') else '')
        return make_result('health', 'ok', reason, 0, measured_at=measured_at, details=details)
    if not found.get('http_status'):
        reason = 'unreachable: %s' % ('; '.join(failed) or found.get('msg') or 'no answer')
    else:
        reason = 'unhealthy (status %s, HTTP %s): %s' % (found.get('status'), found.get('http_status'), '; '.join(failed) or found.get('msg', ''))
    return make_result('health', 'critical', reason, len(failed) or 1, measured_at=measured_at, details=details)


def judge_latency(registered, thresholds=None, measured_at=None):
    """latency: milliseconds of the health answer, timed by app_health through the TLS proxy."""
    found = _ran(registered)
    warning, critical = _limits(thresholds, 'latency')
    if found is None or not found.get('http_status'):
        return unknown('latency', 'no health answer to time' if found is not None else _why_not_run(registered, 'the health endpoint'),
                       unit='ms', warning=warning, critical=critical, measured_at=measured_at)
    result = judge('latency', found.get('elapsed_ms'), warning, critical, unit='ms', measured_at=measured_at)
    result['reason'] = 'the health endpoint answered in %s ms (warning at %s ms, critical at %s ms)' % (
        format_number(found.get('elapsed_ms')), format_number(warning), format_number(critical))
    return result


def judge_backup(registered, thresholds=None, now=None, measured_at=None):
    """backup: the newest archive verified (clawd.ops.backup_verify), its age in hours against the thresholds."""
    found = _ran(registered)
    warning, critical = _limits(thresholds, 'backup')
    if found is None:
        return unknown('backup', _why_not_run(registered, 'the backup'), unit='h', warning=warning, critical=critical, measured_at=measured_at)
    checks = found.get('checks') or []
    broken = [c for c in checks if not c.get('ok') and c.get('name') != 'age']
    archive = found.get('archive')
    details = {'archive': archive, 'created': found.get('created')}
    if not archive:
        reason = 'no backup: %s' % ('; '.join(c.get('reason', '') for c in checks) or found.get('msg') or 'no archive found')
        return make_result('backup', 'critical', reason, None, 'h', warning, critical, measured_at, details)
    if broken:
        reason = 'the newest backup %s failed verification: %s' % (archive, '; '.join('%s: %s' % (c.get('name'), c.get('reason')) for c in broken))
        return make_result('backup', 'critical', reason, None, 'h', warning, critical, measured_at, details)
    age = found.get('age_seconds')
    if age is None and found.get('created'):
        now = time.time() if now is None else now
        age = now - calendar.timegm(time.strptime(found['created'], '%Y-%m-%dT%H:%M:%SZ'))
    if age is None:
        return unknown('backup', 'the age of %s is not known' % archive, unit='h', warning=warning, critical=critical, measured_at=measured_at)
    hours = round(age / 3600.0, 2)
    result = judge('backup', hours, warning, critical, unit='h', measured_at=measured_at, details=details)
    result['reason'] = 'the newest backup %s is %s h old and verified (warning at %s h, critical at %s h)' % (
        archive.rsplit('/', 1)[-1], format_number(hours), format_number(warning), format_number(critical))
    return result


def judge_webhook(registered, thresholds=None, now=None, measured_at=None):
    """webhook: set, updates not piling up, no recent delivery error (clawd.ops.telegram_webhook_info)."""
    found = _ran(registered)
    warning, critical = _limits(thresholds, 'webhook')
    if found is None or 'webhook' not in found:
        why = found.get('msg') if found else None
        return unknown('webhook', why or _why_not_run(registered, 'the webhook'), warning=warning, critical=critical, measured_at=measured_at)
    hook = found['webhook']
    pending = hook.get('pending_update_count') or 0
    details = dict((k, hook.get(k)) for k in ('url', 'pending_update_count', 'last_error_date_iso', 'last_error_message'))
    if not hook.get('url'):
        return make_result('webhook', 'critical', 'no webhook is set: the bot gets no updates', pending, '', warning, critical, measured_at, details)
    result = judge('webhook', pending, warning, critical, measured_at=measured_at, details=details)
    reason = '%d updates waiting (warning at %s, critical at %s)' % (pending, format_number(warning), format_number(critical))
    window = float((thresholds or {}).get('webhook_error_hours', DEFAULT_THRESHOLDS['webhook_error_hours']))
    error_date = hook.get('last_error_date')
    now = time.time() if now is None else now
    if error_date and now - float(error_date) <= window * 3600:
        if result['status'] == 'ok':
            result['status'] = 'warning'
        reason += '; last delivery error at %s: %s' % (hook.get('last_error_date_iso') or error_date, hook.get('last_error_message'))
    result['reason'] = reason
    return result


def parse_asn1_time(text):
    """Epoch seconds of an ASN.1 time as get_certificate returns it (20261231235959Z)."""
    return calendar.timegm(time.strptime(text, '%Y%m%d%H%M%SZ'))


def judge_certificate(registered, thresholds=None, now=None, measured_at=None):
    """tls_certificate: days until the served certificate expires (community.crypto.get_certificate); lower is worse."""
    found = _ran(registered)
    warning, critical = _limits(thresholds, 'tls_certificate')
    if found is None or not found.get('not_after'):
        why = found.get('msg') if found else None
        return unknown('tls_certificate', 'the certificate could not be read: %s' % why if why else _why_not_run(registered, 'the certificate'),
                       unit='days', warning=warning, critical=critical, measured_at=measured_at)
    now = time.time() if now is None else now
    days = round((parse_asn1_time(found['not_after']) - now) / 86400.0, 1)
    details = {'not_after': found['not_after'], 'not_before': found.get('not_before'), 'subject': found.get('subject'),
               'issuer': found.get('issuer')}
    result = judge('tls_certificate', days, warning, critical, unit='days', higher_is_worse=False, measured_at=measured_at, details=details)
    if found.get('expired') or days <= 0:
        result['status'] = 'critical'
        result['reason'] = 'the certificate expired on %s' % found['not_after']
    else:
        result['reason'] = 'the certificate expires in %s days, on %s (warning at %s days, critical at %s days)' % (
            format_number(days), found['not_after'], format_number(warning), format_number(critical))
    return result


def judge_bot(registered, thresholds=None, measured_at=None):
    """bot_round_trip: a /status update POSTed to the bot's webhook and timed (clawd.ops.telegram_bot_probe)."""
    found = _ran(registered)
    warning, critical = _limits(thresholds, 'bot_round_trip')
    if found is None:
        return unknown('bot_round_trip', _why_not_run(registered, 'the bot'), unit='s', warning=warning, critical=critical, measured_at=measured_at)
    seconds = round(found['elapsed_ms'] / 1000.0, 3) if found.get('elapsed_ms') is not None else None
    details = dict((k, found.get(k)) for k in ('status',) if found.get(k) is not None)
    if found.get('status') != 200:
        reason = 'the bot did not answer /status: %s' % (found.get('error') or found.get('msg') or 'HTTP %s' % found.get('status'))
        return make_result('bot_round_trip', 'critical', reason, seconds, 's', warning, critical, measured_at, details)
    result = judge('bot_round_trip', seconds, warning, critical, unit='s', measured_at=measured_at, details=details)
    result['reason'] = 'the bot answered /status in %s s (warning at %s s, critical at %s s)' % (
        format_number(seconds), format_number(warning), format_number(critical))
    return result


def judge_api_usage(usage=None, budget=None, thresholds=None, measured_at=None):
    """api_usage: usage as a share of the budget; unknown unless both a budget and a usage figure are given."""
    warning, critical = _limits(thresholds, 'api_usage')
    if not budget or usage is None:
        missing = ' and '.join(n for n, v in (('no budget', budget), ('no usage source', usage is not None)) if not v)
        return unknown('api_usage', 'API usage is not measured: %s configured (set daily_checks_api_budget and daily_checks_api_usage)' % missing,
                       unit='%', warning=warning, critical=critical, measured_at=measured_at)
    share = round(100.0 * float(usage) / float(budget), 1)
    result = judge('api_usage', share, warning, critical, unit='%', measured_at=measured_at)
    result['reason'] = '%s of a budget of %s used (%s %%; warning at %s %%, critical at %s %%)' % (
        format_number(usage), format_number(budget), format_number(share), format_number(warning), format_number(critical))
    return result


def judge_host(measured, thresholds=None, checks=None, now=None):
    """Every result of one host: its host_checks results first, then each judged check of ``checks`` (all by default).

    measured: {host_checks, health, backup, webhook, certificate, bot, api_usage, api_budget} (registered task results).
    """
    checks = JUDGED_CHECKS if checks is None else checks
    host = _ran(measured.get('host_checks'))
    results = list((host or {}).get('results') or [])
    if host is None and measured.get('host_checks_expected'):
        for check in measured['host_checks_expected']:
            results.append(unknown(check, _why_not_run(measured.get('host_checks'), 'the host')))
    judges = {
        'health': lambda: judge_health(measured.get('health')),
        'latency': lambda: judge_latency(measured.get('health'), thresholds),
        'backup': lambda: judge_backup(measured.get('backup'), thresholds, now),
        'webhook': lambda: judge_webhook(measured.get('webhook'), thresholds, now),
        'tls_certificate': lambda: judge_certificate(measured.get('certificate'), thresholds, now),
        'bot_round_trip': lambda: judge_bot(measured.get('bot'), thresholds),
        'api_usage': lambda: judge_api_usage(measured.get('api_usage'), measured.get('api_budget'), thresholds),
    }
    for check in checks:
        results.append(judges[check]())
    return results


def check_thresholds(thresholds, where):
    """Raise ChecksError unless every key of ``thresholds`` is a judged check with a dict of warning and critical."""
    for name, limits in (thresholds or {}).items():
        if name == 'webhook_error_hours':
            continue
        if name not in DEFAULT_THRESHOLDS or not isinstance(limits, dict):
            raise ChecksError('%s: %r is not a judged check with a dict of warning and critical' % (where, name))


def judge_hosts(hosts, checks=JUDGED_CHECKS, thresholds=None, now=None):
    """Every host's results, the run's summary and its problems (worst first), as clawd.ops.check_results returns them.

    hosts: {host: measured} (see judge_host); a host's own ``checks`` and ``thresholds`` win over ``checks`` and ``thresholds``.
    A host's ``maintenance`` (the registered result of slurping its maintenance marker) puts its results through
    _maintenance.mark_results: in an open window what is not ok becomes ``maintenance``, which is no problem.
    Raises ChecksError (or ValueError, TypeError, KeyError) for measurements that cannot be judged.
    """
    if not isinstance(hosts, dict):
        raise ChecksError('hosts must be a dict of host name to measurements, not %s' % type(hosts).__name__)
    results = {}
    check_thresholds(thresholds, 'thresholds')
    for host, measured in sorted(hosts.items()):
        if not isinstance(measured, dict):
            raise ChecksError('hosts: the measurements of %s are not a dict' % host)
        host_thresholds = measured.get('thresholds') or thresholds or {}
        check_thresholds(host_thresholds, 'hosts.%s.thresholds' % host)
        host_checks = measured.get('checks', checks)
        unknown_checks = [c for c in host_checks if c not in JUDGED_CHECKS]
        if unknown_checks:
            raise ChecksError('hosts.%s.checks: unknown checks %s' % (host, ', '.join(unknown_checks)))
        results[host] = judge_host(measured, host_thresholds, host_checks, now)
        if 'maintenance' in measured:
            results[host] = mark_results(results[host], measured['maintenance'], now)
    problems = sorted(((SEVERITY[r['status']], host, r) for host, found in results.items() for r in found
                       if r['status'] not in (OK, MAINTENANCE)),
                      key=lambda item: (-item[0], item[1], item[2]['check']))
    return {
        'results_by_host': results,
        'summary': summarise(results),
        'problems': ['%s: %s %s: %s' % (host, r['check'], r['status'], r['reason']) for _sev, host, r in problems],
    }
