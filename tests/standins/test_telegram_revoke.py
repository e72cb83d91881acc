# Copyright (c) 2026, clawd.ops contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The Telegram stand-in revokes a bot's token as BotFather's /revoke does: the old token answers 401, a new one serves the bot."""

import hashlib

import requests

from standins.telegram import TelegramStandIn


KEY = "lab-issuer-key-for-revoke-tests"
CONFIGURED = "424243:AAconfiguredBOTtoken_rev"
UNAUTHORIZED = {"ok": False, "error_code": 401, "description": "Unauthorized"}


def issued(bot_id):
    return "%d:AA%s" % (bot_id, hashlib.sha256(("%s:%d" % (KEY, bot_id)).encode()).hexdigest()[:33])


def call(base, token, method, **params):
    return requests.post("%s/bot%s/%s" % (base, token, method), json=params, timeout=5)


def test_revoke_gives_a_new_token_and_the_old_one_is_refused(start_standin, tmp_path):
    config = {"tokens": [{"token": CONFIGURED}], "token_issuer_key": KEY, "set_webhook_interval": 0}
    running = start_standin(TelegramStandIn, config, state_dir=str(tmp_path))
    base = running.url.rstrip("/")
    old = issued(7100000205)
    assert call(base, old, "setWebhook", url="https://lab5.clawd.test/telegram/webhook").json()["ok"]
    resp = requests.post(base + "/_lab/telegram/revoke", json={"token": old}, timeout=5)
    assert resp.status_code == 200, resp.text
    new = resp.json()["token"]
    assert new.startswith("7100000205:") and new != old
    answer = call(base, old, "getMe")
    assert answer.status_code == 401 and answer.json() == UNAUTHORIZED
    me = call(base, new, "getMe").json()
    assert me["ok"] and me["result"]["id"] == 7100000205
    # The same bot: its webhook stays.
    assert call(base, new, "getWebhookInfo").json()["result"]["url"] == "https://lab5.clawd.test/telegram/webhook"
    # A revoked or unknown token cannot be revoked; a configured one can.
    assert requests.post(base + "/_lab/telegram/revoke", json={"token": old}, timeout=5).status_code == 404
    configured_new = requests.post(base + "/_lab/telegram/revoke", json={"token": CONFIGURED}, timeout=5).json()["token"]
    assert call(base, CONFIGURED, "getMe").status_code == 401 and call(base, configured_new, "getMe").json()["ok"]
    # A restart keeps the revocation and the new token.
    running.stop()
    again = start_standin(TelegramStandIn, config, state_dir=str(tmp_path))
    base = again.url.rstrip("/")
    assert call(base, old, "getMe").status_code == 401 and call(base, new, "getMe").json()["ok"]
    assert new in again.standin.secrets()
    assert new.split(":")[1] not in requests.get(base + "/_lab/requests", timeout=5).text
    # Restoring the bot (a test's cleanup) brings the issued token back and forgets the new one.
    resp = requests.post(base + "/_lab/telegram/unrevoke", json={"token_id": 7100000205}, timeout=5)
    assert resp.status_code == 200 and resp.json() == {"restored": 7100000205}
    assert call(base, old, "getMe").json()["ok"] and call(base, new, "getMe").status_code == 401
