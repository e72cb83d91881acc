# Copyright (c) 2026, clawd.ops contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""A small framework for loopback HTTP stand-ins of outside services.

A service is a subclass of :class:`StandIn` that declares:

* its routes, with the :func:`route` decorator on handler methods
  (``handler(self, request) -> Response``; named regex groups land in ``request.args``);
* its secrets (:meth:`StandIn.secrets`, :attr:`StandIn.secret_params`,
  :attr:`StandIn.secret_headers`, :attr:`StandIn.secret_patterns`), masked in the request log;
* its error shapes (:meth:`StandIn.not_found`, :meth:`StandIn.method_not_allowed`,
  :meth:`StandIn.rate_limited`, :meth:`StandIn.server_error`);
* its state (:meth:`StandIn.configure`, :meth:`StandIn.reset_state`, and optionally
  :meth:`StandIn.export_state` / :meth:`StandIn.import_state` for ``--state-dir``).

The framework owns the server (loopback only), routing, fault injection and the
request log under ``/_lab/``. Service handlers run one at a time under
``self.lock``, so services need no locking of their own.
"""

import base64
import http
import ipaddress
import json
import os
import re
import socket
import struct
import sys
import tempfile
import threading
import time
import traceback
from email import policy
from email.parser import BytesParser
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, quote, quote_plus, unquote

MASK = "***"
LAB_PREFIX = "/_lab"
FAULT_MODES = ("429", "5xx", "slow", "reset", "drop")
FAULT_STATUSES = (500, 502, 503, 504)
# Request bodies are logged up to this many characters.
LOG_BODY_LIMIT = 65536
# Headers not worth logging.
_UNLOGGED_HEADERS = frozenset(("host", "connection", "accept-encoding", "keep-alive"))


def check_loopback(host):
    """Return ``host`` normalised if it is a loopback address, else raise ValueError.

    Accepted: any IPv4 address in 127.0.0.0/8, ``::1`` and ``localhost`` (taken as 127.0.0.1).
    """
    text = str(host).strip()
    if text.startswith("[") and text.endswith("]"):
        text = text[1:-1]
    if text.lower() == "localhost":
        return "127.0.0.1"
    try:
        addr = ipaddress.ip_address(text)
    except ValueError:
        raise ValueError(
            "stand-ins bind only to a loopback IP address (127.0.0.0/8 or ::1); %r is not an IP address" % (host,)
        ) from None
    if not addr.is_loopback:
        raise ValueError(
            "stand-ins bind only to loopback (127.0.0.0/8 or ::1); refusing to listen on %s" % (addr,)
        )
    return str(addr)


def route(methods, pattern):
    """Mark a StandIn method as the handler of ``methods`` on paths fully matching ``pattern``.

    ``methods`` is one method name or a sequence of them. Patterns starting with ``/_lab/`` are
    control endpoints of the service (no faults, not logged). May be stacked.
    """
    if isinstance(methods, str):
        methods = (methods,)
    methods = tuple(m.upper() for m in methods)

    def decorate(func):
        func.__dict__.setdefault("_standin_routes", []).append((methods, pattern))
        return func
    return decorate


class Response:
    """What a handler returns. ``body`` may be bytes, str, or a dict/list (sent as JSON)."""

    def __init__(self, status=200, body=b"", headers=None, content_type=None):
        self.status = int(status)
        self.headers = dict(headers or {})
        if isinstance(body, (dict, list)):
            body = json.dumps(body, separators=(",", ":")).encode("utf-8")
            content_type = content_type or "application/json"
        elif isinstance(body, str):
            body = body.encode("utf-8")
            content_type = content_type or "text/plain; charset=utf-8"
        elif body is None:
            body = b""
        self.body = bytes(body)
        if content_type and not any(k.lower() == "content-type" for k in self.headers):
            self.headers["Content-Type"] = content_type

    def __repr__(self):
        return "Response(%d, %d bytes)" % (self.status, len(self.body))


def json_response(data, status=200, headers=None):
    """A JSON Response."""
    return Response(status, data, headers, content_type="application/json")


class Request:
    """One parsed HTTP request as seen by a handler."""

    def __init__(self, method, target, headers, body):
        self.method = method.upper()
        raw_path, _sep, self.query_string = target.partition("?")
        self.raw_path = raw_path or "/"
        self.path = unquote(self.raw_path)
        self.headers = headers
        self.body = body or b""
        self.args = {}
        self.query_list = parse_qsl(self.query_string, keep_blank_values=True)
        self.query = dict(self.query_list)
        self._params = None

    def header(self, name, default=None):
        """A request header, case-insensitive."""
        return self.headers.get(name, default)

    @property
    def content_type(self):
        """The media type of the body, lower case, without parameters."""
        return (self.header("Content-Type") or "").split(";", 1)[0].strip().lower()

    def text(self):
        """The body decoded as UTF-8 (invalid bytes replaced)."""
        return self.body.decode("utf-8", "replace")

    def json(self):
        """The body parsed as JSON; None when empty; ValueError when invalid."""
        if not self.body.strip():
            return None
        return json.loads(self.body.decode("utf-8"))

    def form(self):
        """Fields of a form-encoded or multipart body, as a dict (files as dicts with filename, content_type, content)."""
        ctype = self.content_type
        if ctype == "application/x-www-form-urlencoded":
            return dict(parse_qsl(self.body.decode("utf-8", "replace"), keep_blank_values=True))
        if ctype == "multipart/form-data":
            return _parse_multipart(self.header("Content-Type"), self.body)
        return {}

    def params(self):
        """Query string merged with the body's fields (JSON object, form or multipart); the body wins.

        Raises ValueError when a JSON body does not parse or is not an object.
        """
        if self._params is None:
            merged = dict(self.query)
            if self.content_type == "application/json":
                data = self.json()
                if data is not None and not isinstance(data, dict):
                    raise ValueError("JSON body is not an object")
                merged.update(data or {})
            else:
                merged.update(self.form())
            self._params = merged
        return self._params

    def bearer_token(self):
        """The token of an ``Authorization: Bearer`` header, or None."""
        scheme, _sep, value = (self.header("Authorization") or "").strip().partition(" ")
        if scheme.lower() != "bearer" or not value.strip():
            return None
        return value.strip()

    def basic_auth(self):
        """``(user, password)`` from an ``Authorization: Basic`` header, or None."""
        scheme, _sep, value = (self.header("Authorization") or "").strip().partition(" ")
        if scheme.lower() != "basic":
            return None
        try:
            decoded = base64.b64decode(value.strip(), validate=True).decode("utf-8")
        except ValueError:
            return None
        user, sep, password = decoded.partition(":")
        if not sep:
            return None
        return user, password


def _parse_multipart(content_type, body):
    head = ("Content-Type: %s\r\nMIME-Version: 1.0\r\n\r\n" % content_type).encode("latin-1", "replace")
    message = BytesParser(policy=policy.HTTP).parsebytes(head + body)
    fields = {}
    if not message.is_multipart():
        return fields
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        if not name:
            continue
        content = part.get_payload(decode=True) or b""
        filename = part.get_filename()
        if filename is not None:
            fields[name] = {"filename": filename, "content_type": part.get_content_type(), "content": content}
        else:
            fields[name] = content.decode(part.get_content_charset() or "utf-8", "replace")
    return fields


class Fault:
    """One queued fault; see :meth:`from_json` for the accepted fields."""

    def __init__(self, mode, count=1, retry_after=1, status=503, delay=1.0, match=None):
        self.mode = mode
        self.count = count
        self.retry_after = retry_after
        self.status = status
        self.delay = delay
        self.match = match
        self.regex = re.compile(match) if match is not None else None

    @classmethod
    def from_json(cls, data):
        """Build a Fault from the JSON of ``POST /_lab/faults``; ValueError names what is wrong."""
        if not isinstance(data, dict):
            raise ValueError("a fault must be a JSON object")
        unknown = sorted(set(data) - {"mode", "count", "retry_after", "status", "delay", "match"})
        if unknown:
            raise ValueError("unknown fault field(s): %s" % ", ".join(unknown))
        mode = str(data.get("mode", ""))
        if mode not in FAULT_MODES:
            raise ValueError("fault mode must be one of %s, not %r" % ("|".join(FAULT_MODES), data.get("mode")))
        count = _number(data, "count", 1, integer=True)
        if count < 1:
            raise ValueError("fault count must be at least 1")
        retry_after = _number(data, "retry_after", 1, integer=True)
        if retry_after < 0:
            raise ValueError("retry_after must not be negative")
        status = _number(data, "status", 503, integer=True)
        if status not in FAULT_STATUSES:
            raise ValueError("fault status must be one of %s" % ", ".join(str(s) for s in FAULT_STATUSES))
        delay = _number(data, "delay", 1.0)
        if delay < 0:
            raise ValueError("delay must not be negative")
        match = data.get("match")
        if match is not None:
            if not isinstance(match, str):
                raise ValueError("match must be a string (a regular expression)")
            try:
                re.compile(match)
            except re.error as exc:
                raise ValueError("match is not a valid regular expression: %s" % exc) from None
        return cls(mode, count, retry_after, status, delay, match)

    def matches(self, path):
        """True if this fault applies to a request for ``path``."""
        return self.regex is None or self.regex.search(path) is not None

    def to_json(self):
        """The fault as listed by ``GET /_lab/faults``."""
        data = {"mode": self.mode, "count": self.count, "match": self.match}
        if self.mode == "429":
            data["retry_after"] = self.retry_after
        elif self.mode == "5xx":
            data["status"] = self.status
        elif self.mode == "slow":
            data["delay"] = self.delay
        return data


def _number(data, key, default, integer=False):
    value = data.get(key, default)
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        try:
            value = float(value)
        except (TypeError, ValueError):
            raise ValueError("%s must be a number" % key) from None
    if integer:
        if value != int(value):
            raise ValueError("%s must be a whole number" % key)
        return int(value)
    return float(value)


class StandIn:
    """Base class of a stand-in service; see the module docstring for what a subclass declares."""

    #: Service name, used by ``/_lab/health`` and the CLI.
    name = "standin"
    #: Request headers whose values are always masked in the log (lower case). The auth scheme
    #: ("Bearer", "Basic") is kept, the credentials are not.
    secret_headers = ("authorization", "proxy-authorization", "cookie", "set-cookie")
    #: Parameter names whose values are masked in query strings, form bodies and JSON bodies.
    secret_params = ("password", "token", "auth_token", "authtoken", "secret", "secret_token", "api_key")
    #: ``(regex, replacement)`` pairs applied to every logged string (e.g. tokens inside URL paths).
    secret_patterns = ()

    def __init__(self, config=None, host="127.0.0.1", port=0, state_dir=None):
        self.host = check_loopback(host)
        self.port = int(port)
        self.state_dir = state_dir
        self.config = config if config is not None else {}
        self.lock = threading.RLock()
        self._faults = []
        self._log = []
        self._log_seq = 0
        self._service_routes = []
        self._lab_routes = [
            ("POST", re.compile(r"/_lab/faults"), self._lab_add_faults),
            ("GET", re.compile(r"/_lab/faults"), self._lab_list_faults),
            ("DELETE", re.compile(r"/_lab/faults"), self._lab_clear_faults),
            ("GET", re.compile(r"/_lab/requests"), self._lab_list_requests),
            ("DELETE", re.compile(r"/_lab/requests"), self._lab_clear_requests),
            ("POST", re.compile(r"/_lab/reset"), self._lab_reset),
            ("GET", re.compile(r"/_lab/health"), self._lab_health),
        ]
        self._collect_routes()
        self._compiled_patterns = [(re.compile(p), r) for p, r in self.secret_patterns]
        self._secret_param_names = frozenset(n.lower() for n in self.secret_params)
        self._server = None
        self.configure(self.config)
        with self.lock:
            self.reset_state()
            self._load_state()

    # ----------------------------------------------------------------- hooks for services

    def configure(self, config):
        """Read the service's configuration (credentials, versions). Called once by __init__."""

    def reset_state(self):
        """Forget everything the service learnt (``POST /_lab/reset``). Called with the lock held."""

    def export_state(self):
        """A JSON-able snapshot of the state to persist in ``--state-dir``, or None for nothing."""
        return None

    def import_state(self, data):
        """Restore a snapshot made by :meth:`export_state`."""

    def secrets(self):
        """Literal secret strings configured for the service (tokens, passwords)."""
        return ()

    def not_found(self, request):
        """The service's answer for an unknown path."""
        return json_response({"error": "not found", "path": request.path}, 404)

    def method_not_allowed(self, request, allowed):
        """The service's answer for a known path requested with the wrong method."""
        return json_response({"error": "method not allowed", "method": request.method}, 405, {"Allow": ", ".join(allowed)})

    def rate_limited(self, retry_after):
        """The service's 429 answer (fault mode ``429``)."""
        return json_response({"error": "too many requests"}, 429, {"Retry-After": str(retry_after)})

    def server_error(self, status):
        """The service's answer for a 5xx (fault mode ``5xx``, and a crashing handler with 500)."""
        return json_response({"error": http.HTTPStatus(status).phrase}, status)

    # ----------------------------------------------------------------- routing

    def _collect_routes(self):
        seen = set()
        for klass in reversed(type(self).__mro__):
            for attr, func in vars(klass).items():
                for methods, pattern in getattr(func, "_standin_routes", ()):
                    key = (methods, pattern)
                    if key in seen:
                        continue
                    seen.add(key)
                    handler = getattr(self, attr)
                    table = self._lab_routes if pattern.startswith(LAB_PREFIX + "/") else self._service_routes
                    for method in methods:
                        table.append((method, re.compile(pattern), handler))

    @staticmethod
    def _find(table, request):
        """(handler, match, allowed methods) for ``request`` in a route table."""
        allowed = []
        for method, regex, handler in table:
            match = regex.fullmatch(request.path)
            if match is None:
                continue
            if method == request.method or (request.method == "HEAD" and method == "GET"):
                return handler, match, allowed
            if method not in allowed:
                allowed.append(method)
        return None, None, allowed

    def dispatch(self, request):
        """Answer a service request normally (no faults). Runs the handler under the lock."""
        handler, match, allowed = self._find(self._service_routes, request)
        with self.lock:
            if handler is None:
                if allowed:
                    return self.method_not_allowed(request, allowed)
                return self.not_found(request)
            request.args = match.groupdict()
            try:
                return handler(request)
            except Exception:  # pylint: disable=broad-exception-caught
                # A bug in a handler must still produce an answer in the service's own 500 form.
                traceback.print_exc(file=sys.stderr)
                return self.server_error(500)

    def _dispatch_lab(self, request):
        handler, match, allowed = self._find(self._lab_routes, request)
        if handler is None:
            if allowed:
                return json_response({"error": "method not allowed", "allowed": allowed}, 405, {"Allow": ", ".join(allowed)})
            return json_response({"error": "no lab endpoint %s" % request.path}, 404)
        request.args = match.groupdict()
        return handler(request)

    # ----------------------------------------------------------------- faults

    def add_fault(self, fault):
        """Queue a Fault (what ``POST /_lab/faults`` does)."""
        with self.lock:
            self._faults.append(fault)

    def _take_fault(self, path):
        with self.lock:
            for fault in self._faults:
                if fault.matches(path):
                    fault.count -= 1
                    if fault.count <= 0:
                        self._faults.remove(fault)
                    return fault
        return None

    def _lab_add_faults(self, request):
        try:
            data = request.json()
            items = data if isinstance(data, list) else [data]
            faults = [Fault.from_json(item) for item in items]
        except ValueError as exc:
            return json_response({"error": str(exc)}, 400)
        for fault in faults:
            self.add_fault(fault)
        return json_response({"queued": [f.to_json() for f in faults]}, 201)

    def _lab_list_faults(self, _request):
        with self.lock:
            return json_response([f.to_json() for f in self._faults])

    def _lab_clear_faults(self, _request):
        with self.lock:
            count = len(self._faults)
            del self._faults[:]
        return json_response({"cleared": count})

    # ----------------------------------------------------------------- request log and masking

    def _secret_variants(self):
        variants = set()
        for secret in self.secrets():
            if not secret:
                continue
            secret = str(secret)
            variants.update((secret, quote(secret, safe=""), quote(secret), quote_plus(secret), json.dumps(secret)[1:-1]))
        variants.discard("")
        return sorted(variants, key=len, reverse=True)

    def mask(self, text, _variants=None):
        """``text`` with every declared secret replaced by ``***``."""
        if not text:
            return text
        for regex, replacement in self._compiled_patterns:
            text = regex.sub(replacement, text)
        for variant in self._secret_variants() if _variants is None else _variants:
            text = text.replace(variant, MASK)
        return text

    def _mask_params_text(self, text):
        """Mask the values of secret parameter names in a query string or form body."""
        if not text or not self._secret_param_names:
            return text
        names = "|".join(re.escape(n) for n in sorted(self._secret_param_names))
        return re.sub(r"(?i)((?:^|[&;])(?:%s)=)[^&;]*" % names, r"\1" + MASK, text)

    def _mask_json_value(self, value):
        if isinstance(value, dict):
            return {k: (MASK if str(k).lower() in self._secret_param_names else self._mask_json_value(v)) for k, v in value.items()}
        if isinstance(value, list):
            return [self._mask_json_value(v) for v in value]
        return value

    def _mask_body(self, request):
        text = request.body[:LOG_BODY_LIMIT].decode("utf-8", "replace")
        ctype = request.content_type
        if ctype == "application/json":
            try:
                text = json.dumps(self._mask_json_value(json.loads(text)), separators=(",", ":"))
            except ValueError:
                pass
        elif ctype == "application/x-www-form-urlencoded":
            text = self._mask_params_text(text)
        elif ctype == "multipart/form-data" and self._secret_param_names:
            names = "|".join(re.escape(n) for n in sorted(self._secret_param_names))
            text = re.sub(r'(?is)(name="(?:%s)"[^\r\n]*\r?\n(?:[^\r\n]+\r?\n)*\r?\n).*?(?=\r?\n--)' % names, r"\1" + MASK, text)
        if len(request.body) > LOG_BODY_LIMIT:
            text += "...(%d bytes)" % len(request.body)
        return text

    def _mask_header(self, name, value):
        if name.lower() in self.secret_headers:
            scheme, sep, _rest = value.strip().partition(" ")
            if sep and scheme.lower() in ("basic", "bearer", "digest", "token", "bot"):
                return "%s %s" % (scheme, MASK)
            return MASK
        return value

    def _record(self, request, status, fault, started):
        variants = self._secret_variants()
        headers = {}
        for name, value in request.headers.items():
            if name.lower() not in _UNLOGGED_HEADERS:
                headers[name] = self.mask(self._mask_header(name, value), variants)
        entry = {
            "method": request.method,
            "path": self.mask(request.raw_path, variants),
            "query": self.mask(self._mask_params_text(request.query_string), variants),
            "headers": headers,
            "body": self.mask(self._mask_body(request), variants),
            "status": status,
            "fault": fault.mode if fault is not None else None,
            "timestamp": started,
            "duration": round(time.time() - started, 6),
        }
        with self.lock:
            self._log_seq += 1
            entry["id"] = self._log_seq
            self._log.append(entry)

    def requests_log(self):
        """A copy of the (already masked) request log."""
        with self.lock:
            return [dict(e) for e in self._log]

    def _lab_list_requests(self, request):
        entries = self.requests_log()
        pattern = request.query.get("match")
        if pattern:
            try:
                regex = re.compile(pattern)
            except re.error as exc:
                return json_response({"error": "match is not a valid regular expression: %s" % exc}, 400)
            entries = [e for e in entries if regex.search(e["path"])]
        return json_response(entries)

    def _lab_clear_requests(self, _request):
        with self.lock:
            count = len(self._log)
            del self._log[:]
        return json_response({"cleared": count})

    # ----------------------------------------------------------------- reset, health, state

    def reset(self):
        """Clear faults, the request log and the service's state."""
        with self.lock:
            del self._faults[:]
            del self._log[:]
            self.reset_state()
            self._save_state()

    def _lab_reset(self, _request):
        self.reset()
        return json_response({"reset": True, "service": self.name})

    def _lab_health(self, _request):
        return json_response({"service": self.name, "ok": True})

    def _state_file(self):
        return os.path.join(self.state_dir, "%s-state.json" % self.name) if self.state_dir else None

    def _load_state(self):
        path = self._state_file()
        if path and os.path.exists(path):
            with open(path, encoding="utf-8") as handle:
                self.import_state(json.load(handle))

    def _save_state(self):
        path = self._state_file()
        if not path:
            return
        # The base class keeps nothing; services that override export_state() return a dict.
        data = self.export_state()  # pylint: disable=assignment-from-none
        if data is None:
            return
        os.makedirs(self.state_dir, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=self.state_dir, prefix=".%s-" % self.name)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(data, handle)
        os.replace(tmp, path)

    # ----------------------------------------------------------------- one request

    def handle(self, request):
        """Answer one request. Returns (Response or None for no answer, fault mode or None)."""
        if request.path == LAB_PREFIX or request.path.startswith(LAB_PREFIX + "/"):
            return self._dispatch_lab(request), None
        started = time.time()
        fault = self._take_fault(request.path)
        response = None
        if fault is None or fault.mode == "slow":
            if fault is not None:
                time.sleep(fault.delay)
            response = self.dispatch(request)
            if self.state_dir:
                with self.lock:
                    self._save_state()
        elif fault.mode == "429":
            response = self.rate_limited(fault.retry_after)
        elif fault.mode == "5xx":
            response = self.server_error(fault.status)
        self._record(request, response.status if response is not None else None, fault, started)
        return response, fault.mode if fault is not None else None

    # ----------------------------------------------------------------- serving

    def _make_server(self):
        family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
        server = _Server((self.host, self.port), _Handler, family)
        server.standin = self
        self.port = server.server_address[1]
        return server

    @property
    def url(self):
        """Base URL of the running server."""
        host = "[%s]" % self.host if ":" in self.host else self.host
        return "http://%s:%d" % (host, self.port)

    def serve_in_thread(self):
        """Bind, serve from a daemon thread, and return a :class:`RunningStandIn` handle."""
        server = self._make_server()
        thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1},
                                  name="standin-%s" % self.name, daemon=True)
        thread.start()
        return RunningStandIn(self, server, thread)

    def serve_forever(self, stop_event=None):
        """Serve until ``stop_event`` is set (forever if None). Used by the CLI."""
        handle = self.serve_in_thread()
        try:
            (stop_event or threading.Event()).wait()
        finally:
            handle.stop()


class RunningStandIn:
    """Handle on a stand-in served from a thread: ``.url``, ``.standin``, ``.stop()``; a context manager."""

    def __init__(self, standin, server, thread):
        self.standin = standin
        self._server = server
        self._thread = thread
        self.url = standin.url
        self.host = standin.host
        self.port = standin.port

    def stop(self, timeout=5):
        """Stop serving, close open connections and the listening socket."""
        if self._server is None:
            return
        server, self._server = self._server, None
        server.shutdown()
        server.close_connections()
        server.server_close()
        self._thread.join(timeout)

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.stop()


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    standin = None

    def __init__(self, address, handler, family):
        self.address_family = family
        self._connections = set()
        self._connections_lock = threading.Lock()
        super().__init__(address, handler)

    def process_request(self, request, client_address):
        with self._connections_lock:
            self._connections.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request):
        with self._connections_lock:
            self._connections.discard(request)
        super().shutdown_request(request)

    def close_connections(self):
        """Shut down kept-alive connections so their handler threads end."""
        with self._connections_lock:
            connections = list(self._connections)
        for conn in connections:
            try:
                conn.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def handle_error(self, request, client_address):
        # Clients hanging up (timeouts in tests, drop faults) are normal here.
        if not isinstance(sys.exc_info()[1], (ConnectionError, TimeoutError)):
            super().handle_error(request, client_address)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Idle kept-alive connections are closed after this many seconds.
    timeout = 30

    def version_string(self):
        return "clawd-standin-%s" % self.server.standin.name

    def log_message(self, format, *args):  # pylint: disable=redefined-builtin
        """Quiet: the request log lives under /_lab/requests."""

    def _read_body(self):
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            chunks = []
            while True:
                size = int(self.rfile.readline().split(b";", 1)[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return b"".join(chunks)
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length > 0 else b""

    def _handle(self):
        try:
            body = self._read_body()
        except ValueError:
            self.send_error(400, "Bad request body framing")
            return
        request = Request(self.command, self.path, self.headers, body)
        response, fault = self.server.standin.handle(request)
        if response is None:
            self.close_connection = True
            if fault == "reset":
                # SO_LINGER with a zero timeout makes close() send a TCP RST instead of a FIN.
                self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                self.connection.close()
            return
        self._send(response, head_only=self.command == "HEAD")

    def _send(self, response, head_only=False):
        try:
            self.send_response(response.status)
            for name, value in response.headers.items():
                if name.lower() not in ("content-length", "connection"):
                    self.send_header(name, value)
            self.send_header("Content-Length", str(len(response.body)))
            if self.close_connection:
                self.send_header("Connection", "close")
            self.end_headers()
            if not head_only:
                self.wfile.write(response.body)
        except (ConnectionError, TimeoutError):
            # The client went away (e.g. it timed out during a slow fault).
            self.close_connection = True

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = _handle
