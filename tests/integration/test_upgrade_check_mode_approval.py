# Copyright (c) 2026, clawd.ops contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The upgrade role in check mode says how a wave would be approved: the plan's approval line and the wave's approved_by
name the way (Telegram with its approvers, or the terminal), the timeout and its outcome - not an empty approved_by.

ansible-playbook --check on localhost runs the role's gates.yml (the plan) and approval.yml, as the production play does
before a wave. Nothing is sent in check mode, so no Bot API is needed; the token is a made-up one."""

import json
import os
import subprocess
import sys

import pytest

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
PLAYBOOK = os.path.join(os.path.dirname(sys.executable), "ansible-playbook")

PLAY = """
- name: Plan a wave of an upgrade in check mode
  hosts: localhost
  gather_facts: false
  vars:
    upgrade_commit: 3f2a9c1e0d4b5a6c7d8e9f0011223344556677ab
    upgrade_approval: %(approval)s
    upgrade_approval_telegram_bot_token: "123456:ABCdefGhIjKlMnOpQrStUvWxYz_0123456789"
    upgrade_approval_telegram_chat_id: "-100123"
    upgrade_approval_telegram_approvers: [111, 222]
    upgrade_approval_timeout: 60
    upgrade_approval_timeout_outcome: reject
    upgrade_release_gate_enabled: false
    upgrade_freeze_path: %(tmp)s/freeze.json
    upgrade_ledger_path: %(tmp)s/ledger.jsonl
    __upgrade_who: ops@laptop
    __upgrade_wave: 2
    __upgrade_waves: [[localhost], [localhost]]
  tasks:
    - name: Show the plan, as before the first wave
      ansible.builtin.include_role: {name: clawd.ops.upgrade, tasks_from: gates.yml}
    - name: Ask for approval of the wave
      ansible.builtin.include_role: {name: clawd.ops.upgrade, tasks_from: approval.yml}
    - name: Show who approved
      ansible.builtin.debug: {var: __upgrade_approval}
"""


def run_check(tmp_path, approval):
    (tmp_path / "play.yml").write_text(PLAY % {"approval": approval, "tmp": tmp_path})
    (tmp_path / "hosts").write_text("localhost ansible_connection=local ansible_python_interpreter=%s\n" % sys.executable)
    env = dict(os.environ, ANSIBLE_CONFIG=os.path.join(ROOT, "ansible.cfg"), ANSIBLE_LOCAL_TEMP=str(tmp_path / "tmp"),
               ANSIBLE_STDOUT_CALLBACK="ansible.builtin.json", ANSIBLE_CALLBACKS_ENABLED="ansible.builtin.junit",
               JUNIT_OUTPUT_DIR=str(tmp_path / "junit"), ANSIBLE_NOCOLOR="1", ANSIBLE_RETRY_FILES_ENABLED="0")
    proc = subprocess.run([PLAYBOOK, "--check", "-i", str(tmp_path / "hosts"), str(tmp_path / "play.yml")],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=300, check=False)
    assert proc.returncode == 0, (proc.stdout + proc.stderr)[-3000:]
    found = {}
    for play in json.loads(proc.stdout)["plays"]:
        for task in play["tasks"]:
            result = task["hosts"].get("localhost", {})
            if task["task"]["name"].endswith(" : Show the plan"):
                found["plan"] = result["msg"]
            if task["task"]["name"] == "Show who approved":
                found["approval"] = result["__upgrade_approval"]
    return found


@pytest.mark.skipif(not os.path.exists(PLAYBOOK), reason="ansible-playbook is not installed beside this Python")
@pytest.mark.parametrize("approval, way", [
    ("telegram", "telegram by approvers [111, 222] in chat -100123, timeout 60 s -> reject"),
    ("pause", "pause at the terminal of ops@laptop, timeout 60 s -> reject"),
], ids=["telegram", "pause"])
def test_check_mode_says_how_the_wave_would_be_approved(tmp_path, approval, way):
    found = run_check(tmp_path, approval)
    assert found["plan"]["approval"] == way + "; before every wave but the first"
    assert found["approval"]["approved"] is True and found["approval"]["decision"] == "approve"
    assert found["approval"]["by"] == "check mode: " + way
