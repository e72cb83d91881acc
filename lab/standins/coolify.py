# Copyright (c) 2026, clawd.ops contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Stand-in for the Coolify v4 API (see /work/shared/specs/README.md, section 1).

Configuration::

    {"tokens": [{"token": "1|abc", "abilities": ["root"]}], "version": "4.3.10", "api_enabled": true,
     "applications": [<app spec>, ...], "applications_glob": "/path/.lab/hosts/*/coolify-app.json",
     "engine": "docker" | "simulated", "health_timeout": 60, "candidate_port_offset": 10000,
     "simulated_step_seconds": 0.2, "commits": {"main": [{"sha": "<40 hex>", "message": "...", "env": {...}}]}}

An app spec is ``{"uuid", "name", "fqdn", "server_name", "git_repository", "git_branch", "base_image",
"environment_variables": {...}, "services": [{"name", "container", "listen", "env", "labels", "mounts",
"etc_hosts"}], "tags": [...]}``; ``applications_glob`` is read again whenever an app route is used.

Lab endpoint: ``POST /_lab/coolify/slow_deployments`` ``{"application": "<app uuid>", "seconds": 30, "count": 1}``
makes the next ``count`` deployments of that application stay ``in_progress`` for ``seconds`` before the engine
starts them (a cancel ends the wait at once: the engine never runs, the running release is untouched), as a
Coolify slower than a caller's wait; ``GET`` lists what is pending, ``DELETE`` forgets it. Per application, so
that callers sharing one stand-in do not slow each other down; ``POST /_lab/reset`` forgets it too.

Lab endpoint: ``POST /_lab/coolify/tokens`` ``{"token": "<id>|<secret>", "abilities": [...]}`` adds an API token
of a test's own (Coolify makes tokens only in its UI); ``DELETE`` with ``{"token"}`` revokes it as an operator
deleting it in the UI does (401 Unauthenticated. from then on). Configured tokens cannot be revoked (409).
Added tokens are kept in the state.

Abilities work as in Coolify's ApiAbility middleware: ``root`` grants everything, otherwise the
route's ability must be listed exactly. Deployments run one at a time per application in
background threads, through an engine of ``coolify_engine`` (real containers or simulated).
"""

import glob
import hashlib
import os
import hmac
import json
import re
import secrets
import string
import sys
import threading
import time

from .coolify_engine import CANCELLED, FAILED, FINISHED, CommitError, CommitSource, JobContext, make_engine, now_iso
from .framework import Response, StandIn, json_response, route

NOT_FOUND = {"message": "Not found.", "docs": "https://coolify.io/docs"}
UNAUTHENTICATED = {"message": "Unauthenticated."}
QUEUE_FULL = "Deployment queue is full. Please wait for existing deployments to complete."
CHANGED_TO_POST = {"message": "This endpoint has changed to a POST request."}
QUEUED = "queued"
IN_PROGRESS = "in_progress"
ACTIVE = (QUEUED, IN_PROGRESS)
UUID_ALPHABET = string.ascii_lowercase + string.digits
COMMIT_RE = re.compile(r"^[a-zA-Z0-9][a-zA-Z0-9._\-/]*$")
APP = r"/api/v1/applications/(?P<uuid>[^/]+)"
# Secret values shorter than this are not masked in the request log (they would mask "true").
MIN_MASKED_LENGTH = 8

# PATCH /applications/{uuid}: the keys Coolify allows (its $allowedFields, as in the OpenAPI spec).
PATCH_ALLOWED = frozenset((
    "base_directory", "build_command", "build_pack", "connect_to_docker_network", "custom_docker_run_options",
    "custom_internal_name", "custom_labels", "description", "destination_uuid", "disable_build_cache",
    "docker_compose_custom_build_command", "docker_compose_custom_start_command", "docker_compose_domains",
    "docker_compose_location", "docker_images_to_keep", "docker_registry_image_name", "docker_registry_image_tag",
    "dockerfile", "dockerfile_location", "domains", "environment_name", "force_domain_override", "git_branch",
    "git_commit_sha", "git_repository", "github_app_uuid", "gpu_count", "gpu_device_ids", "gpu_driver", "gpu_options",
    "health_check_enabled", "health_check_host", "health_check_interval", "health_check_method", "health_check_path",
    "health_check_port", "health_check_response_text", "health_check_retries", "health_check_return_code",
    "health_check_scheme", "health_check_start_period", "health_check_timeout", "include_source_commit_in_build",
    "inject_build_args_to_dockerfile", "install_command", "instant_deploy", "is_auto_deploy_enabled",
    "is_consistent_container_name_enabled", "is_container_label_escape_enabled", "is_env_sorting_enabled",
    "is_force_https_enabled", "is_git_lfs_enabled", "is_git_shallow_clone_enabled", "is_git_submodules_enabled",
    "is_gpu_enabled", "is_gzip_enabled", "is_log_drain_enabled", "is_pr_deployments_public_enabled",
    "is_preserve_repository_enabled", "is_preview_deployments_enabled", "is_raw_compose_deployment_enabled", "is_spa",
    "is_static", "is_stripprefix_enabled", "limits_cpu_shares", "limits_cpus", "limits_cpuset", "limits_memory",
    "limits_memory_reservation", "limits_memory_swap", "limits_memory_swappiness", "manual_webhook_secret_bitbucket",
    "manual_webhook_secret_gitea", "manual_webhook_secret_github", "manual_webhook_secret_gitlab", "max_restart_count",
    "name", "noindex_domains", "ports_exposes", "ports_mappings", "post_deployment_command",
    "post_deployment_command_container", "pre_deployment_command", "pre_deployment_command_container",
    "preview_url_template", "project_uuid", "publish_directory", "redirect", "server_uuid", "start_command",
    "stop_grace_period", "use_build_secrets", "use_build_server", "watch_paths",
))
PATCH_BOOLEANS = frozenset(k for k in PATCH_ALLOWED if k.startswith("is_") or k in (
    "instant_deploy", "health_check_enabled", "force_domain_override", "connect_to_docker_network", "disable_build_cache",
    "include_source_commit_in_build", "inject_build_args_to_dockerfile", "use_build_secrets", "use_build_server"))
# POST /applications/public: the keys Coolify allows (the OpenAPI spec's request body).
PUBLIC_ALLOWED = (PATCH_ALLOWED - {"github_app_uuid"}) | frozenset((
    "project_uuid", "server_uuid", "environment_name", "environment_uuid", "autogenerate_domain", "tags",
    "is_http_basic_auth_enabled", "http_basic_auth_username", "http_basic_auth_password", "static_image",
    "health_check_enabled"))
PUBLIC_STRINGS = frozenset(("name", "description", "domains", "git_repository", "git_branch", "ports_exposes", "health_check_path",
                            "pre_deployment_command", "post_deployment_command", "pre_deployment_command_container",
                            "post_deployment_command_container", "git_commit_sha"))
BUILD_PACKS = ("nixpacks", "static", "dockerfile", "dockercompose")
PORTS_RE = re.compile(r"^(\d+)(,\d+)*$")
ENV_ALLOWED = frozenset(("key", "value", "is_preview", "is_literal", "is_multiline", "is_shown_once", "is_runtime",
                         "is_buildtime", "comment"))
ENV_BOOLEANS = ("is_preview", "is_literal", "is_multiline", "is_shown_once", "is_runtime", "is_buildtime")
SETTINGS_DEFAULTS = {
    "is_static": False, "is_git_submodules_enabled": True, "is_git_lfs_enabled": True, "is_auto_deploy_enabled": True,
    "is_force_https_enabled": True, "is_debug_enabled": False, "is_preview_deployments_enabled": False,
    "is_log_drain_enabled": False, "is_gpu_enabled": False, "is_consistent_container_name_enabled": False,
    "is_gzip_enabled": True, "is_stripprefix_enabled": True, "is_raw_compose_deployment_enabled": False,
    "is_build_server_enabled": False, "is_container_label_escape_enabled": True, "is_env_sorting_enabled": False,
    "is_git_shallow_clone_enabled": True, "is_pr_deployments_public_enabled": False, "is_spa": False,
    "is_preserve_repository_enabled": False, "is_include_timestamps": False, "connect_to_docker_network": False,
    "disable_build_cache": False, "include_source_commit_in_build": False, "inject_build_args_to_dockerfile": True,
    "use_build_secrets": False, "docker_images_to_keep": 2, "stop_grace_period": None,
}


def laravel_text(text, status=200):
    """Laravel answers a plain string with text/html."""
    return Response(status, text, content_type="text/html; charset=UTF-8")


def new_uuid():
    """A Coolify-like cuid2: 24 lowercase alphanumerics."""
    return "".join(secrets.choice(UUID_ALPHABET) for _position in range(24))


def message(text, status):
    """``{"message": text}`` with ``status``."""
    return json_response({"message": text}, status)


def validation_failed(errors, text="Validation failed."):
    """Coolify's 422 for its own checks: ``{"message": "Validation failed.", "errors": {key: [..]}}``."""
    return json_response({"message": text, "errors": errors}, 422)


def laravel_validation(errors):
    """Laravel's validator 422: the message is the first error (+ how many more)."""
    messages = [m for ms in errors.values() for m in ms]
    text = messages[0]
    if len(messages) > 1:
        extra = len(messages) - 1
        text += " (and %d more error%s)" % (extra, "" if extra == 1 else "s")
    return json_response({"message": text, "errors": errors}, 422)


def truthy(value):
    """Query/JSON booleans: true, "true", "1", 1, "on", "yes"."""
    if isinstance(value, bool):
        return value
    return str(value).strip().lower() in ("1", "true", "on", "yes")


def is_bool_like(value):
    """Laravel's boolean rule: true, false, 0, 1, "0", "1"."""
    return isinstance(value, bool) or value in (0, 1, "0", "1")


def incoming_json(request):
    """Coolify's validateIncomingRequest(): (data, None) or (None, the 400 Response)."""
    ctype = request.content_type
    if not (ctype.endswith("/json") or ctype.endswith("+json")):
        return None, json_response({"message": "Invalid request.", "error": "Content-Type must be application/json."}, 400)
    try:
        data = json.loads(request.body.decode("utf-8")) if request.body.strip() else None
    except ValueError:
        data = None
    if data == {}:
        return None, json_response({"message": "Invalid request.", "error": "Empty JSON."}, 400)
    if not data or not isinstance(data, dict):
        return None, json_response({"message": "Invalid request.", "error": "Invalid JSON."}, 400)
    return data, None


def _read_specs(inline, pattern, kind):
    """uuid -> spec, from the configuration's inline list and the JSON files of a glob (a bad file is skipped, said)."""
    specs = {}
    for spec in inline:
        specs[spec["uuid"]] = spec
    for path in sorted(glob.glob(pattern)) if pattern else ():
        try:
            with open(path, encoding="utf-8") as handle:
                spec = json.load(handle)
            specs[spec["uuid"]] = spec
        except (OSError, ValueError, KeyError, TypeError) as exc:
            print("coolify: skipping %s spec %s: %s" % (kind, path, exc), file=sys.stderr)
    return specs


def stable_id(text):
    """A small positive integer id derived from a uuid (stable across restarts)."""
    return int(hashlib.sha256(text.encode("utf-8")).hexdigest()[:6], 16)


class _Context(JobContext):
    """The engine's view of one deployment record."""

    def __init__(self, standin, deployment_uuid):
        self.standin = standin
        self.uuid = deployment_uuid

    def log(self, output, kind="stdout", command=None, hidden=False):
        self.standin.append_log(self.uuid, output, kind, command, hidden)

    def cancelled(self):
        with self.standin.lock:
            dep = self.standin.deployments.get(self.uuid)
            return dep is None or dep["status"] == CANCELLED


class CoolifyStandIn(StandIn):
    """Coolify: Sanctum Bearer tokens with abilities, Laravel JSON errors, a deploy queue with an engine."""

    name = "coolify"

    def configure(self, config):
        self.tokens = {}
        for item in config.get("tokens", ()):
            self.tokens[str(item["token"])] = list(item.get("abilities", ["root"]))
        self.version = str(config.get("version", "4.3.10"))
        self.api_enabled = bool(config.get("api_enabled", True))
        # Coolify's server setting "concurrent builds" (default 2): more deployments wait queued.
        self.concurrent_builds = max(1, int(config.get("concurrent_builds", 2)))
        self.inline_apps = list(config.get("applications") or ())
        self.apps_glob = config.get("applications_glob")
        # Servers an application can be created on (POST /applications/public): inline, and one
        # coolify-server.json per lab host next to its coolify-app.json. A server spec is
        # {"uuid", "name", "ip", "application": {"base_image", "services": [...]}}: what a new
        # application on that server runs (its containers, volumes and listen addresses).
        self.inline_servers = list(config.get("servers") or ())
        self.servers_glob = config.get("servers_glob") or (
            os.path.join(os.path.dirname(self.apps_glob), "coolify-server.json") if self.apps_glob else None)
        self.engine = make_engine(config)
        self.commits = CommitSource(config.get("commits"))
        self._running = {}

    def secrets(self):
        values = set(self.tokens) | set(getattr(self, "lab_tokens", {}))
        with self.lock:
            for spec in self._specs().values():
                values.update(str(v) for v in (spec.get("environment_variables") or {}).values())
            for state in self.app_state.values():
                values.update(str(e["value"]) for e in state["envs"])
        return tuple(v for v in values if v and len(v) >= MIN_MASKED_LENGTH)

    # ------------------------------------------------------------------ state

    def reset_state(self):
        self.lab_tokens = {}
        self.deployments = {}
        self.next_id = 1
        self.app_state = {}
        self.slow_deployments = {}
        self.projects = {}
        self.created_apps = {}
        self.engine.reset()

    def export_state(self):
        return {"lab_tokens": self.lab_tokens, "deployments": list(self.deployments.values()), "next_id": self.next_id,
                "app_state": self.app_state, "engine": self.engine.export_state(),
                "projects": self.projects, "created_apps": self.created_apps}

    def import_state(self, data):
        self.lab_tokens = dict(data.get("lab_tokens") or {})
        self.deployments = {d["deployment_uuid"]: d for d in data.get("deployments", [])}
        self.next_id = int(data.get("next_id", 1))
        self.app_state = dict(data.get("app_state") or {})
        self.projects = dict(data.get("projects") or {})
        self.created_apps = dict(data.get("created_apps") or {})
        self.engine.import_state(data.get("engine"))
        for dep in self.deployments.values():
            if dep["status"] == IN_PROGRESS:
                dep["_logs"].append(self._log_entry(dep, "Deployment failed: the Coolify stand-in stopped while it was in progress.",
                                                    "stderr", None, False))
                self._finish(dep, FAILED)
        for app_uuid in sorted({d["app_uuid"] for d in self.deployments.values() if d["status"] == QUEUED}):
            self._kick(app_uuid)

    # ------------------------------------------------------------------ auth

    def _abilities(self, request):
        token = request.bearer_token()
        if token is None:
            return None
        for known, granted in list(self.tokens.items()) + list(getattr(self, "lab_tokens", {}).items()):
            if hmac.compare_digest(known.encode("utf-8"), token.encode("utf-8")):
                return granted
        return None

    def authorize(self, request, ability):
        """None if the request's token may use ``ability``, else the error Response to send."""
        abilities = self._abilities(request)
        if abilities is None:
            return json_response(UNAUTHENTICATED, 401)
        if not self.api_enabled:
            return json_response({"success": True, "message": "API is disabled."}, 403)
        if "root" not in abilities and ability not in abilities:
            return json_response({"message": "Missing required permissions: %s" % ability}, 403)
        return None

    def can_read_sensitive(self, request):
        """ApiSensitiveData: root or read:sensitive."""
        abilities = self._abilities(request) or ()
        return "root" in abilities or "read:sensitive" in abilities

    # ------------------------------------------------------------------ error shapes

    def not_found(self, request):
        # Coolify ends routes/api.php with Route::any('/{any}') answering this.
        return json_response(NOT_FOUND, 404)

    def method_not_allowed(self, request, allowed):
        # That catch-all route accepts every method, so a known path with the wrong method
        # lands on it too: Coolify answers 404, not 405.
        return json_response(NOT_FOUND, 404)

    def rate_limited(self, retry_after):
        return json_response({"message": QUEUE_FULL}, 429, {"Retry-After": str(retry_after)})

    def server_error(self, status):
        return json_response({"message": "Server Error"}, status)

    # ------------------------------------------------------------------ applications

    def _specs(self):
        """uuid -> app spec, from the configuration and the glob (read again on every call)."""
        specs = _read_specs(self.inline_apps, self.apps_glob, "app")
        specs.update(self.created_apps)
        return specs

    def _state(self, spec):
        """Mutable state of an app (PATCHed fields, env vars), made from its spec on first use."""
        state = self.app_state.get(spec["uuid"])
        if state is None:
            stamp = now_iso()
            envs = [self._new_env(key, value, stamp) for key, value in (spec.get("environment_variables") or {}).items()]
            state = {"overrides": {}, "envs": envs, "created_at": stamp, "updated_at": stamp}
            self.app_state[spec["uuid"]] = state
        return state

    def _app(self, uuid):
        """The effective app spec (spec + PATCHed fields), or None."""
        spec = self._specs().get(uuid)
        if spec is None:
            return None
        app = dict(spec)
        app.setdefault("git_branch", "main")
        app["git_commit_sha"] = "HEAD"
        app.update(self._state(spec)["overrides"])
        return app

    def _app_env(self, app):
        return {e["key"]: e["value"] for e in self._state(app)["envs"] if not e["is_preview"]}

    def _app_json(self, app):
        state = self._state(app)
        listen = next((s.get("listen") for s in app.get("services") or () if s.get("listen")), None)
        settings = dict(SETTINGS_DEFAULTS)
        settings.update({k: v for k, v in state["overrides"].items() if k in SETTINGS_DEFAULTS})
        settings.update({"id": stable_id(app["uuid"]), "application_id": stable_id(app["uuid"])})
        data = {
            "id": stable_id(app["uuid"]), "uuid": app["uuid"], "name": app.get("name", app["uuid"]),
            "description": app.get("description"), "fqdn": app.get("fqdn"), "config_hash": hashlib.md5(
                json.dumps(app, sort_keys=True).encode("utf-8")).hexdigest(),  # nosec - a fingerprint, as Coolify's
            "git_repository": app.get("git_repository"), "git_branch": app.get("git_branch"),
            "git_commit_sha": app.get("git_commit_sha", "HEAD"), "git_full_url": None,
            "docker_registry_image_name": app.get("docker_registry_image_name"),
            "docker_registry_image_tag": app.get("docker_registry_image_tag"), "build_pack": app.get("build_pack", "dockerfile"),
            "static_image": "nginx:alpine", "install_command": None, "build_command": None, "start_command": None,
            "ports_exposes": listen.rpartition(":")[2] if listen else "80", "ports_mappings": None, "base_directory": "/",
            "publish_directory": None, "health_check_enabled": True, "health_check_path": "/health", "health_check_port": None,
            "health_check_host": "localhost", "health_check_method": "GET", "health_check_return_code": 200,
            "health_check_scheme": "http", "health_check_response_text": None, "health_check_interval": 5,
            "health_check_timeout": 5, "health_check_retries": 10, "health_check_start_period": 5,
            "limits_memory": "0", "limits_memory_swap": "0", "limits_memory_swappiness": 60, "limits_memory_reservation": "0",
            "limits_cpus": "0", "limits_cpuset": None, "limits_cpu_shares": 1024, "status": self.engine.status(app),
            "preview_url_template": "{{pr_id}}.{{domain}}", "max_restart_count": 10,
            "destination_type": "App\\Models\\StandaloneDocker", "destination_id": 0, "source_id": 0, "private_key_id": None,
            "environment_id": app.get("environment_id", 1), "dockerfile": None,
            "pre_deployment_command": None, "pre_deployment_command_container": None, "post_deployment_command": None,
            "post_deployment_command_container": None, "dockerfile_location": "/Dockerfile", "custom_labels": None,
            "redirect": "both", "created_at": state["created_at"], "updated_at": state["updated_at"], "deleted_at": None,
            "server_status": True, "settings": settings,
        }
        for key, value in state["overrides"].items():
            if key in data and key not in ("settings", "status"):
                data[key] = value
        if "domains" in state["overrides"]:
            data["fqdn"] = state["overrides"]["domains"]
        return data

    def _find_app(self, request):
        """(app, None) or (None, 404 Response)."""
        app = self._app(request.args["uuid"])
        if app is None:
            return None, message("Application not found.", 404)
        return app, None

    # ------------------------------------------------------------------ deployments

    def _dep_json(self, dep, sensitive):
        data = {k: v for k, v in dep.items() if not k.startswith("_") and k != "app_uuid"}
        if sensitive:
            data["logs"] = json.dumps(dep["_logs"])
        return data

    def _log_entry(self, dep, output, kind, command, hidden):
        if command is not None:
            dep["_batch"] = dep.get("_batch", 0) + 1
        return {"command": command, "output": self.mask(output) if output else output, "type": kind, "hidden": bool(hidden),
                "batch": dep.get("_batch", 1) or 1, "order": len(dep["_logs"]) + 1, "timestamp": now_iso()}

    def append_log(self, deployment_uuid, output, kind="stdout", command=None, hidden=False):
        """Add a line to a deployment's logs (from engine threads)."""
        with self.lock:
            dep = self.deployments.get(deployment_uuid)
            if dep is not None:
                dep["_logs"].append(self._log_entry(dep, output, kind, command, hidden))
                dep["updated_at"] = now_iso()

    def _queue(self, app, force=False, rollback=False, commit=None, restart_only=False, dedupe=True):
        """(deployment record, None) or (None, "Deployment already queued for this commit.")."""
        commit = commit or app.get("git_commit_sha") or "HEAD"
        if dedupe:
            for dep in self.deployments.values():
                if (dep["app_uuid"] == app["uuid"] and dep["status"] == QUEUED and dep["commit"] == commit
                        and dep["rollback"] == rollback and dep["restart_only"] == restart_only):
                    return None, "Deployment already queued for this commit."
        uuid = new_uuid()
        stamp = now_iso()
        dep = {
            "id": self.next_id, "application_id": str(stable_id(app["uuid"])), "deployment_uuid": uuid, "pull_request_id": 0,
            "docker_registry_image_tag": None, "force_rebuild": bool(force), "commit": commit, "status": QUEUED,
            "is_webhook": False, "is_api": True, "restart_only": bool(restart_only), "git_type": None, "server_id": 0,
            "application_name": app.get("name", app["uuid"]), "server_name": app.get("server_name", "localhost"),
            "deployment_url": "/project/lab/environment/production/application/%s/deployment/%s" % (app["uuid"], uuid),
            "destination_id": "0", "only_this_server": False, "rollback": bool(rollback), "commit_message": None,
            "current_process_id": None, "created_at": stamp, "updated_at": stamp, "finished_at": None,
            "app_uuid": app["uuid"], "_logs": [],
        }
        self.next_id += 1
        self.deployments[uuid] = dep
        self._kick(app["uuid"])
        return dep, None

    def _kick(self, app_uuid=None):
        """Start queued deployments, oldest first: one at a time per app, concurrent_builds in all. Lock held.

        ``app_uuid`` (the app whose queue changed) is not needed: every app's queue is looked at.
        """
        del app_uuid
        queued = sorted((d for d in self.deployments.values() if d["status"] == QUEUED), key=lambda d: d["id"])
        for dep in queued:
            if len(self._running) >= self.concurrent_builds:
                return
            if dep["app_uuid"] in self._running:
                continue
            dep["status"] = IN_PROGRESS
            dep["updated_at"] = now_iso()
            dep["current_process_id"] = str(threading.get_ident())
            self._running[dep["app_uuid"]] = dep["deployment_uuid"]
            thread = threading.Thread(target=self._work, args=(dep["deployment_uuid"],), name="coolify-deploy-" + dep["deployment_uuid"],
                                      daemon=True)
            thread.start()

    def _finish(self, dep, status):
        dep["status"] = status
        dep["finished_at"] = dep["updated_at"] = now_iso()
        dep["current_process_id"] = None

    def _work(self, deployment_uuid):
        """Run one deployment (engine thread; the lock is held only to read and write records)."""
        ctx = _Context(self, deployment_uuid)
        result = FAILED
        with self.lock:
            dep = self.deployments.get(deployment_uuid)
            app_uuid = dep["app_uuid"] if dep else None
            app = self._app(app_uuid) if dep else None
            job = dict(deployment_uuid=deployment_uuid, force_rebuild=dep["force_rebuild"] if dep else False,
                       rollback=dep["rollback"] if dep else False, app_env=self._app_env(app) if app else {},
                       ref=dep["commit"] if dep else "HEAD", restart_only=dep["restart_only"] if dep else False)
        try:
            if dep is None:
                return
            if app is None:
                ctx.log("Application %s not found." % app_uuid, kind="stderr")
            elif not self._slow_wait(app_uuid, ctx):
                result = CANCELLED
            elif job["restart_only"]:
                ctx.log("Restarting application %s." % app.get("name"))
                result = self.engine.restart(app, job, ctx)
            else:
                ctx.log("Starting deployment of %s (branch %s, commit %s)." % (app.get("name"), app.get("git_branch"), job["ref"]))
                try:
                    job["commit"] = self.commits.resolve(app, job["ref"])
                except CommitError as exc:
                    ctx.log("Failed to resolve commit %s: %s" % (job["ref"], exc), kind="stderr")
                else:
                    with self.lock:
                        dep["commit"] = job["commit"]["sha"]
                        dep["commit_message"] = job["commit"]["message"]
                    ctx.log("Deploying commit %s: %s" % (job["commit"]["sha"], job["commit"]["message"]))
                    result = self.engine.deploy(app, job, ctx)
        except Exception as exc:  # pylint: disable=broad-exception-caught
            ctx.log("Deployment failed: %s: %s" % (type(exc).__name__, exc), kind="stderr")
            result = FAILED
        finally:
            with self.lock:
                current = self.deployments.get(deployment_uuid)
                if current is not None and current["status"] == IN_PROGRESS:
                    self._finish(current, result if result in (FINISHED, FAILED) else FAILED)
                    current["_logs"].append(self._log_entry(current, "Deployment %s." % current["status"], "stdout", None, False))
                if app_uuid is not None and self._running.get(app_uuid) == deployment_uuid:
                    del self._running[app_uuid]
                self._save_state()
                if app_uuid is not None:
                    self._kick(app_uuid)

    def _slow_wait(self, app_uuid, ctx):
        """Hold a deployment in_progress as ``/_lab/coolify/slow_deployments`` asked; False once it is cancelled."""
        with self.lock:
            pending = self.slow_deployments.get(app_uuid) or []
            seconds = pending.pop(0) if pending else 0
            if not pending:
                self.slow_deployments.pop(app_uuid, None)
        if not seconds:
            return True
        ctx.log("Waiting for a build server (%g s)." % seconds)
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if ctx.cancelled():
                ctx.log("Deployment cancelled while it waited; the old containers keep running.", kind="stderr")
                return False
            time.sleep(min(0.05, max(deadline - time.monotonic(), 0)))
        return not ctx.cancelled()

    def wait_idle(self, timeout=30.0):
        """For tests: wait until no deployment runs or waits; True if idle in time."""
        deadline = time.monotonic() + timeout
        while True:
            with self.lock:
                if not self._running and not any(d["status"] in ACTIVE for d in self.deployments.values()):
                    return True
            if time.monotonic() > deadline:
                return False
            time.sleep(0.05)

    # ------------------------------------------------------------------ API: basics

    @route("GET", r"/api/health")
    @route("GET", r"/api/v1/health")
    def health(self, _request):
        """Health check, no auth."""
        return laravel_text("OK")

    @route("GET", r"/api/v1/version")
    def get_version(self, request):
        """Coolify version as plain text (no leading v)."""
        return self.authorize(request, "read") or laravel_text(self.version)

    @route("GET", r"/api/v1/deploy")
    @route("GET", APP + r"/(?:start|stop|restart)")
    def changed_to_post(self, _request):
        """v4.2+: these were GET routes once; now 405 with Allow: POST."""
        return json_response(CHANGED_TO_POST, 405, {"Allow": "POST"})

    # ------------------------------------------------------------------ API: deploy

    @route("POST", r"/api/v1/deploy")
    def deploy(self, request):
        """Deploy by uuid(s) or tag(s), query string or JSON body."""
        denied = self.authorize(request, "deploy")
        if denied:
            return denied
        try:
            params = request.params()
        except ValueError:
            params = dict(request.query)
        uuids, tags = params.get("uuid"), params.get("tag")
        force = truthy(params.get("force", False))
        if uuids and tags:
            return message("You can only use uuid or tag, not both.", 400)
        if tags and (params.get("pr") or params.get("pull_request_id")):
            return message("You can only use tag or pr, not both.", 400)
        if tags:
            return self._deploy_tags(str(tags), force)
        if uuids:
            return self._deploy_uuids(str(uuids), force)
        return message("You must provide uuid or tag.", 400)

    def _deploy_uuids(self, text, force):
        wanted = [u for u in text.split(",") if u]
        if not wanted:
            return message("No UUIDs provided.", 400)
        deployments = []
        for uuid in wanted:
            app = self._app(uuid)
            if app is None:
                continue
            dep, skipped = self._queue(app, force=force)
            if dep is None:
                deployments.append({"message": skipped, "resource_uuid": uuid})
            else:
                deployments.append({"message": "Application %s deployment queued." % dep["application_name"], "resource_uuid": uuid,
                                    "deployment_uuid": dep["deployment_uuid"]})
        if not deployments:
            return message("No resources found.", 404)
        return json_response({"deployments": deployments})

    def _deploy_tags(self, text, force):
        wanted = [t for t in text.split(",") if t]
        if not wanted:
            return message("No TAGs provided.", 400)
        messages, details = [], []
        specs = self._specs()
        for tag in wanted:
            apps = [self._app(u) for u, s in specs.items() if tag in (s.get("tags") or ())]
            if not apps:
                continue
            for app in apps:
                dep, skipped = self._queue(app, force=force)
                if dep is None:
                    messages.append(skipped)
                else:
                    messages.append("Application %s deployment queued." % dep["application_name"])
                    details.append({"resource_uuid": app["uuid"], "deployment_uuid": dep["deployment_uuid"]})
        if not messages:
            return message("No resources found with this tag.", 404)
        body = {"message": messages}
        if details:
            body["details"] = details
        return json_response(body)

    @route("GET", r"/api/v1/deployments")
    def list_deployments(self, request):
        """Running and queued deployments only, oldest first."""
        denied = self.authorize(request, "read")
        if denied:
            return denied
        sensitive = self.can_read_sensitive(request)
        active = sorted((d for d in self.deployments.values() if d["status"] in ACTIVE), key=lambda d: d["id"])
        return json_response([self._dep_json(d, sensitive) for d in active])

    @route("GET", r"/api/v1/deployments/(?P<uuid>[^/]+)")
    def get_deployment(self, request):
        """One deployment by uuid."""
        denied = self.authorize(request, "read")
        if denied:
            return denied
        dep = self.deployments.get(request.args["uuid"])
        if dep is None:
            return message("Deployment not found.", 404)
        return json_response(self._dep_json(dep, self.can_read_sensitive(request)))

    @route("GET", r"/api/v1/deployments/applications/(?P<uuid>[^/]+)")
    def app_deployments(self, request):
        """``{"count": N, "deployments": [...]}`` newest first, with skip/take."""
        denied = self.authorize(request, "read")
        if denied:
            return denied
        errors = {}
        values = {}
        for key, default, minimum in (("skip", 0, 0), ("take", 10, 1)):
            raw = request.query.get(key, "")
            if raw == "":
                values[key] = default
                continue
            if not re.match(r"^-?[0-9]+$", raw.strip()):
                errors[key] = ["The %s field must be an integer." % key]
            elif int(raw) < minimum:
                errors[key] = ["The %s field must be at least %d." % (key, minimum)]
            else:
                values[key] = int(raw)
        if errors:
            return laravel_validation(errors)
        app, missing = self._find_app(request)
        if missing:
            return missing
        sensitive = self.can_read_sensitive(request)
        deps = sorted((d for d in self.deployments.values() if d["app_uuid"] == app["uuid"]), key=lambda d: d["id"], reverse=True)
        page = deps[values["skip"]:values["skip"] + values["take"]]
        return json_response({"count": len(deps), "deployments": [self._dep_json(d, sensitive) for d in page]})

    @route("POST", r"/api/v1/deployments/(?P<uuid>[^/]+)/cancel")
    def cancel_deployment(self, request):
        """Cancel a queued or running deployment."""
        denied = self.authorize(request, "deploy")
        if denied:
            return denied
        dep = self.deployments.get(request.args["uuid"])
        if dep is None:
            return message("Deployment not found.", 404)
        if dep["status"] not in ACTIVE:
            return message("Deployment cannot be cancelled. Current status: %s" % dep["status"], 400)
        dep["_logs"].append(self._log_entry(dep, "Deployment cancelled by user.", "stderr", None, False))
        self._finish(dep, CANCELLED)
        return json_response({"message": "Deployment cancelled successfully.", "deployment_uuid": dep["deployment_uuid"],
                              "status": CANCELLED})

    # ------------------------------------------------------------------ lab

    @route("POST", r"/_lab/coolify/tokens")
    def lab_add_token(self, request):
        """Add an API token of a test's own: {token, abilities}."""
        data = _lab_object(request)
        token, abilities = data.get("token"), data.get("abilities", ["root"])
        if not isinstance(token, str) or "|" not in token or not isinstance(abilities, list) or not abilities:
            return json_response({"error": "give token (<id>|<secret>) and abilities (a list)"}, 400)
        with self.lock:
            self.lab_tokens[token] = [str(a) for a in abilities]
        return json_response({"added": True, "abilities": self.lab_tokens[token]}, 201)

    @route("DELETE", r"/_lab/coolify/tokens")
    def lab_revoke_token(self, request):
        """Revoke an added token, as deleting it in Coolify's UI does."""
        token = _lab_object(request).get("token")
        with self.lock:
            if token in self.tokens:
                return json_response({"error": "a configured token of the lab cannot be revoked"}, 409)
            if self.lab_tokens.pop(token, None) is None:
                return json_response({"error": "no such token"}, 404)
        return json_response({"revoked": True})

    @route("POST", r"/_lab/coolify/slow_deployments")
    def lab_slow_deployments(self, request):
        """The next ``count`` deployments of ``application`` wait ``seconds`` in_progress before the engine runs."""
        try:
            data = request.json()
        except ValueError:
            data = None
        if not isinstance(data, dict):
            return json_response({"error": "a JSON object is required: {application, seconds, count}"}, 400)
        unknown = sorted(set(data) - {"application", "seconds", "count"})
        app_uuid, seconds, count = data.get("application"), data.get("seconds"), data.get("count", 1)
        if unknown:
            problem = "unknown field(s): %s" % ", ".join(unknown)
        elif not isinstance(app_uuid, str) or not app_uuid:
            problem = "application must be an application uuid"
        elif isinstance(seconds, bool) or not isinstance(seconds, (int, float)) or not 0 < seconds <= 3600:
            problem = "seconds must be a number more than 0 and at most 3600"
        elif isinstance(count, bool) or not isinstance(count, int) or not 0 < count <= 100:
            problem = "count must be a whole number from 1 to 100"
        else:
            problem = None
        if problem:
            return json_response({"error": problem}, 400)
        with self.lock:
            self.slow_deployments.setdefault(app_uuid, []).extend([float(seconds)] * count)
            return json_response({"application": app_uuid, "pending": list(self.slow_deployments[app_uuid])})

    @route("GET", r"/_lab/coolify/slow_deployments")
    def lab_list_slow_deployments(self, _request):
        """The slow deployments still to come, by application uuid."""
        with self.lock:
            return json_response({k: list(v) for k, v in self.slow_deployments.items()})

    @route("DELETE", r"/_lab/coolify/slow_deployments")
    def lab_clear_slow_deployments(self, _request):
        """Forget the slow deployments still to come."""
        with self.lock:
            count = sum(len(v) for v in self.slow_deployments.values())
            self.slow_deployments = {}
        return json_response({"cleared": count})

    # ------------------------------------------------------------------ API: applications

    @route("GET", r"/api/v1/applications")
    def list_applications(self, request):
        """All applications, or those with ``tag``."""
        denied = self.authorize(request, "read")
        if denied:
            return denied
        tag = request.query.get("tag")
        apps = []
        for uuid, spec in self._specs().items():
            if tag and tag not in (spec.get("tags") or ()):
                continue
            apps.append(self._app_json(self._app(uuid)))
        return json_response(apps)

    @route("GET", APP)
    def get_application(self, request):
        """One application."""
        denied = self.authorize(request, "read")
        if denied:
            return denied
        app, missing = self._find_app(request)
        return missing or json_response(self._app_json(app))

    @route("PATCH", APP)
    def patch_application(self, request):
        """Update whitelisted fields; ``instant_deploy`` queues a deployment."""
        denied = self.authorize(request, "write")
        if denied:
            return denied
        app, missing = self._find_app(request)
        if missing:
            return missing
        data, bad = incoming_json(request)
        if bad:
            return bad
        errors = {k: ["This field is not allowed."] for k in data if k not in PATCH_ALLOWED}
        if errors:
            return validation_failed(errors)
        for key, value in data.items():
            if key in PATCH_BOOLEANS and not is_bool_like(value):
                errors[key] = ["The %s field must be true or false." % key.replace("_", " ")]
        sha = data.get("git_commit_sha")
        if "git_commit_sha" in data and (not isinstance(sha, str) or not COMMIT_RE.match(sha)):
            errors["git_commit_sha"] = ["The git commit sha field format is invalid."]
        if "name" in data and (not isinstance(data["name"], str) or not data["name"].strip()):
            errors["name"] = ["The name field must be a string."]
        if errors:
            return laravel_validation(errors)
        if data.get("domains") and not truthy(data.get("force_domain_override", False)):
            conflict = self._domain_conflicts(data["domains"], own_uuid=app["uuid"])
            if conflict:
                return conflict
        state = self._state(app)
        for key, value in data.items():
            if key in ("instant_deploy", "force_domain_override"):
                continue
            if key in PATCH_BOOLEANS and not isinstance(value, bool):
                value = bool(int(value))
            elif value == "" and key.endswith(("_deployment_command", "_deployment_command_container")):
                value = None  # Laravel's ConvertEmptyStringsToNull: an emptied command reads back as null
            state["overrides"][key] = value
        state["updated_at"] = now_iso()
        if truthy(data.get("instant_deploy", False)):
            self._queue(self._app(app["uuid"]))
        return json_response({"uuid": app["uuid"]})

    @route("POST", APP + r"/start")
    def start_application(self, request):
        """Queue a deployment (``force`` rebuilds)."""
        denied = self.authorize(request, "deploy")
        if denied:
            return denied
        app, missing = self._find_app(request)
        if missing:
            return missing
        try:
            params = request.params()
        except ValueError:
            params = dict(request.query)
        dep, skipped = self._queue(app, force=truthy(params.get("force", False)))
        if dep is None:
            return json_response({"message": skipped})
        return json_response({"message": "Deployment request queued.", "deployment_uuid": dep["deployment_uuid"]})

    @route("POST", APP + r"/stop")
    def stop_application(self, request):
        """Stop the app's containers in the background."""
        denied = self.authorize(request, "deploy")
        if denied:
            return denied
        app, missing = self._find_app(request)
        if missing:
            return missing
        threading.Thread(target=self.engine.stop, args=(app, _NullContext()), daemon=True).start()
        return json_response({"message": "Application stopping request queued."})

    @route("POST", APP + r"/restart")
    def restart_application(self, request):
        """Queue a restart-only deployment."""
        denied = self.authorize(request, "deploy")
        if denied:
            return denied
        app, missing = self._find_app(request)
        if missing:
            return missing
        dep, _skipped = self._queue(app, restart_only=True, dedupe=False)
        return json_response({"message": "Restart request queued.", "deployment_uuid": dep["deployment_uuid"]})

    @route("GET", APP + r"/rollback-images")
    def rollback_images(self, request):
        """Local images of the app (tag = commit), the current one marked."""
        denied = self.authorize(request, "read")
        if denied:
            return denied
        app, missing = self._find_app(request)
        if missing:
            return missing
        current, images = self.engine.rollback_images(app)
        return json_response({"current": current, "images": images})

    @route("POST", APP + r"/rollback")
    def rollback(self, request):
        """Queue a rollback deployment: commit=<tag>, rollback=true, force_rebuild=false."""
        denied = self.authorize(request, "deploy")
        if denied:
            return denied
        app, missing = self._find_app(request)
        if missing:
            return missing
        data, bad = incoming_json(request)
        if bad:
            return bad
        errors = {k: ["This field is not allowed."] for k in data if k != "commit"}
        if errors:
            return validation_failed(errors)
        commit = data.get("commit")
        if commit in (None, ""):
            return laravel_validation({"commit": ["The commit field is required."]})
        if not isinstance(commit, str):
            return laravel_validation({"commit": ["The commit field must be a string."]})
        if not COMMIT_RE.match(commit):
            return laravel_validation({"commit": ["The commit field format is invalid."]})
        dep, skipped = self._queue(app, rollback=True, commit=commit)
        if dep is None:
            return json_response({"message": skipped})
        return json_response({"message": "Rollback deployment queued.", "deployment_uuid": dep["deployment_uuid"]})

    # ------------------------------------------------------------------ API: environment variables

    def _new_env(self, key, value, stamp=None, **flags):
        stamp = stamp or now_iso()
        env = {"uuid": new_uuid(), "key": key, "value": None if value is None else str(value), "is_literal": False,
               "is_multiline": False, "is_preview": False, "is_runtime": True, "is_buildtime": True, "is_shared": False,
               "is_shown_once": False, "comment": None, "version": self.version, "created_at": stamp, "updated_at": stamp}
        env.update(flags)
        env["real_value"] = env["value"]
        return env

    @staticmethod
    def _env_json(env, sensitive):
        data = dict(env)
        if not sensitive or env["is_shown_once"]:
            data.pop("value", None)
            data.pop("real_value", None)
        return data

    @staticmethod
    def _env_errors(data, require_value=False):
        errors = {k: ["This field is not allowed."] for k in data if k not in ENV_ALLOWED}
        if errors:
            return validation_failed(errors)
        errors = {}
        if not isinstance(data.get("key"), str) or not data["key"].strip():
            errors["key"] = ["The key field is required."]
        if require_value and "value" not in data:
            errors["value"] = ["The value field is required."]
        elif "value" in data and data["value"] is not None and not isinstance(data["value"], (str, int, float)):
            errors["value"] = ["The value field must be a string."]
        for flag in ENV_BOOLEANS:
            if flag in data and not is_bool_like(data[flag]):
                errors[flag] = ["The %s field must be true or false." % flag.replace("_", " ")]
        if isinstance(data.get("comment"), str) and len(data["comment"]) > 256:
            errors["comment"] = ["The comment field must not be greater than 256 characters."]
        return laravel_validation(errors) if errors else None

    @staticmethod
    def _env_flags(data):
        flags = {f: bool(int(data[f])) if not isinstance(data[f], bool) else data[f] for f in ENV_BOOLEANS if f in data}
        if "comment" in data:
            flags["comment"] = data["comment"]
        return flags

    @staticmethod
    def _norm_key(key):
        return str(key).strip().replace(" ", "_")

    def _find_env(self, state, key, is_preview):
        for env in state["envs"]:
            if env["key"] == key and env["is_preview"] == is_preview:
                return env
        return None

    @route("GET", APP + r"/envs")
    def list_envs(self, request):
        """Normal then preview variables; values only with read:sensitive/root."""
        denied = self.authorize(request, "read")
        if denied:
            return denied
        app, missing = self._find_app(request)
        if missing:
            return missing
        sensitive = self.can_read_sensitive(request)
        envs = sorted(self._state(app)["envs"], key=lambda e: e["is_preview"])
        return json_response([self._env_json(e, sensitive) for e in envs])

    @route("POST", APP + r"/envs")
    def create_env(self, request):
        """201 {uuid}; 409 when the key exists."""
        denied = self.authorize(request, "write")
        if denied:
            return denied
        app, missing = self._find_app(request)
        if missing:
            return missing
        data, bad = incoming_json(request)
        if bad:
            return bad
        bad = self._env_errors(data)
        if bad:
            return bad
        state = self._state(app)
        key = self._norm_key(data["key"])
        flags = self._env_flags(data)
        if self._find_env(state, key, flags.get("is_preview", False)):
            return message("Environment variable already exists. Use PATCH request to update it.", 409)
        env = self._new_env(key, data.get("value"), **flags)
        state["envs"].append(env)
        return json_response({"uuid": env["uuid"]}, 201)

    @route("PATCH", APP + r"/envs")
    def update_env(self, request):
        """Update by key (+ is_preview): 201 with the variable; 404 when unknown."""
        denied = self.authorize(request, "write")
        if denied:
            return denied
        app, missing = self._find_app(request)
        if missing:
            return missing
        data, bad = incoming_json(request)
        if bad:
            return bad
        bad = self._env_errors(data, require_value=True)
        if bad:
            return bad
        flags = self._env_flags(data)
        env = self._find_env(self._state(app), self._norm_key(data["key"]), flags.get("is_preview", False))
        if env is None:
            return message("Environment variable not found.", 404)
        self._update_env(env, data.get("value"), flags)
        return json_response(self._env_json(env, self.can_read_sensitive(request)), 201)

    @staticmethod
    def _update_env(env, value, flags):
        env.update(flags)
        env["value"] = env["real_value"] = None if value is None else str(value)
        env["updated_at"] = now_iso()

    @route("PATCH", APP + r"/envs/bulk")
    def bulk_envs(self, request):
        """Upsert ``{"data": [...]}``: 201 with the variables."""
        denied = self.authorize(request, "write")
        if denied:
            return denied
        app, missing = self._find_app(request)
        if missing:
            return missing
        data, bad = incoming_json(request)
        if bad:
            return bad
        items = data.get("data")
        if not items or not isinstance(items, list):
            return message("Bulk data is required.", 400)
        for item in items:
            if not isinstance(item, dict):
                return message("Bulk data is required.", 400)
            bad = self._env_errors(item)
            if bad:
                return bad
        state = self._state(app)
        result = []
        for item in items:
            flags = self._env_flags(item)
            key = self._norm_key(item["key"])
            env = self._find_env(state, key, flags.get("is_preview", False))
            if env is None:
                env = self._new_env(key, item.get("value"), **flags)
                state["envs"].append(env)
            else:
                self._update_env(env, item.get("value", env["value"]), flags)
            result.append(env)
        sensitive = self.can_read_sensitive(request)
        return json_response([self._env_json(e, sensitive) for e in result], 201)

    @route("DELETE", APP + r"/envs/(?P<env_uuid>[^/]+)")
    def delete_env(self, request):
        """Delete one variable by its uuid."""
        denied = self.authorize(request, "write")
        if denied:
            return denied
        app, missing = self._find_app(request)
        if missing:
            return missing
        state = self._state(app)
        for env in state["envs"]:
            if env["uuid"] == request.args["env_uuid"]:
                state["envs"].remove(env)
                return message("Environment variable deleted.", 200)
        return message("Environment variable not found.", 404)

    # ------------------------------------------------------------------ API: servers, projects, environments

    def _servers(self):
        """uuid -> server spec, from the configuration and the servers glob (read again on every call)."""
        return _read_specs(self.inline_servers, self.servers_glob, "server")

    @staticmethod
    def _server_json(spec):
        return {"id": stable_id(spec["uuid"]), "uuid": spec["uuid"], "name": spec.get("name", spec["uuid"]),
                "description": spec.get("description"), "ip": spec.get("ip", "127.0.0.1"), "user": spec.get("user", "root"),
                "port": int(spec.get("port", 22)), "proxy": {"type": "traefik", "status": "running"}, "proxy_type": "traefik",
                "high_disk_usage_notification_sent": False, "unreachable_notification_sent": False, "unreachable_count": 0,
                "validation_logs": None, "log_drain_notification_sent": False, "swarm_cluster": None,
                "settings": {"id": stable_id(spec["uuid"]), "server_id": stable_id(spec["uuid"]), "is_reachable": True,
                             "is_usable": True, "is_build_server": False}}

    @route("GET", r"/api/v1/servers")
    def list_servers(self, request):
        """The servers applications can be created on."""
        denied = self.authorize(request, "read")
        return denied or json_response([self._server_json(s) for s in self._servers().values()])

    @route("GET", r"/api/v1/servers/(?P<uuid>[^/]+)")
    def get_server(self, request):
        """One server."""
        denied = self.authorize(request, "read")
        if denied:
            return denied
        spec = self._servers().get(request.args["uuid"])
        return json_response(self._server_json(spec)) if spec else message("Server not found.", 404)

    @staticmethod
    def _env_record_json(project, env):
        return {"id": env["id"], "uuid": env["uuid"], "name": env["name"], "project_id": project["id"],
                "description": env.get("description"), "created_at": env["created_at"], "updated_at": env["updated_at"]}

    def _project_json(self, project, with_environments=False):
        data = {"id": project["id"], "uuid": project["uuid"], "name": project["name"], "description": project.get("description")}
        if with_environments:
            data["environments"] = [self._env_record_json(project, e) for e in project["environments"]]
        return data

    def _new_environment(self, project, name):
        stamp = now_iso()
        env = {"id": stable_id(project["uuid"] + ":" + name), "uuid": new_uuid(), "name": name, "description": None,
               "created_at": stamp, "updated_at": stamp}
        project["environments"].append(env)
        return env

    def _find_project(self, request):
        project = self.projects.get(request.args["uuid"])
        if project is None:
            return None, message("Project not found.", 404)
        return project, None

    @staticmethod
    def _name_errors(data, allowed):
        errors = {k: ["This field is not allowed."] for k in data if k not in allowed}
        if errors:
            return validation_failed(errors)
        errors = {}
        name = data.get("name")
        if not isinstance(name, str) or not name.strip():
            errors["name"] = ["The name field is required."]
        elif len(name) > 255:
            errors["name"] = ["The name field must not be greater than 255 characters."]
        if "description" in data and data["description"] is not None and not isinstance(data["description"], str):
            errors["description"] = ["The description field must be a string."]
        return validation_failed(errors) if errors else None

    @route("GET", r"/api/v1/projects")
    def list_projects(self, request):
        """Every project (id, uuid, name, description)."""
        denied = self.authorize(request, "read")
        return denied or json_response([self._project_json(p) for p in sorted(self.projects.values(), key=lambda p: p["id"])])

    @route("POST", r"/api/v1/projects")
    def create_project(self, request):
        """201 {uuid}; a project starts with the environment ``production``, as Coolify's do."""
        denied = self.authorize(request, "write")
        if denied:
            return denied
        data, bad = incoming_json(request)
        if bad:
            return bad
        bad = self._name_errors(data, ("name", "description"))
        if bad:
            return bad
        uuid = new_uuid()
        project = {"id": stable_id(uuid), "uuid": uuid, "name": data["name"].strip(), "description": data.get("description"),
                   "environments": []}
        self._new_environment(project, "production")
        self.projects[uuid] = project
        return json_response({"uuid": uuid}, 201)

    @route("GET", r"/api/v1/projects/(?P<uuid>[^/]+)")
    def get_project(self, request):
        """One project with its environments."""
        denied = self.authorize(request, "read")
        if denied:
            return denied
        project, missing = self._find_project(request)
        return missing or json_response(self._project_json(project, with_environments=True))

    @route("DELETE", r"/api/v1/projects/(?P<uuid>[^/]+)")
    def delete_project(self, request):
        """Delete an empty project (400 while it holds resources)."""
        denied = self.authorize(request, "write")
        if denied:
            return denied
        project, missing = self._find_project(request)
        if missing:
            return missing
        if any(a.get("project_uuid") == project["uuid"] for a in self.created_apps.values()):
            return message("Project has resources, so it cannot be deleted.", 400)
        del self.projects[project["uuid"]]
        return message("Project deleted.", 200)

    @route("GET", r"/api/v1/projects/(?P<uuid>[^/]+)/environments")
    def list_environments(self, request):
        """The environments of a project."""
        denied = self.authorize(request, "read")
        if denied:
            return denied
        project, missing = self._find_project(request)
        return missing or json_response([self._env_record_json(project, e) for e in project["environments"]])

    @route("POST", r"/api/v1/projects/(?P<uuid>[^/]+)/environments")
    def create_environment(self, request):
        """201 {uuid}; 409 when the project has an environment of that name."""
        denied = self.authorize(request, "write")
        if denied:
            return denied
        project, missing = self._find_project(request)
        if missing:
            return missing
        data, bad = incoming_json(request)
        if bad:
            return bad
        bad = self._name_errors(data, ("name",))
        if bad:
            return bad
        if any(e["name"] == data["name"].strip() for e in project["environments"]):
            return message("Environment with this name already exists.", 409)
        return json_response({"uuid": self._new_environment(project, data["name"].strip())["uuid"]}, 201)

    # ------------------------------------------------------------------ API: create and delete applications

    @staticmethod
    def _hosts(domains):
        """The host names of a comma-separated list of URLs (``https://a.example.com,b.example.com``)."""
        hosts = []
        for item in str(domains or "").split(","):
            item = item.strip().lower()
            if not item:
                continue
            host = item.split("://", 1)[-1].split("/", 1)[0].split(":", 1)[0]
            if host:
                hosts.append(host)
        return hosts

    def _domain_conflicts(self, domains, own_uuid=None):
        """Coolify's 409 body when another application serves one of ``domains``, else None."""
        conflicts = []
        for uuid in self._specs():
            if uuid == own_uuid:
                continue
            other = self._app(uuid)
            fqdn = (other.get("domains") or other.get("fqdn")) if other else None
            for host in set(self._hosts(domains)) & set(self._hosts(fqdn)):
                conflicts.append({"domain": host, "resource_name": other.get("name", uuid), "resource_uuid": uuid,
                                  "resource_type": "application",
                                  "message": "Domain %s is already in use by application '%s'" % (host, other.get("name", uuid))})
        if not conflicts:
            return None
        return json_response({"message": "Domain conflicts detected. Use force_domain_override=true to proceed.",
                              "warning": "Using the same domain for multiple resources can cause routing conflicts and "
                                         "unpredictable behavior.", "conflicts": conflicts}, 409)

    @staticmethod
    def _create_errors(data):
        """Laravel's validation of POST /applications/public: None or the 422 Response."""
        errors = {k: ["This field is not allowed."] for k in data if k not in PUBLIC_ALLOWED}
        if errors:
            return validation_failed(errors)
        for key in ("project_uuid", "server_uuid", "git_repository", "git_branch"):
            if not isinstance(data.get(key), str) or not data[key].strip():
                errors[key] = ["The %s field is required." % key.replace("_", " ")]
        if not data.get("environment_name") and not data.get("environment_uuid"):
            errors["environment_name"] = ["The environment name field is required when environment uuid is not present."]
            errors["environment_uuid"] = ["The environment uuid field is required when environment name is not present."]
        if data.get("build_pack") not in BUILD_PACKS:
            errors["build_pack"] = ["The selected build pack is invalid." if "build_pack" in data else "The build pack field is required."]
        ports = data.get("ports_exposes")
        if data.get("build_pack") != "dockercompose" and not (isinstance(ports, str) and PORTS_RE.match(ports)):
            errors["ports_exposes"] = ["The ports exposes field format is invalid." if ports else "The ports exposes field is required."]
        for key, value in data.items():
            if key in PATCH_BOOLEANS and not is_bool_like(value):
                errors[key] = ["The %s field must be true or false." % key.replace("_", " ")]
            elif key in PUBLIC_STRINGS and value is not None and not isinstance(value, str):
                errors[key] = ["The %s field must be a string." % key.replace("_", " ")]
        if isinstance(data.get("name"), str) and len(data["name"]) > 255:
            errors["name"] = ["The name field must not be greater than 255 characters."]
        return validation_failed(errors) if errors else None

    @route("POST", r"/api/v1/applications/public")
    def create_public_application(self, request):
        """Create an application from a public git repository on a server; ``instant_deploy`` queues its first deployment."""
        denied = self.authorize(request, "write")
        if denied:
            return denied
        data, bad = incoming_json(request)
        if bad:
            return bad
        bad = self._create_errors(data)
        if bad:
            return bad
        project = self.projects.get(data["project_uuid"])
        if project is None:
            return message("Project not found.", 404)
        wanted = data.get("environment_uuid") or data.get("environment_name")
        environment = next((e for e in project["environments"] if wanted in (e["uuid"], e["name"])), None)
        if environment is None:
            return message("Environment not found.", 404)
        server = self._servers().get(data["server_uuid"])
        if server is None:
            return message("Server not found.", 404)
        if data.get("domains") and not truthy(data.get("force_domain_override", False)):
            conflict = self._domain_conflicts(data["domains"])
            if conflict:
                return conflict
        uuid = new_uuid()
        template = server.get("application") or {}
        spec = {"uuid": uuid, "name": data.get("name") or "%s:%s" % (data["git_repository"].rstrip("/").rpartition("/")[2], data["git_branch"]),
                "description": data.get("description"), "fqdn": data.get("domains") or None, "server_name": server.get("name", server["uuid"]),
                "server_uuid": server["uuid"], "project_uuid": project["uuid"], "environment_id": environment["id"],
                "environment_name": environment["name"], "git_repository": data["git_repository"], "git_branch": data["git_branch"],
                "build_pack": data["build_pack"], "base_image": template.get("base_image"),
                "services": template.get("services") or [], "tags": list(data.get("tags") or ())}
        self.created_apps[uuid] = spec
        state = self._state(spec)
        for key, value in data.items():
            if key in PATCH_ALLOWED and key not in ("instant_deploy", "force_domain_override", "project_uuid", "server_uuid",
                                                    "environment_name", "name", "description", "git_repository", "git_branch"):
                if key in PATCH_BOOLEANS and not isinstance(value, bool):
                    value = bool(int(value))
                elif value == "" and key.endswith(("_deployment_command", "_deployment_command_container")):
                    value = None  # Laravel's ConvertEmptyStringsToNull: an emptied command reads back as null
                state["overrides"][key] = value
        if truthy(data.get("instant_deploy", False)):
            self._queue(self._app(uuid))
        return json_response({"uuid": uuid}, 201)

    @route("DELETE", APP)
    def delete_application(self, request):
        """Stop and remove an application's containers; its volumes too unless ``delete_volumes=false``."""
        denied = self.authorize(request, "write")
        if denied:
            return denied
        app, missing = self._find_app(request)
        if missing:
            return missing
        delete_volumes = truthy(request.query.get("delete_volumes", "true"))
        for dep in self.deployments.values():
            if dep["app_uuid"] == app["uuid"] and dep["status"] in ACTIVE:
                self._finish(dep, CANCELLED)
        self.engine.remove(app, _NullContext(), delete_volumes=delete_volumes)
        if app["uuid"] in self.created_apps:
            del self.created_apps[app["uuid"]]
        elif self.apps_glob:
            # A lab host's own application: forget the spec file that describes it.
            for path in glob.glob(self.apps_glob):
                try:
                    with open(path, encoding="utf-8") as handle:
                        if json.load(handle).get("uuid") == app["uuid"]:
                            os.remove(path)
                except (OSError, ValueError, AttributeError):
                    continue
        self.app_state.pop(app["uuid"], None)
        return message("Application deletion request queued.", 200)


class _NullContext(JobContext):
    """A context for background work that has no deployment record (stop)."""

    def log(self, output, kind="stdout", command=None, hidden=False):
        """Dropped."""

    def cancelled(self):
        return False


def _lab_object(request):
    """The JSON object body of a lab request ({} when it is not one)."""
    try:
        data = request.json()
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}
