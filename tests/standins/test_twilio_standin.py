# Copyright (c) 2026, clawd.ops contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The Twilio stand-in: numbers (search, buy, list, fetch, update, release), errors, paging, state,
and signed callbacks to an HTTPS receiver with a private CA and lab host names."""

import base64
import datetime
import hashlib
import hmac
import json
import ssl
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlsplit

import pytest
import requests

from standins.twilio import TwilioStandIn, signature


SID = "AC" + "1234abcd" * 4
TOKEN = "labTwilioTOKEN-5e5e5e5e5e5e"
OTHER_SID = "AC" + "9876fedc" * 4
OTHER_TOKEN = "otherTOKEN-7a7a7a7a"
KEY_SID = "SK" + "00ff" * 8
KEY_SECRET = "apiKEYsecret-0b0b0b"
CONFIG = {"accounts": [{"sid": SID, "auth_token": TOKEN}, {"sid": OTHER_SID, "auth_token": OTHER_TOKEN}],
          "api_keys": [{"sid": KEY_SID, "secret": KEY_SECRET, "account_sid": SID}]}
AUTH = (SID, TOKEN)
TIMEOUT = 5
BASE = "/2010-04-01/Accounts/%s" % SID


@pytest.fixture(name="server", scope="module")
def server_fixture(start_standin):
    return start_standin(TwilioStandIn, CONFIG)


@pytest.fixture(name="tw")
def tw_fixture(server):
    requests.post(server.url + "/_lab/reset", timeout=TIMEOUT).raise_for_status()
    return server


def api(tw, method, path, auth=AUTH, **kwargs):
    url = path if path.startswith("http") else tw.url + (path if path.startswith("/2010") else BASE + path)
    return requests.request(method, url, auth=auth, timeout=TIMEOUT, **kwargs)


def search_body(tw, country="US", kind="Local", **params):
    resp = api(tw, "GET", "/AvailablePhoneNumbers/%s/%s.json" % (country, kind), params=params)
    assert resp.status_code == 200, resp.text
    return resp.json()


def search(tw, country="US", kind="Local", **params):
    return [n["phone_number"] for n in search_body(tw, country, kind, **params)["available_phone_numbers"]]


def buy(tw, **form):
    return api(tw, "POST", "/IncomingPhoneNumbers.json", data=form)


def assert_error(resp, status, code, message=None):
    assert resp.status_code == status, resp.text
    body = resp.json()
    assert body["code"] == code and body["status"] == status
    assert body["more_info"] == "https://www.twilio.com/docs/errors/%d" % code
    if message is not None:
        assert message in body["message"]


# --------------------------------------------------------------------------- auth


def test_api_key_authenticates_for_its_account(tw):
    assert api(tw, "GET", "/IncomingPhoneNumbers.json", auth=(KEY_SID, KEY_SECRET)).status_code == 200
    assert_error(api(tw, "GET", "/IncomingPhoneNumbers.json", auth=(KEY_SID, "wrong")), 401, 20003, "Authenticate")
    assert_error(api(tw, "GET", "/IncomingPhoneNumbers.json", auth=None), 401, 20003)


def test_another_accounts_path_is_not_found(tw):
    resp = api(tw, "GET", "/2010-04-01/Accounts/%s/IncomingPhoneNumbers.json" % OTHER_SID)
    assert_error(resp, 404, 20404, "was not found")


# --------------------------------------------------------------------------- search


def test_search_local_with_area_code_and_capabilities(tw):
    body = search_body(tw, AreaCode="415")
    numbers = [n["phone_number"] for n in body["available_phone_numbers"]]
    assert numbers and all(n.startswith("+1415") for n in numbers)
    first = body["available_phone_numbers"][0]
    assert set(first) >= {"friendly_name", "phone_number", "lata", "locality", "rate_center", "latitude", "longitude",
                          "region", "postal_code", "iso_country", "address_requirements", "beta", "capabilities"}
    assert first["friendly_name"] == "(415) 555-0100" and first["iso_country"] == "US" and first["region"] == "CA"
    assert set(first["capabilities"]) == {"voice", "SMS", "MMS", "fax"}
    assert body["page"] == 0 and body["next_page_uri"] is None and body["uri"].startswith(BASE + "/AvailablePhoneNumbers/US/Local.json")
    with_mms = search(tw, AreaCode="415", MmsEnabled="true")
    without_sms = search(tw, AreaCode="415", SmsEnabled="false")
    assert with_mms and without_sms and not set(with_mms) & set(without_sms)
    everything = search(tw, AreaCode="415", PageSize=1000)  # the default page holds 50 of the 60 numbers of 415
    assert set(numbers) < set(everything) and len(numbers) == 50
    assert set(with_mms) < set(everything) and set(without_sms) < set(everything)
    assert search(tw, AreaCode="533") == []
    assert len(search(tw, AreaCode="415", PageSize=3)) == 3


def test_search_contains_wildcards_and_letters(tw):
    assert search(tw, Contains="5550101") == ["+12125550101", "+14155550101", "+17205550101"]
    assert set(search(tw, Contains="+1212*55")) == set(search(tw, AreaCode="212"))
    ends = search(tw, Contains="0103$")
    assert ends and all(n.endswith("0103") for n in ends)
    # JKL = 5 on the keypad: "JJJ" is 555
    assert search(tw, Contains="+1720JJJ") == search(tw, AreaCode="720")
    assert search(tw, Contains="1415%0105") == ["+14155550105"]
    assert_error(api(tw, "GET", "/AvailablePhoneNumbers/US/Local.json", params={"Contains": "5"}), 400, 20001, "Contains")
    assert_error(api(tw, "GET", "/AvailablePhoneNumbers/US/Local.json", params={"Contains": "55#5"}), 400, 20001)


def test_search_region_postal_code_and_types(tw):
    assert all(n.startswith("+1212") for n in search(tw, InRegion="NY"))
    assert search(tw, InPostalCode="80202") == search(tw, AreaCode="720")
    toll_free = search(tw, kind="TollFree")
    assert toll_free and all(n[2:5] in ("800", "888") for n in toll_free)
    gb_mobile = search(tw, country="GB", kind="Mobile", SmsEnabled="true")
    assert gb_mobile and all(n.startswith("+447") for n in gb_mobile)
    assert search(tw, country="GB", kind="Local", SmsEnabled="true") == []
    assert search(tw, country="GB", kind="Local", ExcludeAllAddressRequired="true") == []
    ca = search(tw, country="CA", AreaCode="604")
    assert ca and all(n.startswith("+1604") for n in ca)
    assert_error(api(tw, "GET", "/AvailablePhoneNumbers/US/Mobile.json"), 404, 20404)
    assert_error(api(tw, "GET", "/AvailablePhoneNumbers/ZZ/Local.json"), 404, 20404)


@pytest.mark.parametrize("params, code", [
    ({"PageSize": "0"}, 20001), ({"PageSize": "1001"}, 20001), ({"SmsEnabled": "maybe"}, 20001),
    ({"AreaCode": "41"}, 21451), ({"Distance": "501"}, 20001), ({"InRateCenter": "DENVER"}, 20001),
])
def test_search_parameter_errors(tw, params, code):
    assert_error(api(tw, "GET", "/AvailablePhoneNumbers/US/Local.json", params=params), 400, code)


# --------------------------------------------------------------------------- buy, list, fetch, update, release


def test_buy_by_number_removes_it_from_the_pool_and_release_puts_it_back(tw):
    resp = buy(tw, PhoneNumber="+14155550101", FriendlyName="clawd lab1", SmsUrl="https://lab1.clawd.test/twilio/sms")
    assert resp.status_code == 201, resp.text
    number = resp.json()
    assert number["sid"].startswith("PN") and len(number["sid"]) == 34
    assert number["account_sid"] == SID and number["phone_number"] == "+14155550101"
    assert number["friendly_name"] == "clawd lab1" and number["sms_url"] == "https://lab1.clawd.test/twilio/sms"
    assert number["sms_method"] == "POST" and number["voice_method"] == "POST" and number["voice_url"] in ("", None)
    assert number["capabilities"] == {"voice": True, "sms": True, "mms": True, "fax": False}
    assert number["uri"] == "%s/IncomingPhoneNumbers/%s.json" % (BASE, number["sid"])
    assert number["status"] == "in-use" and number["type"] == "local"
    assert datetime.datetime.strptime(number["date_created"], "%a, %d %b %Y %H:%M:%S %z")
    assert "+14155550101" not in search(tw, AreaCode="415")
    assert_error(buy(tw, PhoneNumber="+14155550101"), 400, 21422)

    assert api(tw, "GET", "/IncomingPhoneNumbers/%s.json" % number["sid"]).json() == number
    resp = api(tw, "DELETE", "/IncomingPhoneNumbers/%s.json" % number["sid"])
    assert resp.status_code == 204 and resp.content == b""
    assert_error(api(tw, "GET", "/IncomingPhoneNumbers/%s.json" % number["sid"]), 404, 20404)
    assert_error(api(tw, "DELETE", "/IncomingPhoneNumbers/%s.json" % number["sid"]), 404, 20404)
    assert "+14155550101" in search(tw, AreaCode="415")


def test_buy_by_area_code_and_the_magic_values(tw):
    resp = buy(tw, AreaCode="212")
    assert resp.status_code == 201 and resp.json()["phone_number"].startswith("+1212")
    assert resp.json()["friendly_name"] == "(212) 555-0100"
    assert buy(tw, PhoneNumber="+15005550006").status_code == 201
    assert buy(tw, AreaCode="500").json()["phone_number"].startswith("+1500")
    assert_error(buy(tw, PhoneNumber="+15005550000"), 400, 21422, "not available")
    assert_error(buy(tw, PhoneNumber="+15005550001"), 400, 21421, "invalid")
    assert_error(buy(tw, PhoneNumber="4155550101"), 400, 21421)
    assert_error(buy(tw, AreaCode="533"), 400, 21452, "No numbers found in area code 533")
    assert_error(buy(tw, AreaCode="12"), 400, 21451)
    assert_error(buy(tw, FriendlyName="x"), 400, 20001, "PhoneNumber or an AreaCode is required")
    assert_error(buy(tw, PhoneNumber="+14155550102", SmsUrl="not a url"), 400, 21402)
    assert_error(buy(tw, PhoneNumber="+14155550102", VoiceMethod="PUT"), 400, 21403)
    assert_error(buy(tw, PhoneNumber="+14155550102", FriendlyName="x" * 65), 400, 20001)
    # refused purchases leave the number available
    assert "+14155550102" in search(tw, AreaCode="415")


def test_buy_under_a_type_needs_the_number_of_that_type(tw):
    assert_error(api(tw, "POST", "/IncomingPhoneNumbers/TollFree.json", data={"AreaCode": "800"}), 400, 20001, "PhoneNumber")
    assert_error(api(tw, "POST", "/IncomingPhoneNumbers/TollFree.json", data={"PhoneNumber": "+14155550103"}), 400, 21422)
    resp = api(tw, "POST", "/IncomingPhoneNumbers/TollFree.json", data={"PhoneNumber": "+18005550100"})
    assert resp.status_code == 201 and resp.json()["type"] == "tollfree"


def test_update_changes_only_what_is_sent(tw):
    number = buy(tw, PhoneNumber="+14155550104", SmsUrl="https://a.example/sms").json()
    time.sleep(1.01)
    resp = api(tw, "POST", "/IncomingPhoneNumbers/%s.json" % number["sid"],
               data={"VoiceUrl": "https://a.example/voice", "VoiceMethod": "get", "FriendlyName": "renamed"})
    assert resp.status_code == 200
    updated = resp.json()
    assert updated["voice_url"] == "https://a.example/voice" and updated["voice_method"] == "GET"
    assert updated["friendly_name"] == "renamed" and updated["sms_url"] == "https://a.example/sms"
    assert updated["date_created"] == number["date_created"] and updated["date_updated"] != number["date_updated"]
    cleared = api(tw, "POST", "/IncomingPhoneNumbers/%s.json" % number["sid"], data={"SmsUrl": ""}).json()
    assert cleared["sms_url"] == ""
    assert_error(api(tw, "POST", "/IncomingPhoneNumbers/%s.json" % number["sid"], data={"SmsMethod": "DELETE"}), 400, 21403)
    assert_error(api(tw, "POST", "/IncomingPhoneNumbers/PN%s.json" % ("0" * 32), data={"FriendlyName": "x"}), 404, 20404)
    # another account cannot see it
    other = api(tw, "GET", "/2010-04-01/Accounts/%s/IncomingPhoneNumbers/%s.json" % (OTHER_SID, number["sid"]), auth=(OTHER_SID, OTHER_TOKEN))
    assert_error(other, 404, 20404)
    moved = api(tw, "POST", "/IncomingPhoneNumbers/%s.json" % number["sid"], data={"AccountSid": OTHER_SID}).json()
    assert moved["account_sid"] == OTHER_SID
    assert api(tw, "GET", "/2010-04-01/Accounts/%s/IncomingPhoneNumbers/%s.json" % (OTHER_SID, number["sid"]),
               auth=(OTHER_SID, OTHER_TOKEN)).status_code == 200


def test_list_filters(tw):
    for number, name in (("+14155550100", "web"), ("+14155550101", "bot"), ("+12125550100", "web")):
        assert buy(tw, PhoneNumber=number, FriendlyName=name).status_code == 201

    def listed(**params):
        resp = api(tw, "GET", "/IncomingPhoneNumbers.json", params=params)
        assert resp.status_code == 200, resp.text
        return [n["phone_number"] for n in resp.json()["incoming_phone_numbers"]]

    assert listed() == ["+14155550100", "+14155550101", "+12125550100"]
    assert listed(PhoneNumber="+14155550101") == ["+14155550101"]
    assert listed(PhoneNumber="+1415") == ["+14155550100", "+14155550101"]
    assert listed(PhoneNumber="555010*") == ["+14155550100", "+14155550101", "+12125550100"]
    assert listed(PhoneNumber="+1***5550100") == ["+14155550100", "+12125550100"]
    assert listed(FriendlyName="web") == ["+14155550100", "+12125550100"]
    assert listed(FriendlyName="nothing") == []
    # a + not percent-encoded is a space, as on the real API: it matches nothing
    raw = api(tw, "GET", tw.url + BASE + "/IncomingPhoneNumbers.json?PhoneNumber=+14155550101")
    assert raw.json()["incoming_phone_numbers"] == []


def test_list_paging_follows_next_page_uri_verbatim(tw):
    bought = [buy(tw, AreaCode="415").json()["phone_number"] for _index in range(5)]
    seen = []
    pages = 0
    url = tw.url + BASE + "/IncomingPhoneNumbers.json?PageSize=2&PhoneNumber=%2B1415"
    while url:
        body = api(tw, "GET", url).json()
        pages += 1
        assert body["page_size"] == 2 and body["page"] == pages - 1
        seen += [n["phone_number"] for n in body["incoming_phone_numbers"]]
        if body["next_page_uri"]:
            assert "PageToken=PA" in body["next_page_uri"] and "PhoneNumber=%2B1415" in body["next_page_uri"]
        url = tw.url + body["next_page_uri"] if body["next_page_uri"] else None
    assert seen == bought and pages == 3
    assert body["previous_page_uri"] is not None and body["first_page_uri"].endswith("PageSize=2&Page=0")
    page1 = api(tw, "GET", "/IncomingPhoneNumbers.json", params={"PageSize": 2, "Page": 1}).json()
    assert [n["phone_number"] for n in page1["incoming_phone_numbers"]] == bought[2:4]
    assert_error(api(tw, "GET", "/IncomingPhoneNumbers.json", params={"PageSize": 1001}), 400, 20001)
    assert_error(api(tw, "GET", "/IncomingPhoneNumbers.json", params={"PageToken": "PAnothing"}), 400, 20001)


def test_state_dir_keeps_owned_numbers(tmp_path):
    with TwilioStandIn(config=CONFIG, state_dir=str(tmp_path)).serve_in_thread() as running:
        sid = buy(running, PhoneNumber="+14155550107", FriendlyName="kept").json()["sid"]
    assert json.loads((tmp_path / "twilio-state.json").read_text())["numbers"][sid]["friendly_name"] == "kept"
    with TwilioStandIn(config=CONFIG, state_dir=str(tmp_path)).serve_in_thread() as running:
        assert api(running, "GET", "/IncomingPhoneNumbers/%s.json" % sid).json()["friendly_name"] == "kept"
        assert "+14155550107" not in search(running, AreaCode="415")


def test_request_log_masks_token_and_signature(tw):
    buy(tw, PhoneNumber="+14155550108")
    api(tw, "GET", "/IncomingPhoneNumbers.json", auth=(KEY_SID, KEY_SECRET))
    raw = requests.get(tw.url + "/_lab/requests", timeout=TIMEOUT).text
    basic = base64.b64encode(("%s:%s" % AUTH).encode()).decode()
    for secret in (TOKEN, KEY_SECRET, basic):
        assert secret not in raw
    assert json.loads(raw)[0]["headers"]["Authorization"] == "Basic ***"


# --------------------------------------------------------------------------- signature


def independent_signature(token, url, params):
    """Written from Twilio's published description, independently of the stand-in's code."""
    data = url.encode("utf-8")
    for key in sorted(params):
        data += key.encode("utf-8") + params[key].encode("utf-8")
    return base64.b64encode(hmac.new(token.encode("utf-8"), data, hashlib.sha1).digest()).decode()


def test_signature_matches_the_readme_algorithm_and_a_known_vector():
    url = "https://mycompany.com/myapp.php?foo=1&bar=2"
    params = {"CallSid": "CA1234567890ABCDE", "Caller": "+14158675309", "Digits": "1234", "From": "+14158675309", "To": "+18005551212"}
    readme = base64.b64encode(hmac.new(b"12345", (url + "".join(k + params[k] for k in sorted(params))).encode(), hashlib.sha1).digest()).decode()
    assert signature("12345", url, params) == readme == independent_signature("12345", url, params)
    # the vector of Twilio's own request-validator tests
    assert signature("12345", url, params) == "RSOYDt4T1cUTdK1PDd93/VVr8B8="
    # multi-valued parameters: each value, sorted
    assert signature("k", "https://x/", [("b", "2"), ("a", "z"), ("a", "y")]) == \
        base64.b64encode(hmac.new(b"k", b"https://x/ayazb2", hashlib.sha1).digest()).decode()
    assert signature("k", "https://x/?a=1") == base64.b64encode(hmac.new(b"k", b"https://x/?a=1", hashlib.sha1).digest()).decode()


# --------------------------------------------------------------------------- callbacks


@pytest.fixture(name="pki", scope="module")
def pki_fixture(tmp_path_factory):
    """A CA and a certificate for lab1.clawd.test signed by it, made with cryptography."""
    x509 = pytest.importorskip("cryptography.x509")
    from cryptography.hazmat.primitives import hashes, serialization  # pylint: disable=import-outside-toplevel
    from cryptography.hazmat.primitives.asymmetric import ec  # pylint: disable=import-outside-toplevel
    from cryptography.x509.oid import NameOID  # pylint: disable=import-outside-toplevel

    folder = tmp_path_factory.mktemp("pki")
    now = datetime.datetime.now(datetime.timezone.utc)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "clawd test CA")])
    ca_cert = (x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name).public_key(ca_key.public_key())
               .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(minutes=5))
               .not_valid_after(now + datetime.timedelta(days=1))
               .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
               .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=False, key_encipherment=False,
                                            data_encipherment=False, key_agreement=False, key_cert_sign=True, crl_sign=True,
                                            encipher_only=False, decipher_only=False), critical=True)
               .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
               .sign(ca_key, hashes.SHA256()))
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (x509.CertificateBuilder().subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "lab1.clawd.test")]))
            .issuer_name(ca_name).public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5)).not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName("lab1.clawd.test")]), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
            .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .sign(ca_key, hashes.SHA256()))
    (folder / "ca.pem").write_bytes(ca_cert.public_bytes(serialization.Encoding.PEM))
    (folder / "cert.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (folder / "key.pem").write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                                       serialization.NoEncryption()))
    return folder


class Receiver:
    """An HTTPS (or HTTP) server on 127.0.0.1 that records requests and checks Twilio's signature."""

    def __init__(self, pki=None):
        self.requests = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # pylint: disable=invalid-name
                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                receiver.requests.append({"method": "POST", "path": self.path, "headers": dict(self.headers),
                                          "params": dict(parse_qsl(raw.decode(), keep_blank_values=True))})
                self._answer()

            def do_GET(self):  # pylint: disable=invalid-name
                receiver.requests.append({"method": "GET", "path": self.path, "headers": dict(self.headers),
                                          "params": dict(parse_qsl(urlsplit(self.path).query, keep_blank_values=True))})
                self._answer()

            def _answer(self):
                payload = b"<Response><Message>ok</Message></Response>"
                self.send_response(200)
                self.send_header("Content-Type", "text/xml")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *args):  # pylint: disable=arguments-differ
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        if pki is not None:
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(str(pki / "cert.pem"), str(pki / "key.pem"))
            self.server.socket = context.wrap_socket(self.server.socket, server_side=True)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(name="receiver")
def receiver_fixture(pki):
    receiver = Receiver(pki)
    yield receiver
    receiver.close()


@pytest.fixture(name="lab_tw")
def lab_tw_fixture(start_standin, pki, tmp_path):
    hosts = tmp_path / "hosts"
    hosts.write_text("# lab names\n127.0.0.1 localhost\n127.0.0.1 lab1.clawd.test lab1\n192.0.2.10 evil.clawd.test\n")
    config = dict(CONFIG, ca_file=str(pki / "ca.pem"), hosts_file=str(hosts), callback_timeout=5)
    running = start_standin(TwilioStandIn, config)
    running.hosts = hosts
    yield running
    running.stop()


def callback(tw, number, kind, **params):
    return requests.post(tw.url + "/_lab/twilio/callback", json={"phone_number": number, "kind": kind, "params": params}, timeout=15)


def test_sms_callback_reaches_https_receiver_signed(lab_tw, receiver):
    url = "https://lab1.clawd.test:%d/twilio/sms?tenant=1" % receiver.port
    assert buy(lab_tw, PhoneNumber="+14155550100", SmsUrl=url).status_code == 201
    resp = callback(lab_tw, "+14155550100", "sms", Body="hello lab", From="+15017122661")
    assert resp.status_code == 200, resp.text
    outcome = resp.json()
    assert outcome["status"] == 200 and outcome["content_type"] == "text/xml" and "<Message>ok</Message>" in outcome["body"]
    got = receiver.requests[-1]
    assert got["method"] == "POST" and got["path"] == "/twilio/sms?tenant=1"
    assert got["headers"]["Host"] == "lab1.clawd.test:%d" % receiver.port
    assert got["headers"]["Content-Type"].startswith("application/x-www-form-urlencoded")
    params = got["params"]
    assert params["Body"] == "hello lab" and params["To"] == "+14155550100" and params["AccountSid"] == SID
    assert params["MessageSid"].startswith("SM")
    assert got["headers"]["X-Twilio-Signature"] == independent_signature(TOKEN, url, params)
    assert got["headers"]["X-Twilio-Signature"] != independent_signature(OTHER_TOKEN, url, params)


def test_voice_callback_with_get_signs_the_url(lab_tw, receiver):
    url = "https://lab1.clawd.test:%d/twilio/voice" % receiver.port
    assert buy(lab_tw, PhoneNumber="+14155550101", VoiceUrl=url, VoiceMethod="GET").status_code == 201
    resp = callback(lab_tw, "+14155550101", "voice", CallStatus="ringing")
    assert resp.status_code == 200 and resp.json()["method"] == "GET"
    got = receiver.requests[-1]
    assert got["method"] == "GET" and got["params"]["CallSid"].startswith("CA") and got["params"]["CallStatus"] == "ringing"
    full_url = "https://lab1.clawd.test:%d%s" % (receiver.port, got["path"])
    assert got["headers"]["X-Twilio-Signature"] == independent_signature(TOKEN, full_url, {})


def test_hosts_file_is_read_at_each_callback(lab_tw, receiver):
    url = "https://lab2.clawd.test:%d/twilio/sms" % receiver.port
    buy(lab_tw, PhoneNumber="+14155550102", SmsUrl=url)
    resp = callback(lab_tw, "+14155550102", "sms")
    assert resp.status_code == 403 and "not in the lab hosts file" in resp.json()["error"]
    text = lab_tw.hosts.read_text()
    lab_tw.hosts.unlink()
    resp = callback(lab_tw, "+14155550102", "sms")
    assert resp.status_code == 403 and "hosts file cannot be read" in resp.json()["error"]
    lab_tw.hosts.write_text(text)
    lab_tw.hosts.write_text(lab_tw.hosts.read_text() + "127.0.0.1 lab2.clawd.test\n")
    # the certificate is for lab1 only: TLS verification fails, reported as an outcome error
    resp = callback(lab_tw, "+14155550102", "sms")
    assert resp.status_code == 502 and "certificate" in resp.json()["error"].lower()


@pytest.mark.parametrize("target", ["https://evil.clawd.test/sms", "http://192.0.2.10/sms", "https://example.com/sms", "http://[::ffff:10.0.0.1]/x"])
def test_non_loopback_targets_are_refused(lab_tw, target):
    buy(lab_tw, PhoneNumber="+14155550103", SmsUrl=target)
    resp = callback(lab_tw, "+14155550103", "sms")
    assert resp.status_code == 403
    assert "loopback" in resp.json()["error"]


def test_callback_errors(lab_tw):
    assert callback(lab_tw, "+14155550109", "sms").status_code == 404
    buy(lab_tw, PhoneNumber="+14155550109")
    assert callback(lab_tw, "+14155550109", "sms").status_code == 409
    assert callback(lab_tw, "+14155550109", "fax").status_code == 400


def test_callback_to_plain_http_on_loopback(lab_tw):
    receiver = Receiver()
    try:
        url = "http://127.0.0.1:%d/hook" % receiver.port
        buy(lab_tw, PhoneNumber="+14155550104", SmsUrl=url)
        assert callback(lab_tw, "+14155550104", "sms").json()["status"] == 200
        assert receiver.requests[-1]["headers"]["X-Twilio-Signature"] == independent_signature(TOKEN, url, receiver.requests[-1]["params"])
    finally:
        receiver.close()


# --------------------------------------------------------------------------- Accounts v1: Auth Tokens


def test_secondary_token_then_promotion_refuses_the_old_primary(tw):
    resp = api(tw, "POST", tw.url + "/v1/AuthTokens/Secondary")
    assert resp.status_code == 201, resp.text
    body = resp.json()
    secondary = body["secondary_auth_token"]
    assert body["account_sid"] == SID and body["url"] == "https://accounts.twilio.com/v1/AuthTokens/Secondary"
    assert len(secondary) == 32 and secondary != TOKEN and body["date_created"].endswith("Z")
    # Both tokens work until the promotion.
    assert api(tw, "GET", "/IncomingPhoneNumbers.json").status_code == 200
    assert api(tw, "GET", "/IncomingPhoneNumbers.json", auth=(SID, secondary)).status_code == 200
    resp = api(tw, "POST", tw.url + "/v1/AuthTokens/Promote", auth=(SID, secondary))
    assert resp.status_code == 200, resp.text
    assert resp.json()["auth_token"] == secondary and resp.json()["url"] == "https://accounts.twilio.com/v1/AuthTokens/Promote"
    assert_error(api(tw, "GET", "/IncomingPhoneNumbers.json"), 401, 20003, "Authenticate")
    assert_error(api(tw, "POST", tw.url + "/v1/AuthTokens/Secondary"), 401, 20003)
    assert api(tw, "GET", "/IncomingPhoneNumbers.json", auth=(SID, secondary)).status_code == 200
    # Nothing left to promote; the other account is untouched.
    assert_error(api(tw, "POST", tw.url + "/v1/AuthTokens/Promote", auth=(SID, secondary)), 404, 20404)
    assert api(tw, "GET", "/2010-04-01/Accounts/%s.json" % OTHER_SID, auth=(OTHER_SID, OTHER_TOKEN)).status_code == 200
    # A reset forgets the rotation.
    requests.post(tw.url + "/_lab/reset", timeout=TIMEOUT).raise_for_status()
    assert api(tw, "GET", "/IncomingPhoneNumbers.json").status_code == 200


def test_delete_secondary_token(tw):
    assert_error(api(tw, "DELETE", tw.url + "/v1/AuthTokens/Secondary"), 404, 20404)
    secondary = api(tw, "POST", tw.url + "/v1/AuthTokens/Secondary").json()["secondary_auth_token"]
    again = api(tw, "POST", tw.url + "/v1/AuthTokens/Secondary").json()["secondary_auth_token"]
    assert again != secondary
    assert_error(api(tw, "GET", "/IncomingPhoneNumbers.json", auth=(SID, secondary)), 401, 20003)
    resp = api(tw, "DELETE", tw.url + "/v1/AuthTokens/Secondary")
    assert resp.status_code == 204 and resp.content == b""
    assert_error(api(tw, "GET", "/IncomingPhoneNumbers.json", auth=(SID, again)), 401, 20003)
    assert_error(api(tw, "POST", tw.url + "/v1/AuthTokens/Secondary", auth=(SID, "wrong")), 401, 20003)


def test_rotated_token_and_added_account_survive_a_restart(start_standin, tmp_path):
    running = start_standin(TwilioStandIn, CONFIG, state_dir=str(tmp_path))
    new_sid, new_token = "AC" + "5a5a" * 8, "addedTOKEN-0c0c0c0c"
    resp = requests.post(running.url + "/_lab/twilio/accounts", json={"sid": new_sid, "auth_token": new_token}, timeout=TIMEOUT)
    assert resp.status_code == 201
    assert requests.post(running.url + "/_lab/twilio/accounts", json={"sid": "AC12", "auth_token": "x"}, timeout=TIMEOUT).status_code == 400
    secondary = api(running, "POST", running.url + "/v1/AuthTokens/Secondary", auth=(new_sid, new_token)).json()["secondary_auth_token"]
    assert api(running, "POST", running.url + "/v1/AuthTokens/Promote", auth=(new_sid, secondary)).status_code == 200
    running.stop()
    again = start_standin(TwilioStandIn, CONFIG, state_dir=str(tmp_path))
    assert api(again, "GET", "/2010-04-01/Accounts/%s.json" % new_sid, auth=(new_sid, secondary)).status_code == 200
    assert_error(api(again, "GET", "/2010-04-01/Accounts/%s.json" % new_sid, auth=(new_sid, new_token)), 401, 20003)
    assert api(again, "GET", "/IncomingPhoneNumbers.json").status_code == 200
    assert secondary in again.standin.secrets()


def test_callbacks_are_signed_with_the_promoted_token(lab_tw, receiver):
    url = "https://lab1.clawd.test:%d/twilio/sms" % receiver.port
    assert buy(lab_tw, PhoneNumber="+14155550104", SmsUrl=url).status_code == 201
    secondary = api(lab_tw, "POST", lab_tw.url + "/v1/AuthTokens/Secondary").json()["secondary_auth_token"]
    assert callback(lab_tw, "+14155550104", "sms", Body="before").status_code == 200
    got = receiver.requests[-1]
    assert got["headers"]["X-Twilio-Signature"] == independent_signature(TOKEN, url, got["params"])
    assert api(lab_tw, "POST", lab_tw.url + "/v1/AuthTokens/Promote").status_code == 200
    assert callback(lab_tw, "+14155550104", "sms", Body="after").status_code == 200
    got = receiver.requests[-1]
    assert got["headers"]["X-Twilio-Signature"] == independent_signature(secondary, url, got["params"])
    assert got["headers"]["X-Twilio-Signature"] != independent_signature(TOKEN, url, got["params"])
