# Copyright (c) 2026, clawd.ops contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The Coolify stand-in's docker engine against the real Docker engine.

A stand-in runs in-process on a free loopback port with engine ``docker`` and an app of its own:
containers ``clawdtest-coolify-*`` on 127.0.9.1 (web 18080, bot 18081), volumes
``clawdtest-coolify-*``, images ``<app uuid>:<sha>``, commits from a temporary bare git repository.
Needs the sample app image named by ``CLAWD_IMAGE_APP`` (set by the full suite); fails without it.
Everything it creates is removed at the end.
"""

import json
import os
import secrets
import string
import subprocess
import time
import urllib.request

import pytest

from standins.coolify import CoolifyStandIn  # lab/ is on sys.path (tests/e2e/conftest.py)

PREFIX = "clawdtest-coolify-"
ADDRESS = "127.0.9.1"
WEB, BOT = "%s:18080" % ADDRESS, "%s:18081" % ADDRESS
TOKEN = "1|clawdtestCOOLIFYengineTOKEN"
BOT_TOKEN = "123456:clawdtestBOTtokenSECRET"
INSTANCE = "clawdtest-coolify"
DEPLOY_TIMEOUT = 240


def docker(*args, check=True):
    return subprocess.run(["docker"] + list(args), capture_output=True, text=True, check=check, timeout=300)


def git(cwd, *args):
    env = dict(os.environ, GIT_AUTHOR_NAME="lab", GIT_AUTHOR_EMAIL="lab@clawd.test", GIT_COMMITTER_NAME="lab",
               GIT_COMMITTER_EMAIL="lab@clawd.test")
    return subprocess.run(["git"] + list(args), cwd=cwd, env=env, check=True, capture_output=True, text=True).stdout.strip()


class Env:
    """The stand-in, its app and the git repository of this module's tests."""

    def __init__(self, tmp, image):
        self.uuid = "clawdtestcoolify" + "".join(secrets.choice(string.ascii_lowercase + string.digits) for _position in range(8))
        self.work = os.path.join(tmp, "work")
        self.bare = os.path.join(tmp, "app.git")
        git(tmp, "init", "-q", "--bare", "-b", "main", self.bare)
        git(tmp, "init", "-q", "-b", "main", self.work)
        self.shas = {}
        labels = {"clawd.lab.instance": INSTANCE, "clawd.lab.host": "clawdtest", "clawd.lab.role": "app"}
        mounts = [{"type": "volume", "source": PREFIX + "workspace", "target": "/data/workspace"},
                  {"type": "volume", "source": PREFIX + "config", "target": "/data/config"}]
        self.app = {
            "uuid": self.uuid, "name": "clawdtest", "fqdn": "https://clawdtest.clawd.test", "server_name": "clawdtest",
            "git_repository": self.bare, "git_branch": "main", "base_image": image,
            "environment_variables": {"TELEGRAM_BOT_TOKEN": BOT_TOKEN, "TELEGRAM_WEBHOOK_SECRET": "clawdtestHOOKsecret",
                                      "TELEGRAM_API_BASE": "http://127.0.0.1:9"},
            "services": [
                {"name": "claudebox-web", "container": PREFIX + "web", "listen": WEB,
                 "env": {"APP_ROLE": "web", "APP_LISTEN": WEB, "APP_BOT_HEALTH_URL": "http://%s/health" % BOT},
                 "labels": dict(labels, **{"clawd.app.role": "web"}), "mounts": mounts, "etc_hosts": {"clawdtest.clawd.test": ADDRESS}},
                {"name": "telegram-bot", "container": PREFIX + "bot", "listen": BOT,
                 "env": {"APP_ROLE": "bot", "APP_LISTEN": BOT}, "labels": dict(labels, **{"clawd.app.role": "bot"}), "mounts": mounts},
                {"name": "claude-backup", "container": PREFIX + "backup", "listen": None,
                 "env": {"APP_ROLE": "backup"}, "labels": dict(labels, **{"clawd.app.role": "backup"}), "mounts": mounts},
            ],
        }
        for volume in ("workspace", "config"):
            docker("volume", "create", "--label", "clawd.lab.instance=" + INSTANCE, PREFIX + volume)
        self.running = CoolifyStandIn(config={"tokens": [{"token": TOKEN, "abilities": ["root"]}], "engine": "docker",
                                              "health_timeout": 60, "applications": [self.app]}).serve_in_thread()

    def commit(self, name, lines):
        with open(os.path.join(self.work, "release.env"), "w", encoding="utf-8") as handle:
            handle.write("\n".join(lines) + "\n")
        git(self.work, "add", "release.env")
        git(self.work, "commit", "-q", "--allow-empty", "-m", "Release %s" % name)
        git(self.work, "push", "-q", self.bare, "main")
        self.shas[name] = git(self.work, "rev-parse", "HEAD")
        return self.shas[name]

    def api(self, method, path, body=None):
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(self.running.url + "/api/v1" + path, data=data, method=method,
                                         headers={"Authorization": "Bearer " + TOKEN, "Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=30) as answer:  # nosec - loopback stand-in
            return json.loads(answer.read().decode())

    def deploy(self, sha=None):
        if sha is not None:
            self.api("PATCH", "/applications/" + self.uuid, {"git_commit_sha": sha})
        return self.api("POST", "/deploy?uuid=" + self.uuid)["deployments"][0]["deployment_uuid"]

    def wait(self, dep_uuid):
        deadline = time.monotonic() + DEPLOY_TIMEOUT
        while True:
            dep = self.api("GET", "/deployments/" + dep_uuid)
            if dep["status"] not in ("queued", "in_progress"):
                return dep
            assert time.monotonic() < deadline, "deployment %s still %s" % (dep_uuid, dep["status"])
            time.sleep(0.5)

    def cleanup(self):
        self.running.stop()
        out = docker("ps", "-a", "--filter", "name=" + PREFIX, "--format", "{{.Names}}", check=False).stdout.split()
        mine = [n for n in out if n.startswith(PREFIX)]
        if mine:
            docker("rm", "-f", *mine, check=False)
        for volume in ("workspace", "config"):
            docker("volume", "rm", "-f", PREFIX + volume, check=False)
        images = docker("images", "--format", "{{.Repository}}:{{.Tag}}", self.uuid, check=False).stdout.split()
        if images:
            docker("rmi", "-f", *images, check=False)


def version(listen=WEB):
    with urllib.request.urlopen("http://%s/version" % listen, timeout=5) as answer:  # nosec - loopback app
        return json.loads(answer.read().decode())


def containers():
    out = docker("ps", "-a", "--filter", "name=" + PREFIX, "--format", "{{.Names}}").stdout.split()
    return sorted(n for n in out if n.startswith(PREFIX))


def inspect(name):
    return json.loads(docker("inspect", name).stdout)[0]


def log_text(dep):
    return "\n".join((e["command"] or "") + " " + (e["output"] or "") for e in json.loads(dep["logs"]))


@pytest.fixture(name="env", scope="module")
def env_fixture(tmp_path_factory):
    image = os.environ.get("CLAWD_IMAGE_APP")
    assert image, "CLAWD_IMAGE_APP is not set: run the full suite (or `. scripts/lib.sh && ensure_lab_images`)"
    assert docker("image", "inspect", image, check=False).returncode == 0, "image %s is missing" % image
    env = Env(str(tmp_path_factory.mktemp("coolify-engine")), image)
    try:
        yield env
    finally:
        env.cleanup()
        assert containers() == []


def test_deploy_v1(env):
    sha = env.commit("1.0.0", ["APP_VERSION=1.0.0"])
    assert env.api("GET", "/applications/" + env.uuid)["status"] == "exited"
    dep = env.wait(env.deploy())
    assert dep["status"] == "finished", log_text(dep)
    assert dep["commit"] == sha and dep["commit_message"] == "Release 1.0.0"
    assert version() == {"version": "1.0.0", "role": "web", "commit": sha}
    assert version(BOT)["version"] == "1.0.0"
    assert containers() == [PREFIX + "backup", PREFIX + "bot", PREFIX + "web"]
    labels = inspect(PREFIX + "web")["Config"]["Labels"]
    assert labels["clawd.coolify.commit"] == sha and labels["coolify.managed"] == "true"
    assert labels["coolify.applicationId"] == env.uuid and labels["clawd.coolify.deployment"] == dep["deployment_uuid"]
    assert inspect(PREFIX + "web")["Config"]["Env"].count("TELEGRAM_BOT_TOKEN=" + BOT_TOKEN) == 1
    assert BOT_TOKEN not in dep["logs"]
    assert env.api("GET", "/applications/" + env.uuid)["status"] == "running:healthy"


def test_unhealthy_release_fails_and_v1_keeps_running(env):
    before = inspect(PREFIX + "web")
    sha = env.commit("2.0.0", ["APP_VERSION=2.0.0", "APP_UNHEALTHY=1"])
    dep = env.wait(env.deploy())
    assert dep["status"] == "failed"
    assert dep["commit"] == sha
    text = log_text(dep)
    assert "is unhealthy" in text and "old containers keep running" in text
    assert version()["version"] == "1.0.0"
    after = inspect(PREFIX + "web")
    assert after["Id"] == before["Id"]
    assert after["State"]["StartedAt"] == before["State"]["StartedAt"] and after["State"]["Running"]
    assert containers() == [PREFIX + "backup", PREFIX + "bot", PREFIX + "web"]


def test_rollback_images_list_both(env):
    images = env.api("GET", "/applications/%s/rollback-images" % env.uuid)
    assert images["current"] == env.shas["1.0.0"]
    tags = {i["tag"]: i["is_current"] for i in images["images"]}
    assert tags == {env.shas["1.0.0"]: True, env.shas["2.0.0"]: False}
    assert all(i["created_at"] for i in images["images"])


def test_rollback_to_v1_after_a_newer_release(env):
    sha3 = env.commit("3.0.0", ["APP_VERSION=3.0.0"])
    dep = env.wait(env.deploy())
    assert dep["status"] == "finished", log_text(dep)
    assert version() == {"version": "3.0.0", "role": "web", "commit": sha3}
    answer = env.api("POST", "/applications/%s/rollback" % env.uuid, {"commit": env.shas["1.0.0"]})
    assert answer["message"] == "Rollback deployment queued."
    dep = env.wait(answer["deployment_uuid"])
    assert dep["status"] == "finished", log_text(dep)
    assert dep["rollback"] is True and dep["commit"] == env.shas["1.0.0"]
    assert "Build step skipped" in log_text(dep)
    assert version() == {"version": "1.0.0", "role": "web", "commit": env.shas["1.0.0"]}
    assert env.api("GET", "/applications/%s/rollback-images" % env.uuid)["current"] == env.shas["1.0.0"]


def test_cancel_a_queued_deployment(env):
    first = env.deploy("HEAD")
    second = env.deploy(env.shas["2.0.0"])
    assert env.api("GET", "/deployments/" + second)["status"] == "queued"
    answer = env.api("POST", "/deployments/%s/cancel" % second)
    assert answer == {"message": "Deployment cancelled successfully.", "deployment_uuid": second, "status": "cancelled-by-user"}
    assert env.wait(first)["status"] == "finished"
    env.running.standin.wait_idle(60)
    cancelled = env.api("GET", "/deployments/" + second)
    assert cancelled["status"] == "cancelled-by-user"
    assert "docker " not in log_text(cancelled)
    assert version()["version"] == "3.0.0"
