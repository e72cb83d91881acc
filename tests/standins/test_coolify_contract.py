# Copyright (c) 2026, clawd.ops contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The Coolify stand-in's answers checked against Coolify's OpenAPI spec.

Every case names a documented path and method; the answer's status must be one the spec lists
for it, and a JSON body must match the documented schema (a small checker: type, required,
properties, items, additionalProperties, $ref). Where the spec is known to be wrong or silent,
KNOWN_SPEC_GAPS says so, with the source of the real behaviour (/work/shared/specs/README.md).
"""

import json
import os
import time

import pytest
import requests

from standins.coolify import CoolifyStandIn

HERE = os.path.dirname(os.path.abspath(__file__))
FULL_SPEC = "/work/shared/specs/coolify-openapi.json"
SUBSET_SPEC = os.path.join(HERE, "specs", "coolify-openapi-subset.json")
ROOT = "1|contractROOTsecret"
READ = "2|contractREADsecret"
APP = "contractapp0000000000001"
SHA1, SHA2 = "a" * 40, "b" * 40
TIMEOUT = 10

# (method, spec path, status) -> why the stand-in answers what the spec does not document.
KNOWN_SPEC_GAPS = {
    ("get", "/deployments/applications/{uuid}", 200):
        "the spec says an array of Application; Coolify answers {count, deployments: [ApplicationDeploymentQueue]} (specs README)",
    ("get", "/deployments/applications/{uuid}", 422): "Laravel validation of skip/take is not documented",
    ("get", "/deployments/applications/{uuid}", 404): "an unknown application answers 404 'Application not found.', undocumented",
    ("post", "/applications/{uuid}/envs", 409): "an existing key answers 409 (specs README), undocumented",
    ("post", "/applications/{uuid}/envs", 422): "Laravel validation (key required, unknown fields) is not documented",
    ("patch", "/applications/{uuid}", 422): "the whitelist and field validation answer 422, undocumented",
    ("get", "/applications", 403): "ApiAbility's 403 'Missing required permissions' is documented on no path",
    ("post", "/deploy", 403): "ApiAbility's 403 'Missing required permissions' is documented on no path",
    ("post", "/deploy", 404): "'No resources found.' answers 404, undocumented",
}
# Fields the spec types without "nullable" that Coolify returns as null when unset (the
# generator marks almost nothing nullable): the checker accepts null for optional properties.
NULL_POLICY = "null accepted for optional properties"


def load_spec():
    path = FULL_SPEC if os.path.exists(FULL_SPEC) else SUBSET_SPEC
    with open(path, encoding="utf-8") as handle:
        return json.load(handle)


SPEC = load_spec()


def resolve(schema):
    while isinstance(schema, dict) and "$ref" in schema:
        node = SPEC
        for part in schema["$ref"].lstrip("#/").split("/"):
            node = node[part]
        schema = node
    return schema


TYPES = {
    "string": lambda v: isinstance(v, str),
    "integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
    "number": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
    "boolean": lambda v: isinstance(v, bool),
    "array": lambda v: isinstance(v, list),
    "object": lambda v: isinstance(v, dict),
    "null": lambda v: v is None,
}


def check(schema, value, where="$", optional=False):
    """A list of mismatches between ``value`` and ``schema`` (empty when it matches)."""
    schema = resolve(schema)
    if not isinstance(schema, dict) or not schema:
        return []
    if value is None and (optional or schema.get("nullable")):
        return []
    types = schema.get("type")
    if types is not None:
        types = [types] if isinstance(types, str) else list(types)
        if not any(TYPES[t](value) for t in types):
            return ["%s: %r is not %s" % (where, value, "|".join(types))]
    errors = []
    if isinstance(value, dict):
        props = schema.get("properties") or {}
        for key in schema.get("required") or ():
            if key not in value:
                errors.append("%s: required %s missing" % (where, key))
        for key, item in value.items():
            if key in props:
                errors += check(props[key], item, "%s.%s" % (where, key), optional=key not in (schema.get("required") or ()))
            elif isinstance(schema.get("additionalProperties"), dict):
                errors += check(schema["additionalProperties"], item, "%s.%s" % (where, key))
    if isinstance(value, list) and "items" in schema:
        for index, item in enumerate(value):
            errors += check(schema["items"], item, "%s[%d]" % (where, index))
    return errors


def test_checker_finds_mismatches():
    schema = {"type": "object", "required": ["a"], "properties": {"a": {"type": "integer"}, "b": {"type": "array", "items": {"type": "string"}}}}
    assert check(schema, {"a": 1, "b": ["x"]}) == []
    assert check(schema, {"b": [1]}) == ["$: required a missing", "$.b[0]: 1 is not string"]
    assert check(schema, {"a": True}) == ["$.a: True is not integer"]
    assert check({"$ref": "#/components/schemas/ApplicationDeploymentQueue"}, {"id": "1"}) == ["$.id: '1' is not integer"]


def config():
    return {"tokens": [{"token": ROOT, "abilities": ["root"]}, {"token": READ, "abilities": ["read"]}],
            "engine": "simulated", "simulated_step_seconds": 0.02,
            "commits": {"main": [{"sha": SHA1, "message": "one", "env": {}}, {"sha": SHA2, "message": "two", "env": {}}]},
            "applications": [{"uuid": APP, "name": "contract", "fqdn": "https://contract.clawd.test", "tags": ["t"],
                              "environment_variables": {"TOKEN_VALUE": "contractENVsecret"},
                              "services": [{"name": "claudebox-web", "container": "c-web", "listen": "127.0.1.1:8080"}]}]}


@pytest.fixture(name="cf", scope="module")
def cf_fixture(start_standin):
    return start_standin(CoolifyStandIn, config())


def call(running, method, path, token=ROOT, **kwargs):
    headers = {"Authorization": "Bearer " + token} if token else {}
    return requests.request(method, running.url + "/api/v1" + path, headers=headers, timeout=TIMEOUT, **kwargs)


def finished_deployment(running):
    assert running.standin.wait_idle()
    dep_uuid = call(running, "POST", "/deploy", params={"uuid": APP}).json()["deployments"][0]["deployment_uuid"]
    deadline = time.monotonic() + 60  # a guard against a hang, not a speed the test asks for
    while call(running, "GET", "/deployments/" + dep_uuid).json()["status"] in ("queued", "in_progress"):
        assert time.monotonic() < deadline
        time.sleep(0.02)
    return dep_uuid


def env_uuid(running):
    return call(running, "GET", "/applications/%s/envs" % APP).json()[0]["uuid"]


# (method, spec path, concrete path or callable(running) -> path, request kwargs, token)
CASES = [
    ("get", "/version", "/version", {}, READ),
    ("get", "/version", "/version", {}, None),
    ("get", "/health", "/health", {}, None),
    ("post", "/deploy", "/deploy?uuid=" + APP, {}, ROOT),
    ("post", "/deploy", "/deploy?tag=t", {}, ROOT),
    ("post", "/deploy", "/deploy?uuid=%s&tag=t" % APP, {}, ROOT),
    ("post", "/deploy", "/deploy?uuid=nope", {}, ROOT),
    ("post", "/deploy", "/deploy?uuid=" + APP, {}, READ),
    ("post", "/deploy", "/deploy?uuid=" + APP, {}, None),
    ("get", "/deployments", "/deployments", {}, ROOT),
    ("get", "/deployments/{uuid}", lambda r: "/deployments/" + finished_deployment(r), {}, ROOT),
    ("get", "/deployments/{uuid}", lambda r: "/deployments/" + finished_deployment(r), {}, READ),
    ("get", "/deployments/{uuid}", "/deployments/nope", {}, ROOT),
    ("post", "/deployments/{uuid}/cancel", lambda r: "/deployments/%s/cancel" % finished_deployment(r), {}, ROOT),
    ("post", "/deployments/{uuid}/cancel", "/deployments/nope/cancel", {}, ROOT),
    ("get", "/deployments/applications/{uuid}", "/deployments/applications/" + APP, {}, ROOT),
    ("get", "/deployments/applications/{uuid}", "/deployments/applications/%s?take=0" % APP, {}, ROOT),
    ("get", "/deployments/applications/{uuid}", "/deployments/applications/nope", {}, ROOT),
    ("get", "/applications", "/applications", {}, ROOT),
    ("get", "/applications", "/applications?tag=t", {}, READ),
    ("get", "/applications", "/applications", {}, "9|wrong"),
    ("get", "/applications/{uuid}", "/applications/" + APP, {}, ROOT),
    ("get", "/applications/{uuid}", "/applications/nope", {}, ROOT),
    ("patch", "/applications/{uuid}", "/applications/" + APP, {"json": {"git_commit_sha": "HEAD"}}, ROOT),
    ("patch", "/applications/{uuid}", "/applications/" + APP, {"json": {"nope": 1}}, ROOT),
    ("patch", "/applications/{uuid}", "/applications/" + APP, {"data": "x"}, ROOT),
    ("post", "/applications/{uuid}/start", "/applications/%s/start" % APP, {}, ROOT),
    ("post", "/applications/{uuid}/restart", "/applications/%s/restart" % APP, {}, ROOT),
    ("post", "/applications/{uuid}/stop", "/applications/%s/stop" % APP, {}, ROOT),
    ("post", "/applications/{uuid}/stop", "/applications/nope/stop", {}, ROOT),
    ("get", "/applications/{uuid}/rollback-images", "/applications/%s/rollback-images" % APP, {}, ROOT),
    ("post", "/applications/{uuid}/rollback", "/applications/%s/rollback" % APP, {"json": {"commit": SHA1}}, ROOT),
    ("post", "/applications/{uuid}/rollback", "/applications/%s/rollback" % APP, {"json": {"commit": SHA1, "x": 1}}, ROOT),
    ("get", "/applications/{uuid}/envs", "/applications/%s/envs" % APP, {}, ROOT),
    ("get", "/applications/{uuid}/envs", "/applications/%s/envs" % APP, {}, READ),
    ("post", "/applications/{uuid}/envs", "/applications/%s/envs" % APP, {"json": {"key": "NEW_ONE", "value": "v"}}, ROOT),
    ("post", "/applications/{uuid}/envs", "/applications/%s/envs" % APP, {"json": {"key": "TOKEN_VALUE", "value": "v"}}, ROOT),
    ("post", "/applications/{uuid}/envs", "/applications/%s/envs" % APP, {"json": {"value": "v"}}, ROOT),
    ("patch", "/applications/{uuid}/envs", "/applications/%s/envs" % APP, {"json": {"key": "TOKEN_VALUE", "value": "w"}}, ROOT),
    ("patch", "/applications/{uuid}/envs", "/applications/%s/envs" % APP, {"json": {"key": "MISSING", "value": "w"}}, ROOT),
    ("patch", "/applications/{uuid}/envs/bulk", "/applications/%s/envs/bulk" % APP, {"json": {"data": [{"key": "B", "value": "1"}]}}, ROOT),
    ("patch", "/applications/{uuid}/envs/bulk", "/applications/%s/envs/bulk" % APP, {"json": {"data": []}}, ROOT),
    ("delete", "/applications/{uuid}/envs/{env_uuid}", lambda r: "/applications/%s/envs/%s" % (APP, env_uuid(r)), {}, ROOT),
    ("delete", "/applications/{uuid}/envs/{env_uuid}", "/applications/%s/envs/nope" % APP, {}, ROOT),
]


@pytest.mark.parametrize("method,spec_path,path,kwargs,token", CASES, ids=["%s %s #%d" % (c[0], c[1], i) for i, c in enumerate(CASES)])
def test_answer_matches_spec(cf, method, spec_path, path, kwargs, token):
    operation = SPEC["paths"][spec_path][method]
    if callable(path):
        path = path(cf)
    resp = call(cf, method.upper(), path, token=token, **kwargs)
    documented = operation["responses"]
    gap = KNOWN_SPEC_GAPS.get((method, spec_path, resp.status_code))
    if str(resp.status_code) not in documented:
        assert gap, "%s %s answered %d, not documented (%s)" % (method.upper(), path, resp.status_code, sorted(documented))
        return
    if gap:
        return
    response = resolve(documented[str(resp.status_code)])
    content = response.get("content") or {}
    if "application/json" in content:
        assert resp.headers["Content-Type"].startswith("application/json")
        schema = content["application/json"].get("schema")
        if schema:
            assert check(schema, resp.json()) == []
    elif "text/html" in content:
        assert resp.headers["Content-Type"].startswith("text/html")


def test_known_gap_deployments_per_app_shape(cf):
    """The spec says an array of Application; the real (and stand-in) answer is {count, deployments}."""
    finished_deployment(cf)
    body = call(cf, "GET", "/deployments/applications/" + APP).json()
    assert set(body) == {"count", "deployments"}
    queue_schema = {"$ref": "#/components/schemas/ApplicationDeploymentQueue"}
    assert body["count"] >= 1
    for item in body["deployments"]:
        assert check(queue_schema, item) == []


def test_deployment_has_every_documented_field(cf):
    dep = call(cf, "GET", "/deployments/" + finished_deployment(cf)).json()
    documented = set(resolve({"$ref": "#/components/schemas/ApplicationDeploymentQueue"})["properties"])
    # configuration_hash/snapshot/diff are never sent by the API (specs README).
    assert documented - {"configuration_hash", "configuration_snapshot", "configuration_diff"} <= set(dep)


def test_env_has_every_documented_field_but_hidden_ones(cf):
    envs = call(cf, "GET", "/applications/%s/envs" % APP).json()
    documented = set(resolve({"$ref": "#/components/schemas/EnvironmentVariable"})["properties"])
    hidden = {"id", "resourceable_type", "resourceable_id"}
    for env in envs:
        assert set(env) == documented - hidden


def test_application_has_the_fields_modules_use(cf):
    app = call(cf, "GET", "/applications/" + APP).json()
    documented = set(resolve({"$ref": "#/components/schemas/Application"})["properties"])
    used = {"uuid", "name", "description", "fqdn", "status", "build_pack", "git_repository", "git_branch", "git_commit_sha",
            "docker_registry_image_name", "docker_registry_image_tag", "ports_exposes", "health_check_path", "destination_id",
            "environment_id", "created_at", "updated_at", "settings"}
    assert used <= documented
    assert used <= set(app)


def test_spec_paths_cover_the_stand_in_routes():
    """Every API route of the stand-in is a documented path (or the documented-elsewhere 405 GETs)."""
    import re  # pylint: disable=import-outside-toplevel
    standin = CoolifyStandIn(config=config())
    undocumented = []
    for method, regex, _handler in standin._service_routes:  # pylint: disable=protected-access
        if regex.pattern in (r"/api/health",):
            continue
        path = regex.pattern.replace("/api/v1", "", 1)
        path = re.sub(r"\(\?P<(\w+)>\[\^/\]\+\)", r"{\1}", path)
        if path.endswith("(?:start|stop|restart)") or (method == "GET" and path == "/deploy"):
            continue  # GET -> 405: documented in the v4.1.2 spec as GET, changed to POST in v4.2 (specs README)
        if path not in SPEC["paths"] or method.lower() not in SPEC["paths"][path]:
            undocumented.append("%s %s" % (method, path))
    assert undocumented == []
