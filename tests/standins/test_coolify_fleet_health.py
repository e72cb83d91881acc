# Copyright (c) 2026, clawd.ops contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The Coolify stand-in's Docker engine at fleet size: a service with a slow ``health_interval``.

Each Docker health check is a ``docker exec``; at 20-100 lab hosts (60-300 containers) checks every 3 s keep the
machine busy. A service that sets ``health_interval`` gets that interval, and a deployment does not wait a whole
interval for Docker's first check: the service's own GET /health answering 200 counts."""

import http.server
import socket
import threading

import pytest

from standins import coolify_engine
from standins.coolify_engine import DockerEngine, _answers_healthy


class _Ctx:  # pylint: disable=too-few-public-methods
    def __init__(self):
        self.lines = []

    def log(self, text, **_kw):
        self.lines.append(text)

    @staticmethod
    def cancelled():
        return False


def _serve(status):
    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 - http.server's name
            self.send_response(status if self.path == "/health" else 404)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *_args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, "127.0.0.1:%d" % server.server_address[1]


@pytest.fixture(name="healthy_listen")
def fixture_healthy_listen():
    server, listen = _serve(200)
    yield listen
    server.shutdown()


@pytest.fixture(name="unhealthy_listen")
def fixture_unhealthy_listen():
    server, listen = _serve(503)
    yield listen
    server.shutdown()


def _closed_listen():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return "127.0.0.1:%d" % sock.getsockname()[1]


def test_answers_healthy_only_for_a_200(healthy_listen, unhealthy_listen):
    assert _answers_healthy(healthy_listen)
    assert not _answers_healthy(unhealthy_listen)
    assert not _answers_healthy(_closed_listen())
    assert not _answers_healthy("not-an-address")


def _fake_docker(monkeypatch, health):
    calls = []

    def fake(args, stdin=None, timeout=None):  # pylint: disable=unused-argument
        calls.append(list(args))
        if args[:1] == ["inspect"]:
            out = '[{"Name": "/svc-next", "State": {"Status": "running", "Running": true, "Health": {"Status": "%s"}}}]' % health
            return coolify_engine.subprocess.CompletedProcess(args, 0, out, "")
        return coolify_engine.subprocess.CompletedProcess(args, 0, "", "")

    monkeypatch.setattr(coolify_engine, "_docker", fake)
    return calls


def test_a_slow_health_interval_is_passed_to_docker_run(monkeypatch):
    calls = _fake_docker(monkeypatch, "starting")
    engine = DockerEngine(health_timeout=1, poll_interval=0.01)
    service = {"name": "web", "container": "svc", "listen": "127.0.0.1:1", "health_interval": 60}
    assert engine._run_container({"uuid": "u"}, service, {"deployment_uuid": "d", "commit": {"sha": "c"}}, _Ctx(), "svc-next", "img", {})
    run = [c for c in calls if c[:1] == ["run"]][0]
    assert run[run.index("--health-interval") + 1] == "60s"
    service.pop("health_interval")
    calls.clear()
    engine._run_container({"uuid": "u"}, service, {"deployment_uuid": "d", "commit": {"sha": "c"}}, _Ctx(), "svc-next", "img", {})
    assert "--health-interval" not in [c for c in calls if c[:1] == ["run"]][0]


def test_a_service_that_serves_nothing_gets_no_health_check_in_a_fleet_lab(monkeypatch):
    calls = _fake_docker(monkeypatch, "starting")
    engine = DockerEngine(health_timeout=1, poll_interval=0.01)
    service = {"name": "backup", "container": "svc", "listen": None, "health_interval": 60}
    engine._run_container({"uuid": "u"}, service, {"deployment_uuid": "d", "commit": {"sha": "c"}}, _Ctx(), "svc-next", "img", {})
    run = [c for c in calls if c[:1] == ["run"]][0]
    assert "--no-healthcheck" in run and "--health-interval" not in run


def test_a_starting_container_of_a_slow_service_is_healthy_once_its_health_answers(monkeypatch, healthy_listen):
    _fake_docker(monkeypatch, "starting")
    engine = DockerEngine(health_timeout=1, poll_interval=0.01)
    service = {"name": "web", "container": "svc", "listen": "127.0.0.1:1", "health_interval": 60}
    assert engine._wait_healthy("svc-next", service, _Ctx(), listen=healthy_listen) == (True, "")


def test_a_starting_container_of_a_slow_service_that_answers_503_is_not_healthy(monkeypatch, unhealthy_listen):
    _fake_docker(monkeypatch, "starting")
    engine = DockerEngine(health_timeout=0.2, poll_interval=0.01)
    service = {"name": "web", "container": "svc", "listen": unhealthy_listen, "health_interval": 60}
    healthy, why = engine._wait_healthy("svc-next", service, _Ctx())
    assert not healthy and "not healthy after" in why


def test_without_a_health_interval_only_docker_decides(monkeypatch, healthy_listen):
    _fake_docker(monkeypatch, "starting")
    engine = DockerEngine(health_timeout=0.2, poll_interval=0.01)
    service = {"name": "web", "container": "svc", "listen": healthy_listen}
    healthy, _why = engine._wait_healthy("svc-next", service, _Ctx())
    assert not healthy


class _Clock:
    """A frozen monotonic clock that time.sleep moves on: no test here waits on the wall clock."""

    def __init__(self):
        self.now = 1000.0

    def monotonic(self):
        return self.now

    def sleep(self, seconds):
        self.now += seconds


def test_a_starting_container_of_a_slow_service_is_unhealthy_as_the_images_check_would_say(monkeypatch, unhealthy_listen):
    """Failed answers count once the image's start period is over, one per image interval: unhealthy at the third."""
    _fake_docker(monkeypatch, "starting")
    clock = _Clock()
    monkeypatch.setattr(coolify_engine, "time", clock)
    engine = DockerEngine(health_timeout=60, poll_interval=0.5)
    service = {"name": "web", "container": "svc", "listen": unhealthy_listen, "health_interval": 60}
    healthy, why = engine._wait_healthy("svc-next", service, _Ctx())
    assert not healthy and why == "container svc-next is unhealthy (GET /health failed 3 times in a row)"
    assert clock.now - 1000.0 == pytest.approx(2 + 2 * 3, abs=0.5)  # start period, then three failures 3 s apart


def test_a_slow_service_that_answers_before_its_third_failure_is_healthy(monkeypatch, healthy_listen, unhealthy_listen):
    _fake_docker(monkeypatch, "starting")
    clock = _Clock()
    monkeypatch.setattr(coolify_engine, "time", clock)
    answers = iter([unhealthy_listen] * 12)
    monkeypatch.setattr(coolify_engine, "_answers_healthy", lambda listen: _answers_healthy(next(answers, healthy_listen)))
    engine = DockerEngine(health_timeout=60, poll_interval=0.5)
    service = {"name": "web", "container": "svc", "listen": "127.0.0.1:1", "health_interval": 60}
    assert engine._wait_healthy("svc-next", service, _Ctx()) == (True, "")
