# Copyright (c) 2026, clawd.ops contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The Coolify stand-in's API tokens of a test's own: added, then revoked as an operator deletes one in Coolify's UI."""

import requests

from standins.coolify import CoolifyStandIn

ROOT = "1|rootTOKENforTOKENtests0123456789"
CONFIG = {"tokens": [{"token": ROOT, "abilities": ["root"]}], "version": "4.3.10", "engine": "simulated", "applications": []}


def get(base, token):
    return requests.get(base + "/api/v1/applications", headers={"Authorization": "Bearer " + token}, timeout=5)


def test_added_token_works_until_revoked_and_survives_a_restart(start_standin, tmp_path):
    running = start_standin(CoolifyStandIn, CONFIG, state_dir=str(tmp_path))
    base, token = running.url.rstrip("/"), "5|addedTOKENwithoutSENSITIVE0123"
    assert get(base, token).status_code == 401
    resp = requests.post(base + "/_lab/coolify/tokens", json={"token": token, "abilities": ["read", "write", "deploy"]}, timeout=5)
    assert resp.status_code == 201 and token not in resp.text
    assert get(base, token).status_code == 200
    running.stop()
    running = start_standin(CoolifyStandIn, CONFIG, state_dir=str(tmp_path))
    base = running.url.rstrip("/")
    assert get(base, token).status_code == 200 and token in running.standin.secrets()
    resp = requests.delete(base + "/_lab/coolify/tokens", json={"token": token}, timeout=5)
    assert resp.status_code == 200 and resp.json() == {"revoked": True}
    answer = get(base, token)
    assert answer.status_code == 401 and answer.json() == {"message": "Unauthenticated."}
    # Configured tokens are the lab's own: they cannot be revoked here; unknown ones are not found.
    assert requests.delete(base + "/_lab/coolify/tokens", json={"token": ROOT}, timeout=5).status_code == 409
    assert requests.delete(base + "/_lab/coolify/tokens", json={"token": token}, timeout=5).status_code == 404
    assert requests.post(base + "/_lab/coolify/tokens", json={"token": "x"}, timeout=5).status_code == 400
    assert get(base, ROOT).status_code == 200
