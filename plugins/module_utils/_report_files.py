# -*- coding: utf-8 -*-
# Copyright (c) 2026, clawd.ops contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Reports of the daily checks: the run folder on disk.

Layout of a reports folder::

    <dest>/<kind>-<YYYYMMDDTHHMMSSZ>/run.json, run.md, run.html, hosts/<host>.json, hosts/<host>.md
    <dest>/latest-<kind>.json

A run folder is built under a hidden temporary name and renamed when complete, so a reader (the
next run's trends, the weekly summary) never sees half a run; latest-<kind>.json is replaced atomically.

With an S3 URL (s3://bucket/prefix) the history outlives the controller (an AWX job's container is gone
when the job ends): each run's run.json is also stored as <prefix><kind>-<stamp>/run.json, and the earlier
reports are read from there as well as from the folder, each run once. S3 trouble is a problem named in
the result, never a failed run.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import json
import os
import shutil
import tempfile

from ansible_collections.clawd.ops.plugins.module_utils._files import write_atomically
from ansible_collections.clawd.ops.plugins.module_utils._ledger import LedgerError, describe_s3_error, parse_s3_url, s3_client
from ansible_collections.clawd.ops.plugins.module_utils._report import (
    FORMATS,
    KINDS,
    SCHEMA,
    ReportError,
    build_report,
    folder_stamp,
    load_reports,
    safe_name,
    utc_now,
)
from ansible_collections.clawd.ops.plugins.module_utils._time import parse_time
from ansible_collections.clawd.ops.plugins.module_utils._report_html import render_html
from ansible_collections.clawd.ops.plugins.module_utils._report_markdown import render_host_markdown, render_markdown


def _dumps(document):
    return json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False) + '\n'


def host_file_names(hosts):
    """{host: file name stem}, unique even when two host names make the same safe name."""
    names = {}
    for host in sorted(hosts):
        name = safe_name(host)
        while name in names.values():
            name += '_'
        names[host] = name
    return names


def plan_files(report, formats=FORMATS):
    """{relative path: text} of one run folder (run.json always: trends and weekly summaries read it)."""
    files = {'run.json': _dumps(report)}
    if 'md' in formats:
        files['run.md'] = render_markdown(report)
    if 'html' in formats:
        files['run.html'] = render_html(report)
    names = host_file_names(report['hosts'])
    for host in sorted(report['hosts']):
        name = names[host]
        if 'json' in formats:
            host_doc = dict((key, report[key]) for key in ('schema', 'schema_version', 'kind', 'run_id', 'title', 'generated_at'))
            host_doc.update({'host': host, 'worst': report['hosts'][host]['worst'], 'results': report['hosts'][host]['results']})
            files['hosts/%s.json' % name] = _dumps(host_doc)
        if 'md' in formats:
            files['hosts/%s.md' % name] = render_host_markdown(report, host)
    return files


def run_folder_name(dest, kind, now):
    """<kind>-<stamp>, with -2, -3... when a run of the same second is already there."""
    base = '%s-%s' % (kind, folder_stamp(now))
    name = base
    number = 1
    while os.path.exists(os.path.join(dest, name)):
        number += 1
        name = '%s-%d' % (base, number)
    return name


def write_run(dest, folder, files, latest_name, latest_text):
    """Write a run folder's files under a hidden temporary folder, rename it to folder, then replace latest.

    Returns the absolute path of the run folder. Nothing is left behind when a write fails.
    """
    os.makedirs(dest, mode=0o755, exist_ok=True)
    final = os.path.join(dest, folder)
    if os.path.exists(final):
        raise ReportError('run folder %s exists already' % final)
    temp = tempfile.mkdtemp(prefix='.%s.' % folder, suffix='.tmp', dir=dest)
    try:
        for relative in sorted(files):
            path = os.path.join(temp, relative)
            if not os.path.isdir(os.path.dirname(path)):
                os.makedirs(os.path.dirname(path), mode=0o755)
            write_atomically(path, files[relative])
        os.chmod(temp, 0o755)
        os.rename(temp, final)
    except BaseException:
        shutil.rmtree(temp, ignore_errors=True)
        raise
    write_atomically(os.path.join(dest, latest_name), latest_text)
    return final


def _report_id(report):
    return (report.get('generated_at'), report.get('run_id'), report.get('report_dir'))


def load_s3_reports(url, kind, client=None):
    """Earlier run reports of this kind stored under the S3 URL, oldest first, and the problems met reading them."""
    bucket, prefix = parse_s3_url(url)
    reports, problems = [], []
    try:
        client = s3_client(client)
        keys = []
        for page in client.get_paginator('list_objects_v2').paginate(Bucket=bucket, Prefix=prefix + kind + '-'):
            keys.extend(item['Key'] for item in page.get('Contents') or () if item['Key'].endswith('/run.json'))
        for key in sorted(keys):
            try:
                report = json.loads(client.get_object(Bucket=bucket, Key=key)['Body'].read().decode('utf-8'))
            except ValueError as exc:
                problems.append('s3://%s/%s: %s' % (bucket, key, exc))
                continue
            if not isinstance(report, dict) or report.get('schema') != SCHEMA or report.get('kind') != kind \
                    or parse_time(report.get('generated_at')) is None or not isinstance(report.get('hosts'), dict):
                problems.append('s3://%s/%s: not a report of kind %s' % (bucket, key, kind))
                continue
            reports.append(report)
    except (LedgerError, ReportError) as exc:
        problems.append('earlier reports in s3://%s/%s: %s' % (bucket, prefix, exc))
    except Exception as exc:  # botocore's errors
        problems.append('earlier reports in s3://%s/%s: %s' % (bucket, prefix, describe_s3_error(exc)))
    return reports, problems


def store_s3_report(url, folder, text, client=None):
    """Store a run's run.json under the S3 URL as <prefix><folder>/run.json; a problem (text) or None."""
    bucket, prefix = parse_s3_url(url)
    try:
        s3_client(client).put_object(Bucket=bucket, Key='%s%s/run.json' % (prefix, folder), Body=text.encode('utf-8'),
                                     ContentType='application/json')
    except LedgerError as exc:
        return 'storing the report in s3://%s/%s: %s' % (bucket, prefix, exc)
    except Exception as exc:  # botocore's errors
        return 'storing the report in s3://%s/%s: %s' % (bucket, prefix, describe_s3_error(exc))
    return None


def _merged(local, stored):
    """Reports of the folder and of S3, each run once, oldest first."""
    seen, merged = set(), []
    for report in list(local) + list(stored):
        if _report_id(report) not in seen:
            seen.add(_report_id(report))
            merged.append(report)
    merged.sort(key=lambda item: (parse_time(item['generated_at']), item.get('run_id') or ''))
    return merged


def _earlier(dest, kind, s3_url):
    reports, problems = load_reports(dest, kind)
    if s3_url:
        stored, more = load_s3_reports(s3_url, kind)
        reports, problems = _merged(reports, stored), problems + more
    return reports, problems


def make_run(dest, kind, results, formats=FORMATS, history=14, title=None, run_id=None, now=None, check_mode=False, s3_url=None):
    """Build the run report of this run, with trends from earlier reports in dest, and write it unless check_mode.

    Returns {report, files (relative paths), paths, markdown, problems (earlier reports that could not be read,
    S3 trouble)}. With s3_url, the earlier reports stored there count too, and this run's run.json is stored there.
    """
    if kind not in KINDS:
        raise ReportError('kind must be one of %s, not %r' % (', '.join(KINDS), kind))
    bad = [item for item in formats if item not in FORMATS]
    if bad:
        raise ReportError('formats must be among %s, not %s' % (', '.join(FORMATS), ', '.join(map(str, bad))))
    if history < 0:
        raise ReportError('history must be 0 or more, not %d' % history)
    now = now or utc_now()
    dest = os.path.abspath(os.path.expanduser(dest))
    earlier, problems = _earlier(dest, kind, s3_url)
    earlier = earlier[-history:] if history else []
    daily = []
    if kind == 'weekly':
        daily, daily_problems = _earlier(dest, 'daily', s3_url)
        problems += daily_problems
    folder = run_folder_name(dest, kind, now)
    report = build_report(kind, results, run_id=run_id, title=title, now=now, earlier=earlier, daily_reports=daily,
                          report_dir=folder)
    files = plan_files(report, formats)
    latest_name = 'latest-%s.json' % kind
    run_dir = os.path.join(dest, folder)
    paths = {'dir': run_dir, 'latest': os.path.join(dest, latest_name), 'hosts': {}}
    for name in ('json', 'md', 'html'):
        relative = 'run.%s' % name
        paths['run_%s' % name] = os.path.join(run_dir, relative) if relative in files else None
    for host, stem in host_file_names(report['hosts']).items():
        paths['hosts'][host] = dict((name, os.path.join(run_dir, 'hosts', '%s.%s' % (stem, name))
                                     if 'hosts/%s.%s' % (stem, name) in files else None) for name in ('json', 'md'))
    if not check_mode:
        write_run(dest, folder, files, latest_name, files['run.json'])
        problem = store_s3_report(s3_url, folder, files['run.json']) if s3_url else None
        if problem:
            problems.append(problem)
    return {'report': report, 'files': sorted(files), 'paths': paths, 'markdown': render_markdown(report), 'problems': problems}
