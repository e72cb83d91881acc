# Copyright (c) 2026, clawd.ops contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Tests of the lab stand-ins: real HTTP against servers started in-process on free loopback ports."""

import base64
import json
import os
import signal
import subprocess
import sys
import time
from urllib.parse import quote

import pytest
import requests

import standins
from standins import Fault, StandIn, check_loopback, load_service
from standins.coolify import CoolifyStandIn
from standins.telegram import TelegramStandIn
from standins.twilio import TwilioStandIn


TG_TOKEN = "123456:ABCdefGHIjkl_secret-TOKEN-xyz"
TG_CONFIG = {"tokens": [{"token": TG_TOKEN, "username": "clawd_lab_bot", "id": 123456}]}
COOLIFY_TOKEN = "1|labsecretCOOLIFYtoken42"
COOLIFY_DEPLOY_TOKEN = "2|deployonlySECRETtoken"
COOLIFY_CONFIG = {"tokens": [{"token": COOLIFY_TOKEN, "abilities": ["root"]},
                             {"token": COOLIFY_DEPLOY_TOKEN, "abilities": ["deploy"]}]}
TW_SID = "AC0123456789abcdef0123456789abcdef"
TW_TOKEN = "twilioSECRETauthtoken0123456789ab"
TW_CONFIG = {"accounts": [{"sid": TW_SID, "auth_token": TW_TOKEN, "friendly_name": "lab"}]}
TIMEOUT = 5


@pytest.fixture(name="telegram", scope="module")
def telegram_server(start_standin):
    return start_standin(TelegramStandIn, TG_CONFIG)


@pytest.fixture(name="coolify", scope="module")
def coolify_server(start_standin):
    return start_standin(CoolifyStandIn, COOLIFY_CONFIG)


@pytest.fixture(name="twilio", scope="module")
def twilio_server(start_standin):
    return start_standin(TwilioStandIn, TW_CONFIG)


@pytest.fixture(name="tg")
def tg_fixture(telegram):
    requests.post(telegram.url + "/_lab/reset", timeout=TIMEOUT).raise_for_status()
    return telegram


@pytest.fixture(name="cf")
def cf_fixture(coolify):
    requests.post(coolify.url + "/_lab/reset", timeout=TIMEOUT).raise_for_status()
    return coolify


@pytest.fixture(name="tw")
def tw_fixture(twilio):
    requests.post(twilio.url + "/_lab/reset", timeout=TIMEOUT).raise_for_status()
    return twilio


def bot(running, method, token=TG_TOKEN):
    return "%s/bot%s/%s" % (running.url, token, method)


def fault(running, **spec):
    resp = requests.post(running.url + "/_lab/faults", json=spec, timeout=TIMEOUT)
    assert resp.status_code == 201, resp.text
    return resp.json()


def lab_log(running):
    return requests.get(running.url + "/_lab/requests", timeout=TIMEOUT).json()


# --------------------------------------------------------------------------- binding


@pytest.mark.parametrize("host", ["0.0.0.0", "192.0.2.1", "::", "10.0.0.1", "example.com", ""])
def test_bind_refuses_non_loopback(host):
    with pytest.raises(ValueError, match="loopback"):
        TelegramStandIn(config=TG_CONFIG, host=host)


@pytest.mark.parametrize("host,expected", [("127.0.0.1", "127.0.0.1"), ("127.1.2.3", "127.1.2.3"), ("localhost", "127.0.0.1"),
                                           ("::1", "::1"), ("[::1]", "::1")])
def test_loopback_hosts_accepted(host, expected):
    assert check_loopback(host) == expected


def test_serves_on_other_loopback_address_and_stops():
    running = StandIn(host="127.0.0.2").serve_in_thread()
    url = running.url
    assert url.startswith("http://127.0.0.2:")
    assert requests.get(url + "/_lab/health", timeout=TIMEOUT).json() == {"service": "standin", "ok": True}
    running.stop()
    with pytest.raises(requests.exceptions.ConnectionError):
        requests.get(url + "/_lab/health", timeout=TIMEOUT)


def test_load_service():
    assert load_service("telegram") is TelegramStandIn
    assert load_service("coolify") is CoolifyStandIn
    assert load_service("twilio") is TwilioStandIn


# --------------------------------------------------------------------------- telegram


def test_telegram_get_me(tg):
    resp = requests.get(bot(tg, "getMe"), timeout=TIMEOUT)
    assert resp.status_code == 200
    body = resp.json()
    assert body["ok"] is True
    assert body["result"]["id"] == 123456
    assert body["result"]["is_bot"] is True
    assert body["result"]["username"] == "clawd_lab_bot"


def test_telegram_method_names_are_case_insensitive(tg):
    assert requests.post(bot(tg, "getme"), timeout=TIMEOUT).json()["ok"] is True


def test_telegram_unknown_token(tg):
    resp = requests.get(bot(tg, "getMe", token="123456:WRONG"), timeout=TIMEOUT)
    assert resp.status_code == 401
    assert resp.json() == {"ok": False, "error_code": 401, "description": "Unauthorized"}


def test_telegram_unknown_method_and_path(tg):
    resp = requests.get(bot(tg, "noSuchMethod"), timeout=TIMEOUT)
    assert resp.status_code == 404
    assert resp.json() == {"ok": False, "error_code": 404, "description": "Not Found"}
    resp = requests.get(tg.url + "/elsewhere", timeout=TIMEOUT)
    assert resp.status_code == 404
    assert resp.json()["description"] == "Not Found"


@pytest.mark.parametrize("how", ["query", "form", "json"])
def test_telegram_send_message_encodings(tg, how):
    params = {"chat_id": "42", "text": "hello lab", "reply_to_message_id": "7"}
    if how == "query":
        resp = requests.get(bot(tg, "sendMessage"), params=params, timeout=TIMEOUT)
    elif how == "form":
        resp = requests.post(bot(tg, "sendMessage"), data=params, timeout=TIMEOUT)
    else:
        resp = requests.post(bot(tg, "sendMessage"), json={"chat_id": 42, "text": "hello lab", "reply_to_message_id": 7}, timeout=TIMEOUT)
    assert resp.status_code == 200, resp.text
    message = resp.json()["result"]
    assert message["message_id"] == 1
    assert message["chat"] == {"id": 42, "type": "private"}
    assert message["from"]["username"] == "clawd_lab_bot"
    assert message["text"] == "hello lab"
    assert isinstance(message["date"], int)
    sent = requests.get(tg.url + "/_lab/telegram/messages", timeout=TIMEOUT).json()
    assert sent == [{"chat_id": 42, "text": "hello lab", "reply_to_message_id": 7}]


def test_telegram_message_ids_increment(tg):
    ids = [requests.post(bot(tg, "sendMessage"), json={"chat_id": 1, "text": str(i)}, timeout=TIMEOUT).json()["result"]["message_id"]
           for i in range(3)]
    assert ids == [1, 2, 3]


@pytest.mark.parametrize("params,description", [
    ({"text": "x"}, "Bad Request: chat_id is empty"),
    ({"chat_id": "", "text": "x"}, "Bad Request: chat_id is empty"),
    ({"chat_id": 5}, "Bad Request: message text is empty"),
    ({"chat_id": 5, "text": ""}, "Bad Request: message text is empty"),
])
def test_telegram_send_message_validation(tg, params, description):
    resp = requests.post(bot(tg, "sendMessage"), json=params, timeout=TIMEOUT)
    assert resp.status_code == 400
    assert resp.json() == {"ok": False, "error_code": 400, "description": description}
    assert requests.get(tg.url + "/_lab/telegram/messages", timeout=TIMEOUT).json() == []


# --------------------------------------------------------------------------- coolify


@pytest.mark.parametrize("path", ["/api/health", "/api/v1/health"])
def test_coolify_health_without_auth(cf, path):
    resp = requests.get(cf.url + path, timeout=TIMEOUT)
    assert resp.status_code == 200
    assert resp.text == "OK"
    assert resp.headers["Content-Type"].startswith("text/html")


def test_coolify_version(cf):
    resp = requests.get(cf.url + "/api/v1/version", headers={"Authorization": "Bearer " + COOLIFY_TOKEN}, timeout=TIMEOUT)
    assert resp.status_code == 200
    assert resp.text == "4.3.10"


def test_coolify_version_configurable():
    with CoolifyStandIn(config=dict(COOLIFY_CONFIG, version="4.0.0-beta.474")).serve_in_thread() as running:
        resp = requests.get(running.url + "/api/v1/version", headers={"Authorization": "Bearer " + COOLIFY_TOKEN}, timeout=TIMEOUT)
        assert resp.text == "4.0.0-beta.474"


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer 9|nope"}, {"Authorization": "Basic " + COOLIFY_TOKEN}])
def test_coolify_unauthenticated(cf, headers):
    resp = requests.get(cf.url + "/api/v1/version", headers=headers, timeout=TIMEOUT)
    assert resp.status_code == 401
    assert resp.json() == {"message": "Unauthenticated."}


def test_coolify_missing_ability(cf):
    resp = requests.get(cf.url + "/api/v1/version", headers={"Authorization": "Bearer " + COOLIFY_DEPLOY_TOKEN}, timeout=TIMEOUT)
    assert resp.status_code == 403
    assert resp.json() == {"message": "Missing required permissions: read"}


@pytest.mark.parametrize("method,path", [("GET", "/api/v1/nothing-here"), ("DELETE", "/api/v1/version"), ("POST", "/api/health")])
def test_coolify_not_found(cf, method, path):
    resp = requests.request(method, cf.url + path, headers={"Authorization": "Bearer " + COOLIFY_TOKEN}, timeout=TIMEOUT)
    assert resp.status_code == 404
    assert resp.json()["message"] == "Not found."


# --------------------------------------------------------------------------- twilio


def test_twilio_fetch_account(tw):
    resp = requests.get("%s/2010-04-01/Accounts/%s.json" % (tw.url, TW_SID), auth=(TW_SID, TW_TOKEN), timeout=TIMEOUT)
    assert resp.status_code == 200
    account = resp.json()
    assert account["sid"] == TW_SID
    assert account["status"] == "active"
    assert account["friendly_name"] == "lab"
    assert account["uri"] == "/2010-04-01/Accounts/%s.json" % TW_SID
    assert account["date_created"].endswith(" +0000")
    assert time.strptime(account["date_created"], "%a, %d %b %Y %H:%M:%S +0000")
    assert TW_TOKEN not in resp.text


@pytest.mark.parametrize("auth", [None, (TW_SID, "wrong"), ("AC" + "f" * 32, TW_TOKEN)])
def test_twilio_bad_auth(tw, auth):
    resp = requests.get("%s/2010-04-01/Accounts/%s.json" % (tw.url, TW_SID), auth=auth, timeout=TIMEOUT)
    assert resp.status_code == 401
    assert resp.json() == {"code": 20003, "message": "Authenticate", "more_info": "https://www.twilio.com/docs/errors/20003", "status": 401}


def test_twilio_unknown_resource(tw):
    path = "/2010-04-01/Accounts/%s/Nothing.json" % TW_SID
    resp = requests.get(tw.url + path, auth=(TW_SID, TW_TOKEN), timeout=TIMEOUT)
    assert resp.status_code == 404
    body = resp.json()
    assert body["code"] == 20404
    assert body["status"] == 404
    assert body["message"] == "The requested resource %s was not found" % path
    other = requests.get("%s/2010-04-01/Accounts/%s.json" % (tw.url, "AC" + "e" * 32), auth=(TW_SID, TW_TOKEN), timeout=TIMEOUT)
    assert other.status_code == 404
    assert other.json()["code"] == 20404


# --------------------------------------------------------------------------- faults


def test_fault_429_telegram_shape(tg):
    fault(tg, mode="429", retry_after=7)
    resp = requests.get(bot(tg, "getMe"), timeout=TIMEOUT)
    assert resp.status_code == 429
    assert resp.json() == {"ok": False, "error_code": 429, "description": "Too Many Requests: retry after 7", "parameters": {"retry_after": 7}}
    assert requests.get(bot(tg, "getMe"), timeout=TIMEOUT).status_code == 200


def test_fault_429_coolify_shape(cf):
    fault(cf, mode="429", retry_after=60)
    resp = requests.get(cf.url + "/api/health", timeout=TIMEOUT)
    assert resp.status_code == 429
    assert resp.headers["Retry-After"] == "60"
    assert resp.json() == {"message": "Deployment queue is full. Please wait for existing deployments to complete."}


def test_fault_429_twilio_shape(tw):
    fault(tw, mode="429", retry_after=3)
    resp = requests.get("%s/2010-04-01/Accounts/%s.json" % (tw.url, TW_SID), auth=(TW_SID, TW_TOKEN), timeout=TIMEOUT)
    assert resp.status_code == 429
    assert resp.headers["Retry-After"] == "3"
    assert resp.json() == {"code": 20429, "message": "Too Many Requests", "more_info": "https://www.twilio.com/docs/errors/20429", "status": 429}


def test_fault_5xx_shapes(tg, cf, tw):
    fault(tg, mode="5xx", status=502)
    resp = requests.get(bot(tg, "getMe"), timeout=TIMEOUT)
    assert resp.status_code == 502
    assert resp.json() == {"ok": False, "error_code": 502, "description": "Bad Gateway"}

    fault(cf, mode="5xx")
    resp = requests.get(cf.url + "/api/health", timeout=TIMEOUT)
    assert resp.status_code == 503
    assert resp.json() == {"message": "Server Error"}

    fault(tw, mode="5xx", status=500)
    resp = requests.get("%s/2010-04-01/Accounts/%s.json" % (tw.url, TW_SID), auth=(TW_SID, TW_TOKEN), timeout=TIMEOUT)
    assert resp.status_code == 500
    assert resp.json() == {"code": 20500, "message": "Internal Server Error", "more_info": "https://www.twilio.com/docs/errors/20500", "status": 500}


def test_fault_slow_answers_after_delay(cf):
    fault(cf, mode="slow", delay=0.4)
    started = time.monotonic()
    resp = requests.get(cf.url + "/api/health", timeout=TIMEOUT)
    elapsed = time.monotonic() - started
    assert resp.status_code == 200 and resp.text == "OK"
    assert elapsed >= 0.4
    started = time.monotonic()
    requests.get(cf.url + "/api/health", timeout=TIMEOUT)
    assert time.monotonic() - started < 0.3


@pytest.mark.parametrize("mode", ["drop", "reset"])
def test_fault_drop_and_reset_close_without_answer(cf, mode):
    fault(cf, mode=mode)
    with pytest.raises(requests.exceptions.ConnectionError):
        requests.get(cf.url + "/api/health", timeout=TIMEOUT)
    assert requests.get(cf.url + "/api/health", timeout=TIMEOUT).status_code == 200
    entries = lab_log(cf)
    assert [(e["status"], e["fault"]) for e in entries] == [(None, mode), (200, None)]


def test_fault_match_and_count(tg):
    fault(tg, mode="5xx", status=504, count=2, match="sendMessage$")
    assert requests.get(bot(tg, "getMe"), timeout=TIMEOUT).status_code == 200
    assert requests.get(tg.url + "/_lab/faults", timeout=TIMEOUT).json() == [{"mode": "5xx", "count": 2, "match": "sendMessage$", "status": 504}]
    send = {"chat_id": 1, "text": "x"}
    assert requests.post(bot(tg, "sendMessage"), json=send, timeout=TIMEOUT).status_code == 504
    assert requests.post(bot(tg, "sendMessage"), json=send, timeout=TIMEOUT).status_code == 504
    assert requests.post(bot(tg, "sendMessage"), json=send, timeout=TIMEOUT).status_code == 200
    assert requests.get(tg.url + "/_lab/faults", timeout=TIMEOUT).json() == []
    # The two faulted sendMessage calls were not acted on.
    assert len(requests.get(tg.url + "/_lab/telegram/messages", timeout=TIMEOUT).json()) == 1


def test_faults_are_consumed_in_order_and_cleared(cf):
    fault(cf, mode="429", retry_after=1)
    fault(cf, mode="5xx", status=500)
    assert requests.get(cf.url + "/api/health", timeout=TIMEOUT).status_code == 429
    assert requests.get(cf.url + "/api/health", timeout=TIMEOUT).status_code == 500
    assert requests.get(cf.url + "/api/health", timeout=TIMEOUT).status_code == 200
    fault(cf, mode="drop", count=3)
    assert requests.delete(cf.url + "/_lab/faults", timeout=TIMEOUT).json() == {"cleared": 1}
    assert requests.get(cf.url + "/api/health", timeout=TIMEOUT).status_code == 200


def test_lab_endpoints_are_not_faulted_or_logged(cf):
    fault(cf, mode="drop", count=5)
    assert requests.get(cf.url + "/_lab/health", timeout=TIMEOUT).json() == {"service": "coolify", "ok": True}
    assert lab_log(cf) == []
    assert requests.get(cf.url + "/_lab/faults", timeout=TIMEOUT).json()[0]["count"] == 5


@pytest.mark.parametrize("spec", [{"mode": "explode"}, {"mode": "5xx", "status": 418}, {"mode": "429", "count": 0},
                                  {"mode": "slow", "delay": "soon"}, {"mode": "drop", "match": "("}, {"mode": "drop", "colour": "red"}])
def test_invalid_fault_rejected(cf, spec):
    resp = requests.post(cf.url + "/_lab/faults", json=spec, timeout=TIMEOUT)
    assert resp.status_code == 400
    assert resp.json()["error"]
    assert requests.get(cf.url + "/_lab/faults", timeout=TIMEOUT).json() == []


def test_unknown_lab_endpoint(cf):
    assert requests.get(cf.url + "/_lab/nothing", timeout=TIMEOUT).status_code == 404
    assert requests.put(cf.url + "/_lab/faults", timeout=TIMEOUT).status_code == 405


# --------------------------------------------------------------------------- request log and masking


def test_request_log_records_requests(cf):
    requests.get(cf.url + "/api/v1/version?x=1", headers={"Authorization": "Bearer " + COOLIFY_TOKEN}, timeout=TIMEOUT)
    entries = lab_log(cf)
    assert len(entries) == 1
    entry = entries[0]
    assert entry["method"] == "GET"
    assert entry["path"] == "/api/v1/version"
    assert entry["query"] == "x=1"
    assert entry["status"] == 200
    assert entry["fault"] is None
    assert entry["headers"]["Authorization"] == "Bearer ***"
    assert abs(entry["timestamp"] - time.time()) < 60
    assert requests.delete(cf.url + "/_lab/requests", timeout=TIMEOUT).json() == {"cleared": 1}
    assert lab_log(cf) == []


def test_request_log_masks_telegram_token(tg):
    requests.get(bot(tg, "getMe"), timeout=TIMEOUT)
    requests.get(bot(tg, "getMe", token=quote(TG_TOKEN, safe="")), timeout=TIMEOUT)
    requests.get(bot(tg, "getMe", token="999:someoneELSEStoken"), timeout=TIMEOUT)
    requests.post(bot(tg, "sendMessage"), json={"chat_id": 1, "text": "token is " + TG_TOKEN, "secret_token": "hookSECRET1"}, timeout=TIMEOUT)
    requests.post(bot(tg, "setWebhook"), data={"url": "https://x.example/hook", "secret_token": "hookSECRET2", "note": TG_TOKEN}, timeout=TIMEOUT)
    requests.get(bot(tg, "setWebhook"), params={"secret_token": "hookSECRET3", "t": TG_TOKEN}, timeout=TIMEOUT)
    requests.post(bot(tg, "setWebhook"), files={"certificate": ("c.pem", b"PEM")}, data={"secret_token": "hookSECRET4"}, timeout=TIMEOUT)
    raw = requests.get(tg.url + "/_lab/requests", timeout=TIMEOUT).text
    for secret in (TG_TOKEN, quote(TG_TOKEN, safe=""), "someoneELSEStoken", "hookSECRET1", "hookSECRET2", "hookSECRET3", "hookSECRET4"):
        assert secret not in raw
    entries = json.loads(raw)
    assert len(entries) == 7
    assert all(e["path"].startswith("/bot***/") for e in entries)
    assert [e["status"] for e in entries] == [200, 200, 401, 200, 200, 200, 200]
    assert "token is ***" in entries[3]["body"]


def test_request_log_masks_coolify_and_twilio_auth(cf, tw):
    requests.get(cf.url + "/api/v1/version", headers={"Authorization": "Bearer " + COOLIFY_TOKEN}, timeout=TIMEOUT)
    requests.get(cf.url + "/api/v1/version", params={"token": COOLIFY_DEPLOY_TOKEN}, timeout=TIMEOUT)
    requests.post(cf.url + "/api/v1/nothing", json={"key": "A", "password": "pw-SECRET", "note": COOLIFY_TOKEN}, timeout=TIMEOUT)
    raw = requests.get(cf.url + "/_lab/requests", timeout=TIMEOUT).text
    for secret in (COOLIFY_TOKEN, COOLIFY_DEPLOY_TOKEN, quote(COOLIFY_TOKEN, safe=""), quote(COOLIFY_DEPLOY_TOKEN, safe=""), "pw-SECRET"):
        assert secret not in raw

    basic = base64.b64encode(("%s:%s" % (TW_SID, TW_TOKEN)).encode()).decode()
    wrong = base64.b64encode(("%s:wrongSECRETguess" % TW_SID).encode()).decode()
    requests.get("%s/2010-04-01/Accounts/%s.json" % (tw.url, TW_SID), auth=(TW_SID, TW_TOKEN), timeout=TIMEOUT)
    requests.get("%s/2010-04-01/Accounts/%s.json" % (tw.url, TW_SID), auth=(TW_SID, "wrongSECRETguess"), timeout=TIMEOUT)
    requests.post("%s/2010-04-01/Accounts/%s/Things.json" % (tw.url, TW_SID), data={"AuthToken": TW_TOKEN, "FriendlyName": "x"},
                  auth=(TW_SID, TW_TOKEN), timeout=TIMEOUT)
    raw = requests.get(tw.url + "/_lab/requests", timeout=TIMEOUT).text
    for secret in (TW_TOKEN, basic, wrong, "wrongSECRETguess"):
        assert secret not in raw
    entries = json.loads(raw)
    assert entries[0]["headers"]["Authorization"] == "Basic ***"
    assert TW_SID in raw  # the account SID is an identifier, not a secret


# --------------------------------------------------------------------------- reset and health


def test_reset_clears_faults_log_and_state(tg):
    requests.post(bot(tg, "sendMessage"), json={"chat_id": 1, "text": "x"}, timeout=TIMEOUT)
    fault(tg, mode="drop", count=2)
    assert lab_log(tg)
    assert requests.post(tg.url + "/_lab/reset", timeout=TIMEOUT).json()["reset"] is True
    assert lab_log(tg) == []
    assert requests.get(tg.url + "/_lab/faults", timeout=TIMEOUT).json() == []
    assert requests.get(tg.url + "/_lab/telegram/messages", timeout=TIMEOUT).json() == []
    resp = requests.post(bot(tg, "sendMessage"), json={"chat_id": 1, "text": "x"}, timeout=TIMEOUT)
    assert resp.json()["result"]["message_id"] == 1


@pytest.mark.parametrize("name", ["telegram", "coolify", "twilio"])
def test_health(telegram, coolify, twilio, name):
    running = {"telegram": telegram, "coolify": coolify, "twilio": twilio}[name]
    resp = requests.get(running.url + "/_lab/health", timeout=TIMEOUT)
    assert resp.status_code == 200
    assert resp.json() == {"service": name, "ok": True}


def test_state_dir_persists_state(tmp_path):
    with TelegramStandIn(config=TG_CONFIG, state_dir=str(tmp_path)).serve_in_thread() as running:
        requests.post(bot(running, "sendMessage"), json={"chat_id": 3, "text": "kept"}, timeout=TIMEOUT)
    with TelegramStandIn(config=TG_CONFIG, state_dir=str(tmp_path)).serve_in_thread() as running:
        assert requests.get(running.url + "/_lab/telegram/messages", timeout=TIMEOUT).json()[0]["text"] == "kept"
        resp = requests.post(bot(running, "sendMessage"), json={"chat_id": 3, "text": "next"}, timeout=TIMEOUT)
        assert resp.json()["result"]["message_id"] == 2


def test_fault_object_api(cf):
    cf.standin.add_fault(Fault("5xx", status=502))
    assert requests.get(cf.url + "/api/health", timeout=TIMEOUT).status_code == 502


# --------------------------------------------------------------------------- CLI


def _cli(*args):
    env = dict(os.environ, PYTHONPATH=os.path.dirname(os.path.dirname(standins.__file__)))  # lab/, as conftest.py has it
    return subprocess.Popen([sys.executable, "-m", "standins"] + list(args), env=env,  # pylint: disable=consider-using-with
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def test_cli_serves_and_exits_zero_on_sigterm(tmp_path):
    config = tmp_path / "tg.json"
    config.write_text(json.dumps(TG_CONFIG))
    proc = _cli("telegram", "--listen", "127.0.0.1:0", "--config", str(config), "--state-dir", str(tmp_path / "state"))
    try:
        line = proc.stdout.readline()
        assert line.startswith("telegram listening on http://127.0.0.1:"), line + proc.stderr.read()
        url = line.split()[-1]
        assert requests.get("%s/bot%s/getMe" % (url, TG_TOKEN), timeout=TIMEOUT).json()["ok"] is True
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=10) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.communicate()


def test_cli_refuses_non_loopback():
    proc = _cli("coolify", "--listen", "0.0.0.0:0")
    _out, err = proc.communicate(timeout=10)
    assert proc.returncode == 2
    assert "loopback" in err
