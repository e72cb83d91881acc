# Copyright (c) 2026, clawd.ops contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""clawd.ops.twilio_number through real ansible-playbook -vvvvvv: the auth token never appears in the output,
in runs that succeed and in runs that fail (Twilio errors, a wrong token, 5xx, an unreachable API)."""

import base64
import json
import os
import secrets
import shutil
import subprocess
import sys
from pathlib import Path
from urllib.parse import quote, quote_plus

import pytest
import requests

from standins import Fault
from standins.twilio import TwilioStandIn

ROOT = Path(__file__).resolve().parents[2]
SID = "AC" + "c0ffee00" * 4
TOKEN = "tw-SECRET-" + secrets.token_hex(12)
WRONG_TOKEN = "tw-WRONG-" + secrets.token_hex(12)
PLAYBOOK_RUN_TIMEOUT = 300

pytestmark = pytest.mark.skipif(shutil.which("ansible-playbook", path=os.path.dirname(sys.executable)) is None,
                                reason="ansible-playbook is not installed next to this Python")

PLAYBOOK = """
- name: Manage a Twilio number against the stand-in
  hosts: localhost
  connection: local
  gather_facts: false
  module_defaults:
    clawd.ops.twilio_number:
      account_sid: "{{ sid }}"
      auth_token: "{{ token }}"
      api_url: "{{ api_url }}"
      timeout: 5
  tasks:
    - name: Buy and configure a number (check mode, diff)
      clawd.ops.twilio_number:
        phone_number: "+14155550100"
        friendly_name: clawd secrets test
        sms_url: https://lab1.clawd.test/twilio/sms
      check_mode: true
      diff: true

    - name: Buy and configure a number
      clawd.ops.twilio_number:
        phone_number: "+14155550100"
        friendly_name: clawd secrets test
        sms_url: https://lab1.clawd.test/twilio/sms
      diff: true
      register: bought

    - name: Change its voice URL
      clawd.ops.twilio_number:
        phone_number: "+14155550100"
        voice_url: https://lab1.clawd.test/twilio/voice
      diff: true

    - name: Buy in an area code without numbers (fails with 21452)
      clawd.ops.twilio_number:
        friendly_name: nowhere
        area_code: "533"
      ignore_errors: true

    - name: Release without saying so (refused)
      clawd.ops.twilio_number:
        phone_number: "+14155550100"
        state: absent
      ignore_errors: true

    - name: Ask an API that is not there
      clawd.ops.twilio_number:
        phone_number: "+14155550100"
        api_url: http://127.0.0.1:9
        retries: 0
      ignore_errors: true

    - name: Release the number
      clawd.ops.twilio_number:
        phone_number: "+14155550100"
        state: absent
        release: true
"""


def variants(secret):
    """The forms a leaked token could take in the output."""
    found = {secret, quote(secret, safe=""), quote_plus(secret), json.dumps(secret)[1:-1]}
    for sid in (SID,):
        found.add(base64.b64encode(("%s:%s" % (sid, secret)).encode()).decode())
    return found


@pytest.fixture(name="twilio")
def twilio_fixture():
    config = {"accounts": [{"sid": SID, "auth_token": TOKEN}]}
    with TwilioStandIn(config=config).serve_in_thread() as running:
        yield running


def run_playbook(tmp_path, api_url, token, extra_args=()):
    collections = tmp_path / "collections" / "ansible_collections" / "clawd"
    collections.mkdir(parents=True, exist_ok=True)
    if not (collections / "ops").exists():
        (collections / "ops").symlink_to(ROOT)
    playbook = tmp_path / "twilio.yml"
    playbook.write_text(PLAYBOOK)
    variables = tmp_path / "vars.json"
    variables.write_text(json.dumps({"sid": SID, "token": token, "api_url": api_url, "ansible_python_interpreter": sys.executable}))
    env = dict(os.environ, ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"), ANSIBLE_COLLECTIONS_PATH=str(tmp_path / "collections"),
               ANSIBLE_NOCOLOR="1", ANSIBLE_LOCAL_TEMP=str(tmp_path / "tmp"), ANSIBLE_HOME=str(tmp_path / "home"))
    command = [os.path.join(os.path.dirname(sys.executable), "ansible-playbook"), "-vvvvvv", "-i", "localhost,",
               "-e", "@%s" % variables, str(playbook)] + list(extra_args)
    done = subprocess.run(command, cwd=str(ROOT), env=env, capture_output=True, text=True, timeout=PLAYBOOK_RUN_TIMEOUT, check=False)
    return done.returncode, done.stdout + done.stderr


def assert_no_secret(output, secret):
    for variant in variants(secret):
        assert variant not in output, "the auth token (as %r) is in the ansible-playbook output" % variant


def test_token_absent_from_successful_and_failing_tasks(twilio, tmp_path):
    requests_log = twilio.url + "/_lab/requests"
    code, output = run_playbook(tmp_path, twilio.url, TOKEN)
    assert code == 0, output[-3000:]
    # the run did what it says: bought, changed, failed where expected, released
    assert "Twilio error 21452: No numbers found in area code 533" in output
    assert "releases a number only when phone_number names it and release=true" in output
    assert "Failed to list the numbers of account %s" % SID in output
    assert "ok=7" in output and "changed=4" in output and "ignored=3" in output
    assert twilio.standin.numbers == {}
    assert_no_secret(output, TOKEN)
    # the token did travel through the printed module arguments, masked
    assert 'auth_token: VALUE_SPECIFIED_IN_NO_LOG_PARAMETER' in output
    assert TOKEN not in requests.get(requests_log, timeout=5).text


def test_token_absent_when_twilio_refuses_it(twilio, tmp_path):
    code, output = run_playbook(tmp_path, twilio.url, WRONG_TOKEN)
    assert code != 0
    assert "HTTP 401: Twilio error 20003: Authenticate" in output
    assert_no_secret(output, WRONG_TOKEN)
    assert_no_secret(output, TOKEN)


def test_token_absent_when_twilio_fails_with_5xx(twilio, tmp_path):
    twilio.standin.add_fault(Fault("5xx", count=50, status=503))
    code, output = run_playbook(tmp_path, twilio.url, TOKEN, ["-e", "ansible_check_mode=false"])
    assert code != 0
    assert "HTTP 503: Twilio error 20503: Service Unavailable" in output
    assert_no_secret(output, TOKEN)
