# Copyright (c) 2026, clawd.ops contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The Telegram stand-in's webhook methods and deliveries, against the spec (telegram-bot-api-webhooks.md).

Deliveries go to a real HTTPS receiver started here, on a loopback address of its own, with a
certificate from a CA made here (the `cryptography` package) and a hosts file naming it.
"""

import datetime
import errno
import hashlib
import json
import random
import ssl
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from standins.telegram import DEFAULT_UPDATES, TelegramStandIn


TOKEN = "424242:AAtgSTANDINsecretTOKEN_abc-xyz"
OTHER_TOKEN = "777:AAotherBOTtoken"
SECRET = "hookSECRET_standin-42"
HOOK_HOST = "hook.clawd.test"
TIMEOUT = 10


# --------------------------------------------------------------------------- certificates


def _name(common_name):
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _cert(subject, issuer, public_key, signing_key, ca, dns=None):
    now = datetime.datetime.now(datetime.timezone.utc)
    builder = (x509.CertificateBuilder().subject_name(_name(subject)).issuer_name(_name(issuer)).public_key(public_key)
               .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(minutes=5))
               .not_valid_after(now + datetime.timedelta(days=1))
               .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True))
    if dns:
        builder = builder.add_extension(x509.SubjectAlternativeName([x509.DNSName(dns)]), critical=False)
    return builder.sign(signing_key, hashes.SHA256())


def _pem_key(key):
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())


@pytest.fixture(name="pki", scope="module")
def pki_fixture(tmp_path_factory):
    """A lab CA, a certificate of HOOK_HOST signed by it, and a self-signed certificate of HOOK_HOST."""
    folder = tmp_path_factory.mktemp("pki")
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = _cert("clawd test CA", "clawd test CA", ca_key.public_key(), ca_key, ca=True)
    leaf_key = ec.generate_private_key(ec.SECP256R1())
    leaf = _cert(HOOK_HOST, "clawd test CA", leaf_key.public_key(), ca_key, ca=False, dns=HOOK_HOST)
    self_key = ec.generate_private_key(ec.SECP256R1())
    self_signed = _cert(HOOK_HOST, HOOK_HOST, self_key.public_key(), self_key, ca=True, dns=HOOK_HOST)
    files = {}
    for name, data in (("ca.crt", ca.public_bytes(serialization.Encoding.PEM)),
                       ("leaf.crt", leaf.public_bytes(serialization.Encoding.PEM)), ("leaf.key", _pem_key(leaf_key)),
                       ("self.crt", self_signed.public_bytes(serialization.Encoding.PEM)), ("self.key", _pem_key(self_key))):
        (folder / name).write_bytes(data)
        files[name] = str(folder / name)
    return files


# --------------------------------------------------------------------------- the webhook receiver


class Receiver:
    """An HTTPS webhook on a loopback address of its own, port 8443: records requests, answers as told."""

    def __init__(self, certfile, keyfile):
        self.received = []
        self.status = 200
        self.reply = b""
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # pylint: disable=invalid-name
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                receiver.received.append({"path": self.path, "headers": dict(self.headers), "body": json.loads(body)})
                payload = receiver.reply
                self.send_response(receiver.status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *args):
                pass

        for _attempt in range(50):
            self.ip = "127.%d.%d.%d" % (random.randint(100, 250), random.randint(0, 255), random.randint(2, 254))
            try:
                self.server = ThreadingHTTPServer((self.ip, 8443), Handler)
                break
            except OSError as exc:
                if exc.errno != errno.EADDRINUSE:
                    raise
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(certfile, keyfile)
        self.server.socket = context.wrap_socket(self.server.socket, server_side=True)
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self.thread.start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(name="receiver")
def receiver_fixture(pki):
    receiver = Receiver(pki["leaf.crt"], pki["leaf.key"])
    yield receiver
    receiver.close()


@pytest.fixture(name="hosts_file")
def hosts_file_fixture(tmp_path, receiver):
    path = tmp_path / "hosts"
    path.write_text("# lab hosts\n127.0.0.1 localhost\n%s %s other.clawd.test\n" % (receiver.ip, HOOK_HOST))
    return path


def _config(**settings):
    config = {"tokens": [{"token": TOKEN, "username": "standin_bot"}, {"token": OTHER_TOKEN, "username": "other_bot"}],
              "set_webhook_interval": 0}
    config.update(settings)
    return config


@pytest.fixture(name="tg")
def tg_fixture(start_standin, pki, hosts_file):
    running = start_standin(TelegramStandIn, _config(ca_file=pki["ca.crt"], hosts_file=str(hosts_file)))
    yield running
    running.stop()


def call(running, method, token=TOKEN, http_method="POST", **kwargs):
    resp = requests.request(http_method, "%s/bot%s/%s" % (running.url, token, method), timeout=TIMEOUT, **kwargs)
    return resp.status_code, resp.json()


def info(running, token=TOKEN):
    status, body = call(running, "getWebhookInfo", token)
    assert status == 200 and body["ok"] is True
    return body["result"]


def deliver(running, **payload):
    payload.setdefault("token_id", 424242)
    resp = requests.post(running.url + "/_lab/telegram/deliver", json=payload, timeout=TIMEOUT)
    return resp.status_code, resp.json()


def hook_url(path="/tg/hook"):
    return "https://%s:8443%s" % (HOOK_HOST, path)


# --------------------------------------------------------------------------- envelope, auth, unknown method


def test_get_me_envelope_and_errors(tg):
    status, body = call(tg, "getMe", http_method="GET")
    assert status == 200
    assert body["ok"] is True and "description" not in body
    assert body["result"]["id"] == 424242 and body["result"]["username"] == "standin_bot"
    assert call(tg, "getWebhookInfo", token="424242:WRONG") == (401, {"ok": False, "error_code": 401, "description": "Unauthorized"})
    assert call(tg, "setWebhook", token="nonsense", json={"url": hook_url()})[0] == 401
    assert call(tg, "setWebhookz") == (404, {"ok": False, "error_code": 404, "description": "Not Found"})
    assert call(tg, "SETWEBHOOK", json={"url": hook_url()})[1]["description"] == "Webhook was set"


def test_fault_429_shape_on_set_webhook(tg):
    requests.post(tg.url + "/_lab/faults", json={"mode": "429", "retry_after": 3, "match": "setWebhook"}, timeout=TIMEOUT)
    assert call(tg, "setWebhook", json={"url": hook_url()}) == (
        429, {"ok": False, "error_code": 429, "description": "Too Many Requests: retry after 3", "parameters": {"retry_after": 3}})
    assert call(tg, "setWebhook", json={"url": hook_url()})[0] == 200


# --------------------------------------------------------------------------- setWebhook, getWebhookInfo, deleteWebhook


def test_no_webhook_info_omits_optional_fields(tg):
    assert info(tg) == {"url": "", "has_custom_certificate": False, "pending_update_count": 0}


def test_set_then_already_set_then_changed(tg):
    params = {"url": hook_url(), "secret_token": SECRET, "max_connections": 10}
    assert call(tg, "setWebhook", json=params) == (200, {"ok": True, "result": True, "description": "Webhook was set"})
    assert call(tg, "setWebhook", json=params)[1]["description"] == "Webhook is already set"
    assert info(tg) == {"url": hook_url(), "has_custom_certificate": False, "pending_update_count": 0,
                        "ip_address": tg.standin.webhooks["424242"]["resolved_ip"], "max_connections": 10}
    for change in ({"secret_token": SECRET + "x"}, {"max_connections": 11}, {"ip_address": "127.0.0.9"},
                   {"url": hook_url("/other")}, {"drop_pending_updates": True}):
        changed = dict(params, **change)
        assert call(tg, "setWebhook", json=changed)[1]["description"] == "Webhook was set", change
        call(tg, "setWebhook", json=params)
    # No secret at all is a change too: the secret is part of the registration.
    assert call(tg, "setWebhook", json={"url": hook_url(), "max_connections": 10})[1]["description"] == "Webhook was set"


def test_info_reports_resolved_and_fixed_ip(tg, receiver):
    call(tg, "setWebhook", json={"url": hook_url()})
    assert info(tg)["ip_address"] == receiver.ip
    call(tg, "setWebhook", json={"url": "https://unknown.clawd.test/hook"})
    assert info(tg)["ip_address"] == "<unknown>"
    call(tg, "setWebhook", json={"url": hook_url(), "ip_address": "127.0.0.7"})
    assert info(tg)["ip_address"] == "127.0.0.7"
    assert info(tg)["max_connections"] == 40


@pytest.mark.parametrize("how", ["query", "form", "json", "multipart"])
def test_parameter_encodings(tg, how):
    params = {"url": hook_url(), "max_connections": "7", "allowed_updates": json.dumps(["message", "callback_query"]),
              "secret_token": SECRET}
    if how == "query":
        status, body = call(tg, "setWebhook", http_method="GET", params=params)
    elif how == "form":
        status, body = call(tg, "setWebhook", data=params)
    elif how == "json":
        status, body = call(tg, "setWebhook", json=dict(params, max_connections=7, allowed_updates=["message", "callback_query"]))
    else:
        status, body = call(tg, "setWebhook", data=params, files={"certificate": ("cert.pem", b"-----BEGIN CERTIFICATE-----\n")})
    assert (status, body["description"]) == (200, "Webhook was set")
    got = info(tg)
    assert got["max_connections"] == 7
    assert got["allowed_updates"] == ["message", "callback_query"]
    assert got["has_custom_certificate"] is (how == "multipart")
    expected = hashlib.sha256(SECRET.encode()).hexdigest()
    assert requests.get(tg.url + "/_lab/telegram/webhooks", timeout=TIMEOUT).json()["424242"]["secret_token_sha256"] == expected


def test_certificate_as_string_is_ignored_and_upload_forces_registration(tg):
    call(tg, "setWebhook", json={"url": hook_url(), "certificate": "not a file"})
    assert info(tg)["has_custom_certificate"] is False
    assert call(tg, "setWebhook", json={"url": hook_url(), "certificate": "not a file"})[1]["description"] == "Webhook is already set"
    files = {"certificate": ("c.pem", b"PEM")}
    assert call(tg, "setWebhook", data={"url": hook_url()}, files=files)[1]["description"] == "Webhook was set"
    assert call(tg, "setWebhook", data={"url": hook_url()}, files=files)[1]["description"] == "Webhook was set"
    # Without the upload the registration changes again, and the certificate is gone.
    assert call(tg, "setWebhook", json={"url": hook_url()})[1]["description"] == "Webhook was set"
    assert info(tg)["has_custom_certificate"] is False


@pytest.mark.parametrize("params,description", [
    ({"url": "not a url"}, "Bad Request: invalid webhook URL specified"),
    ({"url": "ftp://hook.clawd.test/x"}, "Bad Request: invalid webhook URL specified"),
    ({"url": "https://:443/x"}, "Bad Request: invalid webhook URL specified"),
    ({"url": "https://hook.clawd.test:99999/x"}, "Bad Request: invalid webhook URL specified"),
    ({"url": "http://hook.clawd.test/x"}, "Bad Request: bad webhook: An HTTPS URL must be provided for webhook"),
    ({"url": "hook.clawd.test/x"}, "Bad Request: bad webhook: An HTTPS URL must be provided for webhook"),
    ({"url": "https://hook.clawd.test:8080/x"}, "Bad Request: bad webhook: Webhook can be set up only on ports 80, 88, 443 or 8443"),
    ({"url": "https://hook.clawd.test:8443/x", "secret_token": "a" * 257}, "Bad Request: secret token is too long"),
    ({"url": "https://hook.clawd.test/x", "secret_token": "a b"}, "Bad Request: secret token contains unallowed characters"),
    ({"url": "https://hook.clawd.test/x", "secret_token": "a+b/c="}, "Bad Request: secret token contains unallowed characters"),
    ({"url": "https://hook.clawd.test/x", "ip_address": "300.1.1.1"}, "Bad Request: invalid IP address specified"),
    ({"url": "https://hook.clawd.test/x", "max_connections": "many"}, "Bad Request: invalid max_connections specified"),
    ({"url": "https://hook.clawd.test/x", "allowed_updates": "[message"}, "Bad Request: can't parse allowed updates JSON object"),
    ({"url": "https://hook.clawd.test/x", "allowed_updates": {"a": 1}}, "Bad Request: field \"allowed_updates\" must be an Array of Strings"),
])
def test_set_webhook_validation(tg, params, description):
    status, body = call(tg, "setWebhook", json=params)
    assert (status, body) == (400, {"ok": False, "error_code": 400, "description": description})
    assert info(tg)["url"] == ""


def test_secret_token_limits_accepted(tg):
    assert call(tg, "setWebhook", json={"url": hook_url(), "secret_token": "A-z_9" * 51 + "x"})[0] == 200
    assert call(tg, "setWebhook", data={"url": hook_url(), "secret_token": "1"})[0] == 200


@pytest.mark.parametrize("given,effective", [(0, 1), (-5, 1), (1, 1), (100, 100), (101, 100), ("500", 100)])
def test_max_connections_clamped(tg, given, effective):
    call(tg, "setWebhook", json={"url": hook_url(), "max_connections": given})
    assert info(tg)["max_connections"] == effective


@pytest.mark.parametrize("port", [443, 80, 88, 8443])
def test_allowed_ports(tg, port):
    assert call(tg, "setWebhook", json={"url": "https://%s:%d/x" % (HOOK_HOST, port)})[0] == 200


def test_allowed_updates_semantics(tg):
    call(tg, "setWebhook", json={"url": hook_url(), "allowed_updates": ["callback_query", "message", "no_such_type"]})
    assert info(tg)["allowed_updates"] == ["message", "callback_query"]
    # Omitted: kept, and it does not make the call a change.
    assert call(tg, "setWebhook", json={"url": hook_url()})[1]["description"] == "Webhook is already set"
    assert info(tg)["allowed_updates"] == ["message", "callback_query"]
    # Changed on an otherwise identical call: applied silently.
    assert call(tg, "setWebhook", json={"url": hook_url(), "allowed_updates": ["poll"]})[1]["description"] == "Webhook is already set"
    assert info(tg)["allowed_updates"] == ["poll"]
    # The default set, given explicitly or as [], is omitted from the info.
    call(tg, "setWebhook", json={"url": hook_url(), "allowed_updates": list(reversed(DEFAULT_UPDATES))})
    assert "allowed_updates" not in info(tg)
    call(tg, "setWebhook", json={"url": hook_url(), "allowed_updates": ["chat_member"]})
    assert info(tg)["allowed_updates"] == ["chat_member"]
    call(tg, "setWebhook", json={"url": hook_url(), "allowed_updates": []})
    assert "allowed_updates" not in info(tg)


def test_delete_webhook_and_empty_url(tg):
    assert call(tg, "deleteWebhook")[1] == {"ok": True, "result": True, "description": "Webhook is already deleted"}
    call(tg, "setWebhook", json={"url": hook_url(), "secret_token": SECRET})
    assert call(tg, "deleteWebhook")[1]["description"] == "Webhook was deleted"
    assert info(tg) == {"url": "", "has_custom_certificate": False, "pending_update_count": 0}
    call(tg, "setWebhook", json={"url": hook_url()})
    assert call(tg, "setWebhook", json={"url": ""})[1]["description"] == "Webhook was deleted"
    assert call(tg, "setWebhook", data={"url": ""})[1]["description"] == "Webhook is already deleted"


def test_webhooks_are_per_bot(tg):
    call(tg, "setWebhook", json={"url": hook_url()})
    assert info(tg)["url"] == hook_url()
    assert info(tg, OTHER_TOKEN)["url"] == ""


def test_get_updates_conflicts_with_webhook(tg):
    assert call(tg, "getUpdates") == (200, {"ok": True, "result": []})
    call(tg, "setWebhook", json={"url": hook_url()})
    status, body = call(tg, "getUpdates")
    assert status == 409
    assert body["description"].startswith("Conflict: can't use getUpdates method while webhook is active")


def test_set_webhook_flood_limit(pki, hosts_file):
    with TelegramStandIn(config=_config(set_webhook_interval=1)).serve_in_thread() as running:
        assert call(running, "setWebhook", json={"url": hook_url()})[0] == 200
        assert call(running, "setWebhook", json={"url": hook_url()}) == (
            429, {"ok": False, "error_code": 429, "description": "Too Many Requests: retry after 1", "parameters": {"retry_after": 1}})
        # Deleting is not limited; another bot is not limited.
        assert call(running, "setWebhook", json={"url": hook_url()}, token=OTHER_TOKEN)[0] == 200
        assert call(running, "setWebhook", json={"url": ""})[0] == 200
        time.sleep(1.05)
        assert call(running, "setWebhook", json={"url": hook_url()})[0] == 200


def test_state_dir_keeps_webhooks(tmp_path):
    with TelegramStandIn(config=_config(), state_dir=str(tmp_path)).serve_in_thread() as running:
        call(running, "setWebhook", json={"url": hook_url(), "secret_token": SECRET, "allowed_updates": ["message"]})
    state = (tmp_path / "telegram-state.json").read_text()
    assert TOKEN not in state
    with TelegramStandIn(config=_config(), state_dir=str(tmp_path)).serve_in_thread() as running:
        assert info(running)["allowed_updates"] == ["message"]
        assert call(running, "setWebhook", json={"url": hook_url(), "secret_token": SECRET})[1]["description"] == "Webhook is already set"


def test_request_log_masks_token_and_secret(tg):
    call(tg, "setWebhook", json={"url": hook_url(), "secret_token": SECRET})
    call(tg, "setWebhook", data={"url": hook_url(), "secret_token": SECRET + "2"})
    call(tg, "setWebhook", http_method="GET", params={"url": hook_url(), "secret_token": SECRET + "3"})
    raw = requests.get(tg.url + "/_lab/requests", timeout=TIMEOUT).text
    assert TOKEN not in raw and SECRET not in raw
    assert len(json.loads(raw)) == 3


# --------------------------------------------------------------------------- deliveries


def test_delivery_success_with_secret_header(tg, receiver):
    call(tg, "setWebhook", json={"url": hook_url("/tg/hook?x=1"), "secret_token": SECRET})
    update = {"update_id": 5, "message": {"message_id": 1, "date": 1700000000, "chat": {"id": 42, "type": "private"}, "text": "/ping"}}
    status, outcome = deliver(tg, update=update)
    assert status == 200, outcome
    assert outcome["ok"] is True and outcome["status"] == 200 and outcome["error"] is None
    assert outcome["delivered"] == 1 and outcome["pending_update_count"] == 0
    got = receiver.received[-1]
    assert got["path"] == "/tg/hook?x=1"
    assert got["headers"]["X-Telegram-Bot-Api-Secret-Token"] == SECRET
    assert got["headers"]["Host"] == "%s:8443" % HOOK_HOST
    assert got["headers"]["Content-Type"] == "application/json"
    assert got["body"] == update
    result = info(tg)
    assert result["pending_update_count"] == 0 and "last_error_date" not in result
    assert result["ip_address"] == receiver.ip


def test_delivery_without_secret_sends_no_header_and_text_shortcut(tg, receiver):
    call(tg, "setWebhook", json={"url": hook_url()})
    status, outcome = deliver(tg, username="@standin_bot", text="/status", chat_id=7)
    assert status == 200 and outcome["ok"] is True
    got = receiver.received[-1]
    assert "X-Telegram-Bot-Api-Secret-Token" not in got["headers"]
    assert got["body"]["message"]["text"] == "/status"
    assert got["body"]["message"]["chat"]["id"] == 7
    assert isinstance(got["body"]["update_id"], int)


def test_delivery_failures_recorded_and_pending_redelivered(tg, receiver):
    call(tg, "setWebhook", json={"url": hook_url(), "secret_token": SECRET})
    receiver.status = 401
    before = int(time.time())
    for expected_pending in (1, 2):
        status, outcome = deliver(tg, text="/ping %d" % expected_pending)
        assert status == 200
        assert outcome["ok"] is False and outcome["status"] == 401
        assert outcome["error"] == "Wrong response from the webhook: 401 Unauthorized"
        assert outcome["pending_update_count"] == expected_pending
    result = info(tg)
    assert result["pending_update_count"] == 2
    assert result["last_error_message"] == "Wrong response from the webhook: 401 Unauthorized"
    assert before <= result["last_error_date"] <= int(time.time())
    receiver.status = 200
    count = len(receiver.received)
    status, outcome = deliver(tg, text="/ping 3")
    assert outcome["ok"] is True and outcome["delivered"] == 3 and outcome["pending_update_count"] == 0
    assert [r["body"]["message"]["text"] for r in receiver.received[count:]] == ["/ping 1", "/ping 2", "/ping 3"]
    result = info(tg)
    assert result["pending_update_count"] == 0
    # Telegram keeps the last error after a success.
    assert result["last_error_message"] == "Wrong response from the webhook: 401 Unauthorized"


def test_drop_pending_updates(tg, receiver):
    call(tg, "setWebhook", json={"url": hook_url()})
    receiver.status = 500
    deliver(tg, text="a")
    assert info(tg)["pending_update_count"] == 1
    call(tg, "setWebhook", json={"url": hook_url(), "drop_pending_updates": True})
    assert info(tg)["pending_update_count"] == 0


def test_delivery_connection_refused(tg, tmp_path):
    hosts = tmp_path / "hosts"
    hosts.write_text("127.0.0.1 localhost\n127.3.2.1 %s\n" % HOOK_HOST)  # nothing listens there
    tg.standin.hosts_file = str(hosts)
    call(tg, "setWebhook", json={"url": hook_url()})
    status, outcome = deliver(tg, text="x")
    assert status == 200 and outcome["error"] == "Connection refused"
    assert info(tg)["last_error_message"] == "Connection refused"
    assert info(tg)["pending_update_count"] == 1


def test_delivery_unknown_host(tg):
    call(tg, "setWebhook", json={"url": "https://nowhere.clawd.test/hook"})
    status, outcome = deliver(tg, text="x")
    assert status == 200 and outcome["error"].startswith("Failed to resolve host")
    assert info(tg)["last_error_message"].startswith("Failed to resolve host")


def test_hosts_file_read_at_each_delivery(tg, receiver, hosts_file):
    call(tg, "setWebhook", json={"url": "https://late.clawd.test:8443/hook"})
    assert deliver(tg, text="x")[1]["error"].startswith("Failed to resolve host")
    hosts_file.write_text(hosts_file.read_text() + "%s late.clawd.test\n" % receiver.ip)
    # The certificate names HOOK_HOST only: the name reaches TLS (SNI and the check).
    outcome = deliver(tg, text="y")[1]
    assert outcome["error"].startswith("SSL error"), outcome


def test_delivery_tls_untrusted_without_ca(pki, hosts_file, receiver):
    with TelegramStandIn(config=_config(hosts_file=str(hosts_file))).serve_in_thread() as running:
        call(running, "setWebhook", json={"url": hook_url()})
        status, outcome = deliver(running, text="x")
        assert status == 200 and outcome["ok"] is False
        assert outcome["error"].startswith("SSL error {") and "certificate verify failed" in outcome["error"]
        assert receiver.received == []


def test_uploaded_certificate_is_trusted(pki, hosts_file, receiver):
    other = Receiver(pki["self.crt"], pki["self.key"])
    try:
        hosts_file.write_text("%s %s\n" % (other.ip, HOOK_HOST))
        with TelegramStandIn(config=_config(hosts_file=str(hosts_file))).serve_in_thread() as running:
            with open(pki["self.crt"], "rb") as handle:
                call(running, "setWebhook", data={"url": hook_url()}, files={"certificate": ("self.crt", handle.read())})
            status, outcome = deliver(running, text="x")
            assert status == 200 and outcome["ok"] is True, outcome
            assert info(running)["has_custom_certificate"] is True
        assert len(other.received) == 1 and receiver.received == []
    finally:
        other.close()


@pytest.mark.parametrize("where", ["hosts_file", "ip_address"])
def test_delivery_refuses_non_loopback(tg, hosts_file, where):
    if where == "hosts_file":
        hosts_file.write_text("192.0.2.10 %s\n" % HOOK_HOST)
        call(tg, "setWebhook", json={"url": hook_url()})
    else:
        call(tg, "setWebhook", json={"url": hook_url(), "ip_address": "203.0.113.5"})
    status, outcome = deliver(tg, text="x")
    assert status == 403
    assert "not a loopback address" in outcome["error"]
    result = info(tg)
    assert result["pending_update_count"] == 0 and "last_error_date" not in result


def test_reply_with_method_is_executed(tg, receiver):
    call(tg, "setWebhook", json={"url": hook_url()})
    receiver.reply = json.dumps({"method": "sendMessage", "chat_id": 42, "text": "pong"}).encode()
    status, outcome = deliver(tg, text="/ping", chat_id=42)
    assert status == 200 and outcome["ok"] is True
    assert outcome["method_result"]["ok"] is True
    assert requests.get(tg.url + "/_lab/telegram/messages", timeout=TIMEOUT).json() == [
        {"chat_id": 42, "text": "pong", "reply_to_message_id": None}]


def test_deliver_errors(tg):
    assert deliver(tg, text="x")[0] == 409  # no webhook yet
    assert deliver(tg, token_id=1, text="x")[0] == 404
    assert deliver(tg, username="nobody", token_id=None, text="x")[0] == 404
    call(tg, "setWebhook", json={"url": hook_url()})
    assert deliver(tg, update=[1, 2])[0] == 400
    resp = requests.post(tg.url + "/_lab/telegram/deliver", data="{", timeout=TIMEOUT)
    assert resp.status_code == 400


def test_reset_forgets_webhooks(tg):
    call(tg, "setWebhook", json={"url": hook_url()})
    requests.post(tg.url + "/_lab/reset", timeout=TIMEOUT)
    assert info(tg)["url"] == ""
