# Copyright (c) 2026, clawd.ops contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The Telegram stand-in issues a bot per lab host: tokens the lab's key vouches for, and no others."""

import hashlib

import requests

from standins.telegram import TelegramStandIn


KEY = "lab-issuer-key-for-tests"
CONFIGURED = "424242:AAconfiguredBOTtoken_abc"


def issued(bot_id, key=KEY):
    return "%d:AA%s" % (bot_id, hashlib.sha256(("%s:%d" % (key, bot_id)).encode()).hexdigest()[:33])


def test_issued_tokens_are_bots_of_their_own_and_forged_ones_are_refused(start_standin):
    running = start_standin(TelegramStandIn, {"tokens": [{"token": CONFIGURED}], "token_issuer_key": KEY, "set_webhook_interval": 0})
    base = running.url.rstrip("/")
    one, two = issued(7100000001), issued(7100000002)
    me = requests.get("%s/bot%s/getMe" % (base, one), timeout=5).json()
    assert me["ok"] and me["result"]["id"] == 7100000001 and me["result"]["username"] == "clawd_lab7100000001_bot"
    for token, url in ((one, "https://lab1.clawd.test/telegram/webhook"), (two, "https://lab2.clawd.test/telegram/webhook")):
        answer = requests.post("%s/bot%s/setWebhook" % (base, token), json={"url": url}, timeout=5).json()
        assert answer == {"ok": True, "result": True, "description": "Webhook was set"}
    # Each bot keeps its own webhook: provisioning one tenant never moves another's.
    assert requests.get("%s/bot%s/getWebhookInfo" % (base, one), timeout=5).json()["result"]["url"].startswith("https://lab1.")
    assert requests.get("%s/bot%s/getWebhookInfo" % (base, two), timeout=5).json()["result"]["url"].startswith("https://lab2.")
    assert requests.get("%s/bot%s/getMe" % (base, CONFIGURED), timeout=5).json()["ok"]
    for forged in (issued(7100000001, key="another-key"), one[:-1] + ("0" if one[-1] != "0" else "1"), "7100000003:AAnothex"):
        answer = requests.get("%s/bot%s/getMe" % (base, forged), timeout=5)
        assert answer.status_code == 401 and answer.json() == {"ok": False, "error_code": 401, "description": "Unauthorized"}
    log = requests.get(base + "/_lab/requests", timeout=5).text
    assert one.split(":")[1] not in log and two.split(":")[1] not in log


def test_without_an_issuer_key_only_configured_tokens_work(start_standin):
    running = start_standin(TelegramStandIn, {"tokens": [{"token": CONFIGURED}]})
    assert requests.get("%s/bot%s/getMe" % (running.url.rstrip("/"), issued(7100000001)), timeout=5).status_code == 401
