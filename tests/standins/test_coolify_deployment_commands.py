# Copyright (c) 2026, clawd.ops contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The Coolify stand-in runs the application's pre- and post-deployment commands as Coolify does.

Coolify (app/Traits/Deployment/HandlesDeploymentCommands.php): the pre-deployment command runs in the running container
before the new one starts, and is skipped when none runs; a failing one fails the deployment. The post-deployment command
runs in the new container; a failure is logged ("Post-deployment command failed." and its output as stderr) and the
deployment still finishes. With several containers, ``*_deployment_command_container`` names the one; none matching fails
the deployment ("Could not find a valid container"). The output is in the deployment's logs as hidden (debug) lines."""

import json

import pytest
import requests

from standins.coolify import CoolifyStandIn
from test_coolify_standin import APP, SHA1, SHA3, call, config, deploy, patch_sha, wait_status


@pytest.fixture(name="server", scope="module")
def server_fixture(start_standin):
    return start_standin(CoolifyStandIn, config())


@pytest.fixture(name="cf")
def cf_fixture(server):
    server.standin.wait_idle()
    requests.post(server.url + "/_lab/reset", timeout=10).raise_for_status()
    return server


def patch(running, **fields):
    resp = call(running, "PATCH", "/applications/" + APP, json=fields)
    assert resp.status_code == 200, resp.text


def logs(dep):
    return json.loads(dep["logs"])


def deployed(running, sha):
    patch_sha(running, sha)
    return wait_status(running, deploy(running))


def test_post_deployment_command_runs_in_the_new_container_and_logs_its_output(cf):
    patch(cf, post_deployment_command='echo "migrated to $APP_VERSION"', post_deployment_command_container="claudebox-web")
    dep = deployed(cf, SHA3)
    assert dep["status"] == "finished"
    entries = logs(dep)
    texts = [e["output"] for e in entries]
    assert "Executing post-deployment command (see debug log for output)." in texts
    command = next(e for e in entries if e["command"] and e["command"].startswith("docker exec"))
    assert command["command"] == "docker exec lab1-claudebox-web sh -c 'echo \"migrated to $APP_VERSION\"'" and command["hidden"]
    output = next(e for e in entries if e["output"] == "migrated to 3.0.0")
    assert output["hidden"] and output["type"] == "stdout"
    assert texts.index("Executing post-deployment command (see debug log for output).") > texts.index("New container started.")


def test_failing_post_deployment_command_is_logged_and_the_deployment_finishes(cf):
    patch(cf, post_deployment_command="echo schema stays at 2 >&2; exit 4", post_deployment_command_container="claudebox-web")
    dep = deployed(cf, SHA3)
    assert dep["status"] == "finished"
    entries = logs(dep)
    failed = [i for i, e in enumerate(entries) if e["output"] == "Post-deployment command failed."]
    assert failed and not entries[failed[0]]["hidden"]
    after = entries[failed[0] + 1]
    assert after["output"] == "schema stays at 2" and after["type"] == "stderr" and not after["hidden"]
    assert call(cf, "GET", "/applications/%s/rollback-images" % APP).json()["current"] == SHA3


def test_pre_deployment_command_is_skipped_without_a_running_container(cf):
    patch(cf, pre_deployment_command="exit 1", pre_deployment_command_container="claudebox-web")
    dep = deployed(cf, SHA1)
    assert dep["status"] == "finished"
    assert not any("pre-deployment" in (e["output"] or "") for e in logs(dep))


def test_failing_pre_deployment_command_fails_the_deployment_and_keeps_the_old_release(cf):
    assert deployed(cf, SHA1)["status"] == "finished"
    patch(cf, pre_deployment_command="echo cannot drain >&2; exit 3", pre_deployment_command_container="telegram-bot")
    dep = deployed(cf, SHA3)
    assert dep["status"] == "failed"
    entries = logs(dep)
    texts = [e["output"] for e in entries]
    assert "Executing pre-deployment command (see debug log for output/errors)." in texts
    assert any(e["command"] == "docker exec lab1-telegram-bot sh -c 'echo cannot drain >&2; exit 3'" for e in entries)
    assert "Pre-deployment command failed with exit code 3: cannot drain" in texts
    assert not any((t or "").startswith("Starting new container") for t in texts)
    assert call(cf, "GET", "/applications/%s/rollback-images" % APP).json()["current"] == SHA1


def test_passing_pre_deployment_command_runs_before_the_new_containers(cf):
    assert deployed(cf, SHA1)["status"] == "finished"
    patch(cf, pre_deployment_command="echo draining", pre_deployment_command_container="lab1-claude-backup")
    dep = deployed(cf, SHA3)
    assert dep["status"] == "finished"
    texts = [e["output"] for e in logs(dep)]
    assert texts.index("draining") < texts.index("Starting new container claudebox-web.")


@pytest.mark.parametrize("phase", ["pre", "post"])
def test_a_container_that_does_not_match_fails_the_deployment(cf, phase):
    assert deployed(cf, SHA1)["status"] == "finished"
    patch(cf, **{phase + "_deployment_command": "true", phase + "_deployment_command_container": "postgres"})
    dep = deployed(cf, SHA3)
    assert dep["status"] == "failed"
    assert "%s-deployment command: Could not find a valid container. Is the container name correct?" % phase.capitalize() in [
        e["output"] for e in logs(dep)]


def test_an_emptied_command_reads_back_as_null(cf):
    patch(cf, post_deployment_command="migrate", post_deployment_command_container="claudebox-web")
    assert call(cf, "GET", "/applications/" + APP).json()["post_deployment_command"] == "migrate"
    patch(cf, post_deployment_command="", post_deployment_command_container="")
    app = call(cf, "GET", "/applications/" + APP).json()
    assert app["post_deployment_command"] is None and app["post_deployment_command_container"] is None
    assert deployed(cf, SHA3)["status"] == "finished"
