# Copyright (c) 2026, clawd.ops contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The Coolify stand-in's API with the simulated engine, in-process on a free loopback port."""

import json
import os
import re
import subprocess
import time

import pytest
import requests

from standins.coolify import CoolifyStandIn
from standins.coolify_engine import CommitError, CommitSource, parse_env_text


ROOT = "1|rootSECRETcoolifyTOKEN"
READ = "2|readonlySECRETtoken"
SENSITIVE = "3|readSENSITIVEsecret"
DEPLOY = "4|deployonlySECRETtoken"
WRITE = "5|writeonlySECRETtoken"
APP = "lab1appuuid0000000000001"
APP2 = "lab2appuuid0000000000002"
BOT_TOKEN = "123456:AAsecretBOTtokenVALUE"
HOOK_SECRET = "hookSECRETvalue42"
SHA1 = "1" * 40
SHA2 = "2" * 40
SHA3 = "3" * 40
TIMEOUT = 10


def app_spec(uuid, name, tags=()):
    return {"uuid": uuid, "name": name, "fqdn": "https://%s.clawd.test" % name, "server_name": name, "git_branch": "main",
            "base_image": "clawd-lab-app:test", "tags": list(tags),
            "environment_variables": {"TELEGRAM_BOT_TOKEN": BOT_TOKEN, "TELEGRAM_WEBHOOK_SECRET": HOOK_SECRET},
            "services": [{"name": "claudebox-web", "container": "%s-claudebox-web" % name, "listen": "127.0.1.1:8080"},
                         {"name": "telegram-bot", "container": "%s-telegram-bot" % name, "listen": "127.0.1.1:8081"},
                         {"name": "claude-backup", "container": "%s-claude-backup" % name, "listen": None}]}


def config(step=0.05, **extra):
    cfg = {"tokens": [{"token": ROOT, "abilities": ["root"]}, {"token": READ, "abilities": ["read"]},
                      {"token": SENSITIVE, "abilities": ["read", "read:sensitive"]}, {"token": DEPLOY, "abilities": ["deploy"]},
                      {"token": WRITE, "abilities": ["write"]}],
           "engine": "simulated", "simulated_step_seconds": step,
           "commits": {"main": [{"sha": SHA1, "message": "Release 1.0.0", "env": {"APP_VERSION": "1.0.0"}},
                                {"sha": SHA2, "message": "Release 2.0.0 (broken)", "env": {"APP_VERSION": "2.0.0", "APP_UNHEALTHY": "1"}},
                                {"sha": SHA3, "message": "Release 3.0.0", "env": {"APP_VERSION": "3.0.0"}}]},
           "applications": [app_spec(APP, "lab1", ["staging", "all"]), app_spec(APP2, "lab2", ["all"])]}
    cfg.update(extra)
    return cfg


@pytest.fixture(name="server", scope="module")
def server_fixture(start_standin):
    return start_standin(CoolifyStandIn, config())


@pytest.fixture(name="cf")
def cf_fixture(server):
    server.standin.wait_idle()
    requests.post(server.url + "/_lab/reset", timeout=TIMEOUT).raise_for_status()
    return server


def call(running, method, path, token=ROOT, **kwargs):
    headers = kwargs.pop("headers", {})
    if token:
        headers["Authorization"] = "Bearer " + token
    return requests.request(method, running.url + "/api/v1" + path, headers=headers, timeout=TIMEOUT, **kwargs)


def wait_status(running, dep_uuid, statuses=("finished", "failed", "cancelled-by-user"), timeout=60):
    """Wait for the deployment's thread; the timeout guards against a hang, it is not a speed the test asks for."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        dep = call(running, "GET", "/deployments/" + dep_uuid).json()
        if dep["status"] in statuses:
            return dep
        time.sleep(0.02)
    raise AssertionError("deployment %s still %s" % (dep_uuid, dep["status"]))


def deploy(running, uuid=APP, **params):
    resp = call(running, "POST", "/deploy", params=dict(uuid=uuid, **params))
    assert resp.status_code == 200, resp.text
    return resp.json()["deployments"][0]["deployment_uuid"]


def patch_sha(running, sha):
    resp = call(running, "PATCH", "/applications/" + APP, json={"git_commit_sha": sha})
    assert resp.status_code == 200, resp.text


# --------------------------------------------------------------------------- auth and error shapes


@pytest.mark.parametrize("method,path", [("GET", "/applications"), ("GET", "/deployments"), ("POST", "/deploy?uuid=" + APP),
                                         ("GET", "/applications/%s/envs" % APP), ("POST", "/applications/%s/rollback" % APP)])
def test_unauthenticated(cf, method, path):
    for token in (None, "9|nope"):
        resp = call(cf, method, path, token=token)
        assert resp.status_code == 401
        assert resp.json() == {"message": "Unauthenticated."}


@pytest.mark.parametrize("token,method,path,ability", [
    (READ, "POST", "/deploy?uuid=" + APP, "deploy"),
    (READ, "POST", "/applications/%s/start" % APP, "deploy"),
    (READ, "POST", "/deployments/x/cancel", "deploy"),
    (DEPLOY, "GET", "/applications", "read"),
    (DEPLOY, "GET", "/deployments", "read"),
    (READ, "PATCH", "/applications/" + APP, "write"),
    (READ, "POST", "/applications/%s/envs" % APP, "write"),
    (WRITE, "GET", "/applications/%s/envs" % APP, "read"),
])
def test_missing_ability(cf, token, method, path, ability):
    resp = call(cf, method, path, token=token, json={"key": "A", "value": "b"})
    assert resp.status_code == 403
    assert resp.json() == {"message": "Missing required permissions: %s" % ability}


def test_api_disabled():
    with CoolifyStandIn(config=config(api_enabled=False)).serve_in_thread() as running:
        resp = call(running, "GET", "/applications")
        assert resp.status_code == 403
        assert resp.json() == {"success": True, "message": "API is disabled."}


@pytest.mark.parametrize("path", ["/deploy", "/applications/%s/start" % APP, "/applications/%s/stop" % APP, "/applications/%s/restart" % APP])
def test_get_on_post_routes_is_405(cf, path):
    resp = call(cf, "GET", path)
    assert resp.status_code == 405
    assert resp.headers["Allow"] == "POST"
    assert resp.json() == {"message": "This endpoint has changed to a POST request."}
    assert call(cf, "GET", "/deployments").json() == []


def test_unknown_paths_and_methods_are_the_catch_all_404(cf):
    for method, path in (("GET", "/nothing"), ("PUT", "/applications/" + APP), ("DELETE", "/deploy")):
        resp = call(cf, method, path)
        assert resp.status_code == 404
        assert resp.json() == {"message": "Not found.", "docs": "https://coolify.io/docs"}


@pytest.mark.parametrize("method,path,text", [
    ("GET", "/applications/nope", "Application not found."),
    ("PATCH", "/applications/nope", "Application not found."),
    ("POST", "/applications/nope/start", "Application not found."),
    ("GET", "/applications/nope/rollback-images", "Application not found."),
    ("GET", "/applications/nope/envs", "Application not found."),
    ("GET", "/deployments/nope", "Deployment not found."),
    ("POST", "/deployments/nope/cancel", "Deployment not found."),
    ("GET", "/deployments/applications/nope", "Application not found."),
    ("DELETE", "/applications/%s/envs/nope" % APP, "Environment variable not found."),
])
def test_not_found_messages(cf, method, path, text):
    resp = call(cf, method, path, json={"commit": SHA1})
    assert resp.status_code == 404
    assert resp.json() == {"message": text}


def test_version_and_health(cf):
    assert call(cf, "GET", "/version", token=READ).text == "4.3.10"
    assert call(cf, "GET", "/health", token=None).text == "OK"


def test_queue_full_fault(cf):
    requests.post(cf.url + "/_lab/faults", json={"mode": "429", "retry_after": 60, "match": "/deploy$"}, timeout=TIMEOUT)
    resp = call(cf, "POST", "/deploy", params={"uuid": APP})
    assert resp.status_code == 429
    assert resp.headers["Retry-After"] == "60"
    assert resp.json() == {"message": "Deployment queue is full. Please wait for existing deployments to complete."}
    assert call(cf, "GET", "/deployments").json() == []


# --------------------------------------------------------------------------- deploy


@pytest.mark.parametrize("params,status,text", [
    ({"uuid": APP, "tag": "all"}, 400, "You can only use uuid or tag, not both."),
    ({}, 400, "You must provide uuid or tag."),
    ({"uuid": ","}, 400, "No UUIDs provided."),
    ({"uuid": "nope"}, 404, "No resources found."),
    ({"tag": "nope"}, 404, "No resources found with this tag."),
])
def test_deploy_validation(cf, params, status, text):
    resp = call(cf, "POST", "/deploy", params=params)
    assert resp.status_code == status
    assert resp.json() == {"message": text}
    assert call(cf, "POST", "/deploy", json=params).json() == {"message": text}


@pytest.mark.parametrize("how", ["query", "json"])
def test_deploy_by_uuid_answer_and_record(cf, how):
    kwargs = {"params": {"uuid": APP, "force": "true"}} if how == "query" else {"json": {"uuid": APP, "force": True}}
    resp = call(cf, "POST", "/deploy", token=DEPLOY, **kwargs)
    assert resp.status_code == 200
    body = resp.json()
    assert list(body) == ["deployments"]
    item = body["deployments"][0]
    assert item["message"] == "Application lab1 deployment queued."
    assert item["resource_uuid"] == APP
    assert re.match(r"^[a-z0-9]{24}$", item["deployment_uuid"])
    dep = wait_status(cf, item["deployment_uuid"])
    assert dep["status"] == "finished"
    assert dep["force_rebuild"] is True
    assert dep["commit"] == SHA3 and dep["commit_message"] == "Release 3.0.0"
    assert dep["rollback"] is False and dep["is_api"] is True and dep["restart_only"] is False
    assert dep["finished_at"] and dep["application_name"] == "lab1" and dep["server_name"] == "lab1"
    expected = {"id", "application_id", "deployment_uuid", "pull_request_id", "docker_registry_image_tag", "force_rebuild", "commit",
                "status", "is_webhook", "is_api", "restart_only", "git_type", "server_id", "application_name", "server_name",
                "deployment_url", "destination_id", "only_this_server", "rollback", "commit_message", "current_process_id",
                "created_at", "updated_at", "finished_at", "logs"}
    assert set(dep) == expected
    logs = json.loads(dep["logs"])
    assert {"command", "output", "type", "hidden", "batch", "order", "timestamp"} <= set(logs[0])
    assert [entry["order"] for entry in logs] == list(range(1, len(logs) + 1))


def test_deploy_by_uuid_list_and_tags(cf):
    body = call(cf, "POST", "/deploy", params={"uuid": "%s,%s,nope" % (APP, APP2)}).json()
    assert [d["resource_uuid"] for d in body["deployments"]] == [APP, APP2]
    cf.standin.wait_idle()
    body = call(cf, "POST", "/deploy", json={"tag": "staging,all"}).json()
    assert set(body) == {"message", "details"}
    assert body["message"][0] == "Application lab1 deployment queued."
    assert {d["resource_uuid"] for d in body["details"]} == {APP, APP2}
    # lab1 is in both tags: the first runs at once, so the second is queued behind it.
    assert [d["resource_uuid"] for d in body["details"]] == [APP, APP, APP2]
    # Again: lab1 and lab2 have a queued deployment of the same commit now -> not queued twice.
    body = call(cf, "POST", "/deploy", json={"tag": "all"}).json()
    assert body["message"][0] == "Deployment already queued for this commit."


def test_logs_need_read_sensitive(cf):
    dep_uuid = deploy(cf)
    wait_status(cf, dep_uuid)
    assert "logs" not in call(cf, "GET", "/deployments/" + dep_uuid, token=READ).json()
    assert "logs" in call(cf, "GET", "/deployments/" + dep_uuid, token=SENSITIVE).json()
    page = call(cf, "GET", "/deployments/applications/" + APP, token=READ).json()
    assert "logs" not in page["deployments"][0]


def test_one_deployment_at_a_time_per_app_and_queue_listing():
    with CoolifyStandIn(config=config(step=0.15)).serve_in_thread() as running:
        first = deploy(running)
        patch_sha(running, SHA1)
        second = deploy(running)
        other = deploy(running, uuid=APP2)
        active = call(running, "GET", "/deployments").json()
        assert [(d["deployment_uuid"], d["status"]) for d in active] == [(first, "in_progress"), (second, "queued"), (other, "in_progress")]
        assert [d["id"] for d in active] == sorted(d["id"] for d in active)
        # Same commit, still queued: not queued twice.
        resp = call(running, "POST", "/applications/%s/start" % APP)
        assert resp.json() == {"message": "Deployment already queued for this commit."}
        body = call(running, "POST", "/deploy", params={"uuid": APP}).json()
        assert body == {"deployments": [{"message": "Deployment already queued for this commit.", "resource_uuid": APP}]}
        seen_parallel = False
        while True:
            states = {d["deployment_uuid"]: d["status"] for d in call(running, "GET", "/deployments").json()}
            assert list(states.values()).count("in_progress") <= 2
            if states.get(first) == "in_progress" and states.get(second) == "in_progress":
                seen_parallel = True
            if not states:
                break
            time.sleep(0.01)
        assert not seen_parallel
        assert wait_status(running, first)["status"] == "finished"
        done = wait_status(running, second)
        assert done["status"] == "finished" and done["commit"] == SHA1
        assert call(running, "GET", "/deployments").json() == []


def test_concurrent_builds_limit_queues_other_apps():
    """Coolify's "concurrent builds" server setting: beyond it, other apps' deployments wait queued."""
    with CoolifyStandIn(config=config(step=0.01, concurrent_builds=1)).serve_in_thread() as running:
        lab_slow(running, application=APP, seconds=3600)  # held in_progress until cancelled: no race with the engine
        first = deploy(running)
        other = deploy(running, uuid=APP2)
        active = call(running, "GET", "/deployments").json()
        assert [(d["deployment_uuid"], d["status"]) for d in active] == [(first, "in_progress"), (other, "queued")]
        assert call(running, "POST", "/deployments/%s/cancel" % first).status_code == 200
        assert wait_status(running, first)["status"] == "cancelled-by-user"
        assert wait_status(running, other)["status"] == "finished"


def test_unhealthy_release_fails_and_status_follows(cf):
    patch_sha(cf, SHA1)
    assert wait_status(cf, deploy(cf))["status"] == "finished"
    patch_sha(cf, SHA2)
    dep = wait_status(cf, deploy(cf))
    assert dep["status"] == "failed"
    assert "Container claudebox-web is unhealthy." in [e["output"] for e in json.loads(dep["logs"])]
    app = call(cf, "GET", "/applications/" + APP).json()
    assert app["status"] == "running:healthy"
    images = call(cf, "GET", "/applications/%s/rollback-images" % APP).json()
    assert images["current"] == SHA1
    call(cf, "POST", "/applications/%s/stop" % APP)
    deadline = time.monotonic() + 60  # a guard against a hang, not a speed the test asks for
    while call(cf, "GET", "/applications/" + APP).json()["status"] != "exited":
        assert time.monotonic() < deadline
        time.sleep(0.02)


def test_unknown_commit_fails_with_log_line(cf):
    patch_sha(cf, "deadbeef")
    dep = wait_status(cf, deploy(cf))
    assert dep["status"] == "failed"
    assert any("Commit deadbeef not found" in e["output"] for e in json.loads(dep["logs"]))


# --------------------------------------------------------------------------- deployments per app, cancel


def test_deployments_per_app_paging_and_validation(cf):
    uuids = []
    for sha in (SHA1, SHA3, SHA1):
        patch_sha(cf, sha)
        uuids.append(deploy(cf))
        wait_status(cf, uuids[-1])
    page = call(cf, "GET", "/deployments/applications/" + APP).json()
    assert page["count"] == 3
    assert [d["deployment_uuid"] for d in page["deployments"]] == uuids[::-1]
    page = call(cf, "GET", "/deployments/applications/" + APP, params={"skip": 1, "take": 1}).json()
    assert page["count"] == 3 and [d["deployment_uuid"] for d in page["deployments"]] == [uuids[1]]
    assert call(cf, "GET", "/deployments/applications/" + APP2).json() == {"count": 0, "deployments": []}
    for params, errors in (({"skip": -1}, {"skip": ["The skip field must be at least 0."]}),
                           ({"take": 0}, {"take": ["The take field must be at least 1."]}),
                           ({"take": "x", "skip": "y"}, {"skip": ["The skip field must be an integer."], "take": ["The take field must be an integer."]})):
        resp = call(cf, "GET", "/deployments/applications/" + APP, params=params)
        assert resp.status_code == 422
        assert resp.json()["errors"] == errors
        assert resp.json()["message"].startswith(next(iter(errors.values()))[0])
    assert resp.json()["message"] == "The skip field must be an integer. (and 1 more error)"


def test_cancel_queued_and_running_and_finished():
    with CoolifyStandIn(config=config(step=0.01)).serve_in_thread() as running:
        lab_slow(running, application=APP, seconds=3600)  # running (and still running when cancelled), whatever the load
        first = deploy(running)
        patch_sha(running, SHA1)
        second = deploy(running)
        resp = call(running, "POST", "/deployments/%s/cancel" % second, token=DEPLOY)
        assert resp.status_code == 200
        assert resp.json() == {"message": "Deployment cancelled successfully.", "deployment_uuid": second, "status": "cancelled-by-user"}
        resp = call(running, "POST", "/deployments/%s/cancel" % first)
        assert resp.status_code == 200
        assert wait_status(running, first)["status"] == "cancelled-by-user"
        running.standin.wait_idle()
        assert wait_status(running, second)["status"] == "cancelled-by-user"
        # Cancelled before its turn: never ran, its commit was never resolved.
        assert call(running, "GET", "/deployments/" + second).json()["commit"] == SHA1
        assert call(running, "GET", "/applications/%s/rollback-images" % APP).json()["current"] is None
        resp = call(running, "POST", "/deployments/%s/cancel" % first)
        assert resp.status_code == 400
        assert resp.json() == {"message": "Deployment cannot be cancelled. Current status: cancelled-by-user"}
        third = deploy(running)
        wait_status(running, third)
        resp = call(running, "POST", "/deployments/%s/cancel" % third)
        assert resp.json() == {"message": "Deployment cannot be cancelled. Current status: finished"}


def lab_slow(running, method="POST", **body):
    return requests.request(method, running.url + "/_lab/coolify/slow_deployments", json=body or None, timeout=TIMEOUT)


def test_slow_deployments_wait_in_progress_until_cancelled(cf):
    """The delay knob: a Coolify slower than a caller's wait, per application; a cancel ends the wait, nothing deployed."""
    assert lab_slow(cf, application=APP, seconds=600, count=1).json() == {"application": APP, "pending": [600.0]}
    assert lab_slow(cf, "GET").json() == {APP: [600.0]}
    slow = deploy(cf)
    other = deploy(cf, uuid=APP2)  # another application is not slowed down
    assert wait_status(cf, other)["status"] == "finished"
    dep = call(cf, "GET", "/deployments/" + slow, token=SENSITIVE).json()
    assert dep["status"] == "in_progress"
    assert "Waiting for a build server (600 s)." in dep["logs"]
    assert lab_slow(cf, "GET").json() == {}  # taken by this deployment
    assert call(cf, "POST", "/deployments/%s/cancel" % slow).status_code == 200
    cf.standin.wait_idle()
    dep = call(cf, "GET", "/deployments/" + slow, token=SENSITIVE).json()
    assert dep["status"] == "cancelled-by-user"
    assert "Deployment cancelled while it waited; the old containers keep running." in dep["logs"]
    assert call(cf, "GET", "/applications/%s/rollback-images" % APP).json()["current"] is None  # the engine never ran
    assert wait_status(cf, deploy(cf))["status"] == "finished"  # the next one is not slow


@pytest.mark.parametrize("body, error", [
    ({"application": APP}, "seconds must be a number more than 0 and at most 3600"),
    ({"application": APP, "seconds": 0}, "seconds must be a number more than 0 and at most 3600"),
    ({"application": APP, "seconds": True}, "seconds must be a number more than 0 and at most 3600"),
    ({"seconds": 5}, "application must be an application uuid"),
    ({"application": APP, "seconds": 5, "count": 0}, "count must be a whole number from 1 to 100"),
    ({"application": APP, "seconds": 5, "delay": 1}, "unknown field(s): delay"),
])
def test_slow_deployments_validation(cf, body, error):
    resp = lab_slow(cf, **body)
    assert resp.status_code == 400 and resp.json() == {"error": error}


def test_slow_deployments_are_forgotten_on_delete_and_reset(cf):
    lab_slow(cf, application=APP, seconds=5, count=2)
    assert lab_slow(cf, "DELETE").json() == {"cleared": 2}
    lab_slow(cf, application=APP, seconds=5)
    requests.post(cf.url + "/_lab/reset", timeout=TIMEOUT).raise_for_status()
    assert lab_slow(cf, "GET").json() == {}


# --------------------------------------------------------------------------- applications


def test_list_and_get_applications(cf):
    apps = call(cf, "GET", "/applications", token=READ).json()
    assert [a["uuid"] for a in apps] == [APP, APP2]
    assert [a["uuid"] for a in call(cf, "GET", "/applications", params={"tag": "staging"}).json()] == [APP]
    assert call(cf, "GET", "/applications", params={"tag": "none"}).json() == []
    app = call(cf, "GET", "/applications/" + APP).json()
    assert app["name"] == "lab1" and app["fqdn"] == "https://lab1.clawd.test"
    assert app["git_branch"] == "main" and app["git_commit_sha"] == "HEAD"
    assert app["status"] == "running:healthy"
    assert isinstance(app["settings"], dict) and app["ports_exposes"] == "8080"


def test_patch_application(cf):
    resp = call(cf, "PATCH", "/applications/" + APP, token=WRITE, json={"git_commit_sha": SHA1, "description": "pinned"})
    assert resp.status_code == 200
    assert resp.json() == {"uuid": APP}
    app = call(cf, "GET", "/applications/" + APP).json()
    assert app["git_commit_sha"] == SHA1 and app["description"] == "pinned"
    resp = call(cf, "PATCH", "/applications/" + APP, json={"git_commit_sha": "HEAD", "instant_deploy": True})
    assert resp.json() == {"uuid": APP}
    active = call(cf, "GET", "/deployments").json()
    assert len(active) == 1 and active[0]["commit"] in ("HEAD", SHA3)
    assert wait_status(cf, active[0]["deployment_uuid"])["commit"] == SHA3


@pytest.mark.parametrize("body,errors", [
    ({"colour": "red", "git_branch": "main"}, {"colour": ["This field is not allowed."]}),
    ({"git_commit_sha": "-bad"}, {"git_commit_sha": ["The git commit sha field format is invalid."]}),
    ({"git_commit_sha": "has space"}, {"git_commit_sha": ["The git commit sha field format is invalid."]}),
    ({"instant_deploy": "maybe"}, {"instant_deploy": ["The instant deploy field must be true or false."]}),
])
def test_patch_application_422(cf, body, errors):
    resp = call(cf, "PATCH", "/applications/" + APP, json=body)
    assert resp.status_code == 422
    assert resp.json()["errors"] == errors
    assert call(cf, "GET", "/applications/" + APP).json()["git_commit_sha"] == "HEAD"


@pytest.mark.parametrize("path", ["/applications/" + APP, "/applications/%s/envs" % APP, "/applications/%s/envs/bulk" % APP,
                                  "/applications/%s/rollback" % APP])
@pytest.mark.parametrize("headers,data,error", [
    ({"Content-Type": "text/plain"}, '{"a": 1}', "Content-Type must be application/json."),
    ({}, None, "Content-Type must be application/json."),
    ({"Content-Type": "application/json"}, "{not json", "Invalid JSON."),
    ({"Content-Type": "application/json"}, "", "Invalid JSON."),
    ({"Content-Type": "application/json"}, "{}", "Empty JSON."),
])
def test_json_body_400_shapes(cf, path, headers, data, error):
    method = "POST" if path.endswith(("rollback", "/envs")) else "PATCH"
    resp = call(cf, method, path, headers=dict(headers), data=data)
    assert resp.status_code == 400
    assert resp.json() == {"message": "Invalid request.", "error": error}


def test_start_and_restart(cf):
    resp = call(cf, "POST", "/applications/%s/start" % APP, params={"force": "true"}, token=DEPLOY)
    assert resp.status_code == 200
    body = resp.json()
    assert body["message"] == "Deployment request queued."
    dep = wait_status(cf, body["deployment_uuid"])
    assert dep["status"] == "finished" and dep["force_rebuild"] is True
    resp = call(cf, "POST", "/applications/%s/restart" % APP)
    body = resp.json()
    assert body["message"] == "Restart request queued."
    dep = wait_status(cf, body["deployment_uuid"])
    assert dep["restart_only"] is True and dep["status"] == "finished"


# --------------------------------------------------------------------------- rollback


def test_rollback_images_and_rollback(cf):
    assert call(cf, "GET", "/applications/%s/rollback-images" % APP).json() == {"current": None, "images": []}
    patch_sha(cf, SHA1)
    wait_status(cf, deploy(cf))
    patch_sha(cf, "HEAD")
    wait_status(cf, deploy(cf))
    images = call(cf, "GET", "/applications/%s/rollback-images" % APP, token=READ).json()
    assert images["current"] == SHA3
    assert [(i["tag"], i["is_current"]) for i in images["images"]] == [(SHA1, False), (SHA3, True)]
    assert all(i["created_at"] for i in images["images"])
    resp = call(cf, "POST", "/applications/%s/rollback" % APP, token=DEPLOY, json={"commit": SHA1})
    assert resp.status_code == 200
    body = resp.json()
    assert body["message"] == "Rollback deployment queued."
    dep = wait_status(cf, body["deployment_uuid"])
    assert dep["status"] == "finished"
    assert dep["rollback"] is True and dep["force_rebuild"] is False and dep["commit"] == SHA1
    assert any("Build step skipped" in e["output"] for e in json.loads(dep["logs"]))
    # Rollback changes no application field.
    assert call(cf, "GET", "/applications/" + APP).json()["git_commit_sha"] == "HEAD"
    assert call(cf, "GET", "/applications/%s/rollback-images" % APP).json()["current"] == SHA1


@pytest.mark.parametrize("body,errors", [
    ({"commit": SHA1, "force": True}, {"force": ["This field is not allowed."]}),
    ({"tag": SHA1}, {"tag": ["This field is not allowed."]}),
    ({"commit": ""}, {"commit": ["The commit field is required."]}),
    ({"commit": 5}, {"commit": ["The commit field must be a string."]}),
    ({"commit": "-x"}, {"commit": ["The commit field format is invalid."]}),
])
def test_rollback_422(cf, body, errors):
    resp = call(cf, "POST", "/applications/%s/rollback" % APP, json=body)
    assert resp.status_code == 422
    assert resp.json()["errors"] == errors
    assert call(cf, "GET", "/deployments").json() == []


# --------------------------------------------------------------------------- environment variables


def test_envs_seeded_and_hidden_without_sensitive(cf):
    envs = call(cf, "GET", "/applications/%s/envs" % APP, token=READ).json()
    assert sorted(e["key"] for e in envs) == ["TELEGRAM_BOT_TOKEN", "TELEGRAM_WEBHOOK_SECRET"]
    assert all("value" not in e and "real_value" not in e for e in envs)
    assert all(re.match(r"^[a-z0-9]{24}$", e["uuid"]) for e in envs)
    envs = call(cf, "GET", "/applications/%s/envs" % APP, token=SENSITIVE).json()
    assert {e["key"]: e["value"] for e in envs}["TELEGRAM_BOT_TOKEN"] == BOT_TOKEN
    assert {e["key"]: e["real_value"] for e in envs}["TELEGRAM_WEBHOOK_SECRET"] == HOOK_SECRET


def test_env_create_update_bulk_delete(cf):
    path = "/applications/%s/envs" % APP
    resp = call(cf, "POST", path, token=WRITE, json={"key": " NEW KEY ", "value": "v1", "is_preview": False})
    assert resp.status_code == 201
    new_uuid = resp.json()["uuid"]
    assert list(resp.json()) == ["uuid"]
    resp = call(cf, "POST", path, json={"key": "NEW_KEY", "value": "v2"})
    assert resp.status_code == 409
    assert resp.json() == {"message": "Environment variable already exists. Use PATCH request to update it."}
    resp = call(cf, "PATCH", path, json={"key": "NEW_KEY", "value": "v3", "is_literal": True})
    assert resp.status_code == 201
    assert resp.json()["value"] == "v3" and resp.json()["is_literal"] is True and resp.json()["uuid"] == new_uuid
    resp = call(cf, "PATCH", path, json={"key": "MISSING", "value": "x"})
    assert resp.status_code == 404
    assert resp.json() == {"message": "Environment variable not found."}
    resp = call(cf, "PATCH", path, json={"key": "NEW_KEY"})
    assert resp.status_code == 422 and resp.json()["errors"] == {"value": ["The value field is required."]}
    resp = call(cf, "POST", path, json={"value": "x"})
    assert resp.status_code == 422 and resp.json()["errors"] == {"key": ["The key field is required."]}
    resp = call(cf, "POST", path, json={"key": "A", "secret": "x"})
    assert resp.status_code == 422 and resp.json() == {"message": "Validation failed.", "errors": {"secret": ["This field is not allowed."]}}
    resp = call(cf, "PATCH", path + "/bulk", json={"data": [{"key": "NEW_KEY", "value": "v4"}, {"key": "OTHER", "value": "o"}]})
    assert resp.status_code == 201
    assert [(e["key"], e["value"]) for e in resp.json()] == [("NEW_KEY", "v4"), ("OTHER", "o")]
    for bad in ({"data": []}, {"other": 1}, {"data": "x"}):
        resp = call(cf, "PATCH", path + "/bulk", json=bad)
        assert resp.status_code == 400 and resp.json() == {"message": "Bulk data is required."}
    resp = call(cf, "DELETE", "%s/%s" % (path, new_uuid), token=WRITE)
    assert resp.status_code == 200 and resp.json() == {"message": "Environment variable deleted."}
    assert call(cf, "DELETE", "%s/%s" % (path, new_uuid)).status_code == 404
    keys = [e["key"] for e in call(cf, "GET", path).json()]
    assert keys == ["TELEGRAM_BOT_TOKEN", "TELEGRAM_WEBHOOK_SECRET", "OTHER"]
    # /_lab/reset puts the configured variables back.
    requests.post(cf.url + "/_lab/reset", timeout=TIMEOUT)
    assert [e["key"] for e in call(cf, "GET", path).json()] == ["TELEGRAM_BOT_TOKEN", "TELEGRAM_WEBHOOK_SECRET"]


def test_shown_once_never_returns_value(cf):
    call(cf, "POST", "/applications/%s/envs" % APP, json={"key": "ONCE", "value": "onceSECRETvalue", "is_shown_once": True})
    env = [e for e in call(cf, "GET", "/applications/%s/envs" % APP).json() if e["key"] == "ONCE"][0]
    assert "value" not in env and env["is_shown_once"] is True


# --------------------------------------------------------------------------- masking, reset, persistence


def test_request_log_masks_tokens_and_env_values(cf):
    call(cf, "GET", "/applications/%s/envs" % APP)
    call(cf, "POST", "/applications/%s/envs" % APP, json={"key": "NEWSECRET", "value": "brandNEWsecretVALUE"})
    call(cf, "PATCH", "/applications/%s/envs" % APP, json={"key": "TELEGRAM_BOT_TOKEN", "value": BOT_TOKEN})
    call(cf, "POST", "/applications/%s/envs" % APP, token=READ, json={"key": "X", "value": "note " + HOOK_SECRET})
    call(cf, "PATCH", "/applications/%s/envs" % APP, json={"key": "NEWSECRET", "value": "brandNEWsecretVALUE"})
    raw = requests.get(cf.url + "/_lab/requests", timeout=TIMEOUT).text
    for secret in (ROOT, READ, BOT_TOKEN, HOOK_SECRET, "brandNEWsecretVALUE"):
        assert secret not in raw
    assert len(json.loads(raw)) == 5
    dep = wait_status(cf, deploy(cf))
    assert BOT_TOKEN not in dep["logs"]


def test_reset_clears_deployments_and_patches(cf):
    patch_sha(cf, SHA1)
    wait_status(cf, deploy(cf))
    requests.post(cf.url + "/_lab/reset", timeout=TIMEOUT).raise_for_status()
    assert call(cf, "GET", "/deployments/applications/" + APP).json() == {"count": 0, "deployments": []}
    assert call(cf, "GET", "/applications/" + APP).json()["git_commit_sha"] == "HEAD"
    assert call(cf, "GET", "/applications/%s/rollback-images" % APP).json() == {"current": None, "images": []}


def test_state_persists_and_in_progress_fails_on_restart(tmp_path):
    standin = CoolifyStandIn(config=config(step=0.05), state_dir=str(tmp_path))
    with standin.serve_in_thread() as running:
        done = deploy(running)
        wait_status(running, done)
        call(running, "POST", "/applications/%s/envs" % APP, json={"key": "KEPT", "value": "keptVALUE123"})
    # A deployment that was in progress when the stand-in stopped, as the state file has it.
    state_file = tmp_path / "coolify-state.json"
    state = json.loads(state_file.read_text())
    stuck = dict(state["deployments"][0], deployment_uuid="stuck0000000000000000000", id=99, status="in_progress", _logs=[])
    state["deployments"].append(stuck)
    state_file.write_text(json.dumps(state))
    with CoolifyStandIn(config=config(step=0.05), state_dir=str(tmp_path)).serve_in_thread() as running:
        assert call(running, "GET", "/deployments/" + done).json()["status"] == "finished"
        failed = call(running, "GET", "/deployments/stuck0000000000000000000").json()
        assert failed["status"] == "failed" and failed["finished_at"]
        assert "stopped while it was in progress" in failed["logs"]
        assert "KEPT" in [e["key"] for e in call(running, "GET", "/applications/%s/envs" % APP).json()]
        assert call(running, "GET", "/applications/%s/rollback-images" % APP).json()["current"] == SHA3
        assert call(running, "GET", "/deployments/applications/" + APP).json()["count"] == 2


def test_applications_glob_is_read_again(tmp_path):
    cfg = config(applications=[], applications_glob=str(tmp_path / "*" / "coolify-app.json"))
    with CoolifyStandIn(config=cfg).serve_in_thread() as running:
        assert call(running, "GET", "/applications").json() == []
        (tmp_path / "lab3").mkdir()
        (tmp_path / "lab3" / "coolify-app.json").write_text(json.dumps(app_spec("lab3appuuid0000000000003", "lab3")))
        (tmp_path / "broken").mkdir()
        (tmp_path / "broken" / "coolify-app.json").write_text("{not json")
        assert [a["name"] for a in call(running, "GET", "/applications").json()] == ["lab3"]
        assert call(running, "GET", "/applications/lab3appuuid0000000000003").status_code == 200


# --------------------------------------------------------------------------- commits from a real git repository


def _git(cwd, *args):
    env = dict(os.environ, GIT_AUTHOR_NAME="lab", GIT_AUTHOR_EMAIL="lab@clawd.test", GIT_COMMITTER_NAME="lab",
               GIT_COMMITTER_EMAIL="lab@clawd.test")
    return subprocess.run(["git"] + list(args), cwd=cwd, env=env, check=True, capture_output=True, text=True).stdout.strip()


@pytest.fixture(name="git_repo")
def git_repo_fixture(tmp_path):
    bare = tmp_path / "app.git"
    work = tmp_path / "work"
    _git(tmp_path, "init", "-q", "--bare", "-b", "main", str(bare))
    _git(tmp_path, "init", "-q", "-b", "main", str(work))
    shas = []
    for version, extra in (("1.0.0", ""), ("1.1.0", "APP_UNHEALTHY=1\n")):
        (work / "release.env").write_text("# release\nAPP_VERSION=%s\n%s" % (version, extra))
        _git(work, "add", "release.env")
        _git(work, "commit", "-q", "-m", "Release %s" % version)
        shas.append(_git(work, "rev-parse", "HEAD"))
    _git(work, "push", "-q", str(bare), "main")
    return str(bare), shas


def test_commit_source_from_git(git_repo):
    bare, (sha1, sha2) = git_repo
    source = CommitSource()
    app = {"git_repository": bare, "git_branch": "main"}
    assert source.resolve(app, "HEAD") == {"sha": sha2, "message": "Release 1.1.0", "env": {"APP_VERSION": "1.1.0", "APP_UNHEALTHY": "1"}}
    assert source.resolve(app, sha1[:10])["sha"] == sha1
    with pytest.raises(CommitError, match="not found"):
        source.resolve(app, "f" * 40)
    with pytest.raises(CommitError, match="Branch nope not found"):
        source.resolve({"git_repository": bare, "git_branch": "nope"}, "HEAD")
    assert parse_env_text("export A='x'\n#c\nB = \"y z\"\nbad\n") == {"A": "x", "B": "y z"}


def test_deploy_from_git_repository(git_repo):
    bare, (sha1, sha2) = git_repo
    spec = dict(app_spec(APP, "lab1"), git_repository=bare)
    cfg = config(applications=[spec])
    del cfg["commits"]
    with CoolifyStandIn(config=cfg).serve_in_thread() as running:
        dep = wait_status(running, deploy(running))
        assert dep["status"] == "failed" and dep["commit"] == sha2 and dep["commit_message"] == "Release 1.1.0"
        patch_sha(running, sha1)
        dep = wait_status(running, deploy(running))
        assert dep["status"] == "finished" and dep["commit"] == sha1 and dep["commit_message"] == "Release 1.0.0"
