# Copyright (c) 2026, clawd.ops contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""tests/readme/run_readme.py's secret scan: every lab secret is found by NAME in a command's output, in any form,
and neither what it prints nor the log it writes holds a value. Runs a small bash script, not the README."""

import base64
import hashlib
import io
import os
import sys
from urllib.parse import quote

import pytest

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "tests", "readme"))

# pylint: disable=wrong-import-position
import run_readme  # noqa: E402

SECRETS = {
    "telegram_bot_token": "12345678:AAcanaryTOKENxx0123456789abcdefx",
    "telegram_bot_issuer_key": "issuerCANARY0123456789abcdef0123456789ab",
    "telegram_webhook_secret": "hookCANARY0123456789abcdef0123456789abcd",
    "coolify_api_token": "1|coolifyCANARY0123456789abcdef01",
    "twilio_account_sid": "ACsidCANARY0123456789abcdef0123",
    "twilio_auth_token": "authCANARY0123456789abcdef01",
    "s3_access_key": "AKIACANARY0123456",
    "s3_secret_key": "s3secretCANARY0123456789abcdef0123456789",
}
KEY_BODY = "b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZWQyNTUxOQ"


@pytest.fixture
def secrets_dir(tmp_path):
    folder = tmp_path / "secrets"
    (folder / "ssh").mkdir(parents=True)
    for name, value in SECRETS.items():
        (folder / name).write_text(value + "\n")
    (folder / "ssh" / "id_ed25519").write_text(
        "-----BEGIN OPENSSH PRIVATE KEY-----\n%s\nAAAA\n-----END OPENSSH PRIVATE KEY-----\n" % KEY_BODY)
    (folder / "ssh" / "id_ed25519.pub").write_text("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIpublic lab\n")
    inventory = tmp_path / "inventory" / "group_vars" / "all"
    inventory.mkdir(parents=True)
    (inventory / "vars.yml").write_text("---\nsome_api_password: literalPASSWORDcanary42\nsome_token: '{{ lookup(\"x\") }}'\n"
                                        "plain_name: notAsecretAtAll123\n")
    (inventory / "vault.yml").write_text("---\nvault_db_password: !vault |\n  $ANSIBLE_VAULT;1.1;AES256\n  6162\n"
                                         "raw_api_token: !unsafe 'unsafeTOKENcanary{{x}}99'\n")
    return folder, tmp_path / "inventory"


def issued(index):
    bot_id = 7100000000 + index
    digest = hashlib.sha256(("%s:%s" % (SECRETS["telegram_bot_issuer_key"], bot_id)).encode()).hexdigest()[:33]
    return "%d:AA%s" % (bot_id, digest)


def test_every_secret_is_found_by_name_in_every_form(secrets_dir):
    scanner = run_readme.SecretScanner(*secrets_dir)
    cases = [(value, name) for name, value in SECRETS.items()]
    cases += [(quote(SECRETS["coolify_api_token"], safe=""), "coolify_api_token"),
              ("Bearer " + SECRETS["coolify_api_token"].split("|")[1], "coolify_api_token"),
              ("https://api.telegram.org/bot%s/getMe" % issued(2), "telegram_bot_token (issued to lab host 2)"),
              (base64.b64encode(("%s:%s" % (SECRETS["twilio_account_sid"], SECRETS["twilio_auth_token"])).encode()).decode(),
               "twilio_auth_token"),
              (KEY_BODY, "ssh/id_ed25519"),
              ("x=literalPASSWORDcanary42", "inventory variable some_api_password"),
              ("t=unsafeTOKENcanary{{x}}99", "inventory variable raw_api_token")]
    for text, name in cases:
        clean, found = scanner.scan("ok: [lab1] => %s\n" % text)
        assert name in found, text
        assert "<redacted:%s>" % name in clean
        for value in list(SECRETS.values()) + [issued(2), KEY_BODY]:
            assert value not in clean
    assert scanner.scan("notAsecretAtAll123 AAAA public\n") == ("notAsecretAtAll123 AAAA public\n", [])


def test_a_leak_is_named_per_command_and_never_printed_or_logged(secrets_dir, tmp_path):
    folder, inventory = secrets_dir
    script = tmp_path / "readme.sh"
    script.write_text("printf '\\n==> README [1/2] (line 3) echo hello\\n'\necho hello\n"
                      "printf '\\n==> README [2/2] (line 4) leak\\n'\necho \"token=%s\" >&2\necho \"sid=%s\"\n"
                      % (issued(1), SECRETS["twilio_account_sid"]))
    out = io.StringIO()
    log = io.StringIO()
    rc, leaks = run_readme.run_scanned(str(script), dict(os.environ), run_readme.SecretScanner(str(folder), str(inventory)), out, log)
    assert rc == 0
    assert leaks == {2: {"telegram_bot_token (issued to lab host 1)": 1, "twilio_account_sid": 1}}
    for text in (out.getvalue(), log.getvalue()):
        assert "hello" in text
        assert issued(1) not in text and SECRETS["twilio_account_sid"] not in text
        assert "token=<redacted:telegram_bot_token (issued to lab host 1)>" in text
    lines, failing = run_readme.leak_report(leaks, [(3, "echo hello", "echo hello"), (4, "leak", "leak")])
    assert failing == {2: ["telegram_bot_token (issued to lab host 1)"]}
    assert any("note: identifier twilio_account_sid" in line for line in lines)
    assert not any(value in "\n".join(lines) for value in SECRETS.values())


def test_the_commands_run_at_verbosity_4():
    assert run_readme.VERBOSITY == "4"
    with open(run_readme.__file__) as handle:
        assert "env['ANSIBLE_VERBOSITY'] = VERBOSITY" in handle.read()
