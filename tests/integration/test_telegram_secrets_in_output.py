# Copyright (c) 2026, clawd.ops contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The Telegram modules through real `ansible-playbook -vvvvvv`: the bot token and the webhook secret never show.

The collection is importable as ansible_collections.clawd.ops through .lab/collections (ansible.cfg);
the stand-in runs in-process on an ephemeral loopback port. Success and failure runs (bad url,
401, 5xx, a connection that times out) are all searched for every form of the secrets.
"""

import os
import subprocess
import sys
from urllib.parse import quote

import pytest
import requests

from standins.telegram import TelegramStandIn

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
TOKEN = "1357913:AAqzXsecretTOKENleakCanary_7f3e-9d2c"
WRONG_TOKEN = "1357913:AAwrongTOKENleakCanary_0b1a-5e6f"
SECRET = "hookSECRETleakCanary_c4f2-88aa"
WEBHOOK = "https://lab1.clawd.test/telegram/webhook"
PLAYBOOK = os.path.join(os.path.dirname(sys.executable), "ansible-playbook")

SUCCESS_PLAY = """
- name: Telegram webhook, success run
  hosts: localhost
  connection: local
  gather_facts: false
  tasks:
    - name: Set the webhook
      clawd.ops.telegram_webhook:
        bot_token: "{{ tg_token }}"
        api_url: "{{ tg_api }}"
        url: %(url)s
        secret_token: "{{ tg_secret }}"
        allowed_updates: [message, callback_query]
        bot_info: true
      diff: true
    - name: Set it again (no change)
      clawd.ops.telegram_webhook:
        bot_token: "{{ tg_token }}"
        api_url: "{{ tg_api }}"
        url: %(url)s
        secret_token: "{{ tg_secret }}"
        allowed_updates: [callback_query, message]
    - name: Read it
      clawd.ops.telegram_webhook_info:
        bot_token: "{{ tg_token }}"
        api_url: "{{ tg_api }}"
      register: info
    - name: Show it
      ansible.builtin.debug:
        var: info
    - name: Change it in check mode with a diff
      clawd.ops.telegram_webhook:
        bot_token: "{{ tg_token }}"
        api_url: "{{ tg_api }}"
        url: %(url)s/v2
        secret_token: "{{ tg_secret }}"
      check_mode: true
      diff: true
    - name: Delete it
      clawd.ops.telegram_webhook:
        bot_token: "{{ tg_token }}"
        api_url: "{{ tg_api }}"
        state: absent
""" % {"url": WEBHOOK}

FAILURE_PLAY = """
- name: Telegram webhook, failure run
  hosts: localhost
  connection: local
  gather_facts: false
  tasks:
    - name: Bad url
      clawd.ops.telegram_webhook:
        bot_token: "{{ tg_token }}"
        api_url: "{{ tg_api }}"
        url: http://lab1.clawd.test:8080/hook
        secret_token: "{{ tg_secret }}"
      ignore_errors: true
    - name: Bad secret (refused before any call)
      clawd.ops.telegram_webhook:
        bot_token: "{{ tg_token }}"
        api_url: "{{ tg_api }}"
        url: %(url)s
        secret_token: "{{ tg_secret }}+/="
      ignore_errors: true
    - name: Wrong token (401)
      clawd.ops.telegram_webhook:
        bot_token: "{{ tg_wrong_token }}"
        api_url: "{{ tg_api }}"
        url: %(url)s
        secret_token: "{{ tg_secret }}"
      ignore_errors: true
    - name: Wrong token, info module (401)
      clawd.ops.telegram_webhook_info:
        bot_token: "{{ tg_wrong_token }}"
        api_url: "{{ tg_api }}"
      ignore_errors: true
    - name: Nobody answers (connection refused)
      clawd.ops.telegram_webhook:
        bot_token: "{{ tg_token }}"
        api_url: http://127.0.0.1:9
        url: %(url)s
        retries: 0
      ignore_errors: true
    - name: Server errors (5xx, retries exhausted), fails the play
      clawd.ops.telegram_webhook:
        bot_token: "{{ tg_token }}"
        api_url: "{{ tg_api_broken }}"
        url: %(url)s
        secret_token: "{{ tg_secret }}"
        retries: 1
""" % {"url": WEBHOOK}


@pytest.fixture(name="broken", scope="module")
def broken_fixture():
    """A stand-in that answers every request with 503."""
    config = {"tokens": [{"token": TOKEN, "username": "canary_bot"}]}
    with TelegramStandIn(config=config).serve_in_thread() as running:
        yield running


@pytest.fixture(name="tg", scope="module")
def tg_fixture():
    config = {"tokens": [{"token": TOKEN, "username": "canary_bot"}], "set_webhook_interval": 0}
    with TelegramStandIn(config=config).serve_in_thread() as running:
        yield running


def secret_forms():
    forms = set()
    for secret in (TOKEN, WRONG_TOKEN, SECRET):
        forms.update((secret, quote(secret, safe=""), secret.rsplit(":", maxsplit=1)[-1]))
    return sorted(forms)


def run_playbook(tmp_path, tg, name, play, broken_url="http://127.0.0.1:9"):
    (tmp_path / (name + ".yml")).write_text(play)
    (tmp_path / "secrets.yml").write_text("tg_token: '%s'\ntg_wrong_token: '%s'\ntg_secret: '%s'\ntg_api: '%s'\ntg_api_broken: '%s'\n"
                                          % (TOKEN, WRONG_TOKEN, SECRET, tg.url, broken_url))
    (tmp_path / "hosts").write_text("localhost ansible_connection=local ansible_python_interpreter=%s\n" % sys.executable)
    env = dict(os.environ, ANSIBLE_CONFIG=os.path.join(ROOT, "ansible.cfg"), ANSIBLE_LOCAL_TEMP=str(tmp_path / "tmp"),
               ANSIBLE_NOCOLOR="1", ANSIBLE_FORCE_COLOR="0", ANSIBLE_RETRY_FILES_ENABLED="0")
    proc = subprocess.run([PLAYBOOK, "-vvvvvv", "-i", str(tmp_path / "hosts"), "-e", "@" + str(tmp_path / "secrets.yml"),
                           str(tmp_path / (name + ".yml"))],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=300, check=False)
    return proc


def assert_no_secret(proc):
    output = proc.stdout + "\n" + proc.stderr
    leaked = [form for form in secret_forms() if form in output]
    assert not leaked, "secrets found in ansible-playbook output: %d form(s)" % len(leaked)
    return output


@pytest.mark.skipif(not os.path.exists(PLAYBOOK), reason="ansible-playbook is not installed beside this Python")
def test_success_run_shows_no_secret(tmp_path, tg):
    requests.post(tg.url + "/_lab/reset", timeout=5)
    proc = run_playbook(tmp_path, tg, "success", SUCCESS_PLAY)
    output = assert_no_secret(proc)
    assert proc.returncode == 0, output[-3000:]
    # The run did what it says, verbosely: the output is there to be searched.
    assert WEBHOOK in output and "canary_bot" in output
    assert "changed: [localhost]" in output and "ok: [localhost]" in output
    assert "webhook_set: true" in output
    assert "secret_token: (the given secret)" not in output  # no secret change: no such diff line


@pytest.mark.skipif(not os.path.exists(PLAYBOOK), reason="ansible-playbook is not installed beside this Python")
def test_failure_run_shows_no_secret(tmp_path, tg, broken):
    requests.post(tg.url + "/_lab/reset", timeout=5)
    requests.post(broken.url + "/_lab/faults", json={"mode": "5xx", "status": 503, "count": 50}, timeout=5)
    proc = run_playbook(tmp_path, tg, "failure", FAILURE_PLAY, broken.url)
    statuses = [e["status"] for e in requests.get(broken.url + "/_lab/requests", timeout=5).json()]
    assert statuses == [503, 503]
    output = assert_no_secret(proc)
    assert proc.returncode == 2, output[-3000:]
    assert "url must be an HTTPS URL" in output
    assert "secret_token must be 1 to 256 characters" in output
    assert "HTTP 401: Unauthorized" in output
    assert "Failed to read bot info for bot 1357913: HTTP 401: Unauthorized" in output
    assert "Connection refused" in output
    assert "/bot***/getWebhookInfo" in output
    assert "503" in output
