# -*- coding: utf-8 -*-
# Copyright (c) 2026, clawd.ops contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The host_audit module run in-process: its options, its levels, its ending (the audit itself: test__host_audit_run)."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import os

from ansible_collections.clawd.ops.tests.unit.plugins.modules.module_runner import run_main

from ansible_collections.clawd.ops.plugins.modules import host_audit


def test_unknown_level_is_refused_naming_the_known_ones(results):
    assert run_main(host_audit.main, {'checks': ['users'], 'levels': {'image_age_warn': 1}}) == 1
    assert 'levels has no image_age_warn' in results[0]['msg'] and 'image_age_warning' in results[0]['msg']


def test_a_database_without_its_container_is_refused(results):
    assert run_main(host_audit.main, {'checks': ['database'], 'databases': [{'name': 'app', 'database': 'app'}]}) == 1
    assert 'needs name, container and database' in results[0]['msg']


def test_sudo_rules_read_from_a_given_sudoers_and_judged_with_a_frozen_clock(results, tmp_path):
    sudoers = tmp_path / 'sudoers'
    sudoers.write_text('root ALL=(ALL:ALL) ALL\nops ALL=(ALL) NOPASSWD: ALL\n')
    args = {'checks': ['sudo_rules', 'database'], 'sudoers_path': str(sudoers), 'expected_sudo_rules': ['root ALL=(ALL:ALL) ALL'],
            'now': 1796612400}
    assert run_main(host_audit.main, args) == 0
    out = results[0]
    assert out['changed'] is False and out['worst'] == 'critical'
    assert [item['check'] for item in out['results']] == ['sudo_rules', 'database']
    assert out['results'][0]['measured_at'] == '2026-12-07T03:00:00Z' and 'ops ALL=(ALL) NOPASSWD: ALL' in out['results'][0]['reason']


def test_the_audits_results_make_a_monthly_report_of_their_own_kind(results, tmp_path):
    from ansible_collections.clawd.ops.plugins.module_utils import _report_files
    import datetime
    sudoers = tmp_path / 'sudoers'
    sudoers.write_text('ops ALL=(ALL) NOPASSWD: ALL\n')
    assert run_main(host_audit.main, {'checks': ['sudo_rules'], 'sudoers_path': str(sudoers), 'now': 1796612400}) == 0
    now = datetime.datetime(2026, 12, 7, 3, 0, tzinfo=datetime.timezone.utc)
    run = _report_files.make_run(str(tmp_path / 'reports'), 'monthly', {'vps1': results[0]['results']}, now=now)
    assert run['report']['kind'] == 'monthly' and run['report']['title'] == 'Monthly maintenance'
    assert os.path.isfile(str(tmp_path / 'reports' / 'latest-monthly.json'))
    assert 'sudo_rules' in run['markdown'] and run['report']['summary']['worst'] == 'critical'


def test_python_libraries_read_from_the_modules_own_python(results):
    import sys
    assert run_main(host_audit.main, {'checks': ['python_libraries'], 'python_venv': '', 'now': 1796612400}) == 0
    result = results[0]['results'][0]
    assert result['check'] == 'python_libraries' and result['status'] in ('ok', 'warning', 'critical')
    assert result['details']['python']['executable'] == sys.executable and result['details']['venv'] is None
