# Copyright (c) 2026, clawd.ops contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The Coolify stand-in's create/update/delete endpoints a tenant's onboarding uses: servers, projects,
environments, POST /applications/public, DELETE /applications/{uuid}; each answer checked against the spec."""

import time

import pytest
import requests

from standins.coolify import CoolifyStandIn
from test_coolify_contract import SPEC, check, resolve

ROOT = "1|tenantROOTsecret"
READ = "2|tenantREADsecret"
SERVER = "tenantserver000000000001"
SHA1 = "c" * 40
TIMEOUT = 10

# (method, spec path, status) -> why the stand-in answers what the spec does not document.
GAPS = {
    ("post", "/applications/public", 422): "Laravel validation answers 422 {message, errors}; the spec lists no 422 here",
    ("post", "/applications/public", 404): "an unknown project, environment or server answers 404, undocumented",
    ("get", "/servers/{uuid}", 404): "documented by reference; 'Server not found.'",
}


def config():
    template = {"base_image": "clawd-lab-app:test",
                "services": [{"name": "claudebox-web", "container": "tenant-claudebox-web", "listen": "127.0.1.9:8080",
                              "mounts": [{"type": "volume", "source": "tenant-workspace", "target": "/data/workspace"}]}]}
    return {"tokens": [{"token": ROOT, "abilities": ["root"]}, {"token": READ, "abilities": ["read"]}],
            "engine": "simulated", "simulated_step_seconds": 0.01,
            "commits": {"main": [{"sha": SHA1, "message": "one", "env": {}}]},
            "applications": [{"uuid": "takenapp0000000000000001", "name": "taken", "fqdn": "https://taken.example.com",
                              "services": []}],
            "servers": [{"uuid": SERVER, "name": "tenant-host", "ip": "127.0.1.9", "application": template}]}


@pytest.fixture(name="cf", scope="module")
def cf_fixture(start_standin):
    return start_standin(CoolifyStandIn, config())


def call(running, method, path, token=ROOT, **kwargs):
    headers = {"Authorization": "Bearer " + token} if token else {}
    return requests.request(method, running.url + "/api/v1" + path, headers=headers, timeout=TIMEOUT, **kwargs)


def matches_spec(method, spec_path, resp):
    """Assert the answer's status is documented (or a known gap) and its JSON body matches the documented schema."""
    documented = SPEC["paths"][spec_path][method]["responses"]
    if str(resp.status_code) not in documented:
        assert (method, spec_path, resp.status_code) in GAPS, "%s %s answered %d %s, not documented (%s)" % (
            method, spec_path, resp.status_code, resp.text[:200], sorted(documented))
        return
    content = resolve(documented[str(resp.status_code)]).get("content") or {}
    if "application/json" in content and content["application/json"].get("schema"):
        assert resp.headers["Content-Type"].startswith("application/json")
        assert check(content["application/json"]["schema"], resp.json()) == []


def project(cf, name="tenant-acme"):
    resp = call(cf, "POST", "/projects", json={"name": name, "description": "tenant"})
    matches_spec("post", "/projects", resp)
    assert resp.status_code == 201
    return resp.json()["uuid"]


def app_body(in_project, **extra):
    body = {"project_uuid": in_project, "server_uuid": SERVER, "environment_name": "production", "git_repository": "/srv/git/app.git",
            "git_branch": "main", "build_pack": "dockerfile", "ports_exposes": "8080", "name": "acme",
            "domains": "https://acme.example.com", "health_check_path": "/health", "pre_deployment_command": "true"}
    body.update(extra)
    return body


def test_servers_list_and_get(cf):
    resp = call(cf, "GET", "/servers", token=READ)
    matches_spec("get", "/servers", resp)
    assert [s["uuid"] for s in resp.json()] == [SERVER]
    resp = call(cf, "GET", "/servers/" + SERVER)
    matches_spec("get", "/servers/{uuid}", resp)
    assert resp.json()["ip"] == "127.0.1.9"
    resp = call(cf, "GET", "/servers/nope")
    matches_spec("get", "/servers/{uuid}", resp)
    assert resp.status_code == 404


def test_project_starts_with_production_environment(cf):
    uuid = project(cf, "tenant-one")
    resp = call(cf, "GET", "/projects/" + uuid)
    matches_spec("get", "/projects/{uuid}", resp)
    assert [e["name"] for e in resp.json()["environments"]] == ["production"]
    resp = call(cf, "GET", "/projects", token=READ)
    matches_spec("get", "/projects", resp)
    assert uuid in [p["uuid"] for p in resp.json()]
    resp = call(cf, "GET", "/projects/%s/environments" % uuid)
    matches_spec("get", "/projects/{uuid}/environments", resp)


def test_project_refuses_what_coolify_refuses(cf):
    resp = call(cf, "POST", "/projects", json={"description": "no name"})
    matches_spec("post", "/projects", resp)
    assert resp.status_code == 422 and resp.json()["errors"] == {"name": ["The name field is required."]}
    resp = call(cf, "POST", "/projects", json={"name": "x", "colour": "red"})
    assert resp.status_code == 422 and resp.json()["errors"] == {"colour": ["This field is not allowed."]}
    assert call(cf, "POST", "/projects", token=READ, json={"name": "x"}).status_code == 403
    resp = call(cf, "POST", "/projects", token=None, json={"name": "x"})
    matches_spec("post", "/projects", resp)
    assert resp.status_code == 401
    resp = call(cf, "GET", "/projects/nope")
    assert resp.status_code == 404 and resp.json() == {"message": "Project not found."}


def test_environment_name_taken_is_409(cf):
    uuid = project(cf, "tenant-two")
    resp = call(cf, "POST", "/projects/%s/environments" % uuid, json={"name": "staging"})
    matches_spec("post", "/projects/{uuid}/environments", resp)
    assert resp.status_code == 201
    resp = call(cf, "POST", "/projects/%s/environments" % uuid, json={"name": "staging"})
    matches_spec("post", "/projects/{uuid}/environments", resp)
    assert resp.status_code == 409 and resp.json() == {"message": "Environment with this name already exists."}


def test_create_application_then_read_update_delete(cf):
    uuid = project(cf, "tenant-three")
    resp = call(cf, "POST", "/applications/public", json=app_body(uuid))
    matches_spec("post", "/applications/public", resp)
    assert resp.status_code == 201
    app_uuid = resp.json()["uuid"]
    app = call(cf, "GET", "/applications/" + app_uuid).json()
    assert (app["name"], app["fqdn"], app["git_branch"], app["ports_exposes"], app["health_check_path"],
            app["pre_deployment_command"]) == ("acme", "https://acme.example.com", "main", "8080", "/health", "true")
    assert app["environment_id"] == call(cf, "GET", "/projects/" + uuid).json()["environments"][0]["id"]
    resp = call(cf, "PATCH", "/applications/" + app_uuid, json={"git_branch": "next", "post_deployment_command": "echo ok"})
    assert resp.status_code == 200
    app = call(cf, "GET", "/applications/" + app_uuid).json()
    assert (app["git_branch"], app["post_deployment_command"]) == ("next", "echo ok")
    resp = call(cf, "DELETE", "/projects/" + uuid)
    assert resp.status_code == 400 and "has resources" in resp.json()["message"]
    resp = call(cf, "DELETE", "/applications/%s?delete_volumes=false" % app_uuid)
    matches_spec("delete", "/applications/{uuid}", resp)
    assert resp.status_code == 200
    resp = call(cf, "GET", "/applications/" + app_uuid)
    assert resp.status_code == 404
    resp = call(cf, "DELETE", "/applications/" + app_uuid)
    matches_spec("delete", "/applications/{uuid}", resp)
    assert resp.status_code == 404
    resp = call(cf, "DELETE", "/projects/" + uuid)
    matches_spec("delete", "/projects/{uuid}", resp)
    assert resp.status_code == 200


def test_create_application_deploys_on_the_server(cf):
    uuid = project(cf, "tenant-four")
    body = app_body(uuid, name="deployed", domains="https://deployed.example.com", instant_deploy=True)
    resp = call(cf, "POST", "/applications/public", json=body)
    assert resp.status_code == 201
    app_uuid = resp.json()["uuid"]
    assert cf.standin.wait_idle()
    deployments = call(cf, "GET", "/deployments/applications/" + app_uuid).json()["deployments"]
    assert [(d["status"], d["commit"]) for d in deployments] == [("finished", SHA1)]
    assert call(cf, "GET", "/applications/" + app_uuid).json()["status"] == "running:healthy"
    assert call(cf, "DELETE", "/applications/" + app_uuid).status_code == 200


@pytest.mark.parametrize("extra,errors", [
    ({"build_pack": "magic"}, {"build_pack": ["The selected build pack is invalid."]}),
    ({"ports_exposes": "eighty"}, {"ports_exposes": ["The ports exposes field format is invalid."]}),
    ({"git_repository": ""}, {"git_repository": ["The git repository field is required."]}),
    ({"is_static": "maybe"}, {"is_static": ["The is static field must be true or false."]}),
    ({"colour": "red"}, {"colour": ["This field is not allowed."]}),
])
def test_create_application_validation_is_422_with_field_errors(cf, extra, errors):
    resp = call(cf, "POST", "/applications/public", json=app_body(project(cf, "tenant-422"), **extra))
    matches_spec("post", "/applications/public", resp)
    assert resp.status_code == 422
    assert resp.json() == {"message": "Validation failed.", "errors": errors}


def test_create_application_without_environment_is_422(cf):
    body = app_body(project(cf, "tenant-noenv"))
    del body["environment_name"]
    resp = call(cf, "POST", "/applications/public", json=body)
    assert resp.status_code == 422 and set(resp.json()["errors"]) == {"environment_name", "environment_uuid"}


@pytest.mark.parametrize("change,text", [
    ({"project_uuid": "nope"}, "Project not found."),
    ({"environment_name": "nope"}, "Environment not found."),
    ({"server_uuid": "nope"}, "Server not found."),
])
def test_create_application_unknown_references_are_404(cf, change, text):
    resp = call(cf, "POST", "/applications/public", json=app_body(project(cf, "tenant-404"), **change))
    matches_spec("post", "/applications/public", resp)
    assert resp.status_code == 404 and resp.json() == {"message": text}


def test_taken_domain_is_409_on_create_and_on_patch(cf):
    uuid = project(cf, "tenant-409")
    resp = call(cf, "POST", "/applications/public", json=app_body(uuid, domains="https://TAKEN.example.com/"))
    matches_spec("post", "/applications/public", resp)
    assert resp.status_code == 409
    body = resp.json()
    assert body["message"] == "Domain conflicts detected. Use force_domain_override=true to proceed."
    assert [(c["domain"], c["resource_name"]) for c in body["conflicts"]] == [("taken.example.com", "taken")]
    resp = call(cf, "POST", "/applications/public", json=app_body(uuid, name="free", domains="https://free.example.com"))
    assert resp.status_code == 201
    app_uuid = resp.json()["uuid"]
    resp = call(cf, "PATCH", "/applications/" + app_uuid, json={"domains": "https://taken.example.com"})
    assert resp.status_code == 409
    assert call(cf, "PATCH", "/applications/" + app_uuid, json={"domains": "https://free.example.com"}).status_code == 200
    assert call(cf, "DELETE", "/applications/" + app_uuid).status_code == 200


def test_create_refuses_a_read_token_and_no_token(cf):
    uuid = project(cf, "tenant-auth")
    assert call(cf, "POST", "/applications/public", token=READ, json=app_body(uuid)).status_code == 403
    resp = call(cf, "POST", "/applications/public", token=None, json=app_body(uuid))
    matches_spec("post", "/applications/public", resp)
    assert resp.status_code == 401
    resp = call(cf, "DELETE", "/applications/nope", token=None)
    matches_spec("delete", "/applications/{uuid}", resp)
    assert resp.status_code == 401


def test_created_applications_survive_a_restart(start_standin, tmp_path):
    first = start_standin(CoolifyStandIn, config(), state_dir=str(tmp_path))
    uuid = project(first, "tenant-restart")
    app_uuid = call(first, "POST", "/applications/public", json=app_body(uuid, name="kept", domains="https://kept.example.com")).json()["uuid"]
    first.stop()
    time.sleep(0)  # nothing to wait for: stop() returns once the server is closed
    second = start_standin(CoolifyStandIn, config(), state_dir=str(tmp_path))
    assert call(second, "GET", "/applications/" + app_uuid).json()["name"] == "kept"
    assert call(second, "GET", "/projects/" + uuid).status_code == 200
