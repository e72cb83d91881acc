# Copyright (c) 2026, clawd.ops contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Deploy engines of the Coolify stand-in: what a deployment really does.

The API side (``coolify.py``) owns the queue and the records; an engine is told to run one job
and reports through a :class:`JobContext` (log lines, cancellation). Two engines share that
interface:

* :class:`DockerEngine` builds ``<app uuid>:<commit sha>`` images and replaces the app's
  containers with a rolling update, as Coolify does: new containers must be healthy before the
  old ones are stopped, and the old ones keep running untouched when the new ones fail.
* :class:`SimulatedEngine` runs no Docker: each step takes ``simulated_step_seconds`` and a
  release with ``APP_UNHEALTHY=1`` fails. For unit tests of the collection's modules.

Both run the application's pre-deployment command in its running (old) container before the new
one starts, and its post-deployment command in the new container once it runs, as Coolify does
(``run_deployment_command``): the ``*_container`` field names the service when the application
has several. A failing pre-deployment command fails the deployment (the old containers keep
running); a failing post-deployment command is only logged ("Post-deployment command failed.")
and the deployment still finishes; a container that cannot be found fails it. The commands'
output goes to the deployment's logs as hidden (debug) lines, and as stderr when they fail.

Commits come from a real bare git repository (:class:`CommitSource`), or for the simulated
engine from the configuration (``commits``). Every commit carries a ``release.env``.
Stdlib only: the stand-in runs with the system python3.
"""

import json
import os
import re
import shlex
import shutil
import socket
import subprocess
import tempfile
import time
from datetime import datetime, timezone

FINISHED = "finished"
FAILED = "failed"
CANCELLED = "cancelled-by-user"
SHA_RE = re.compile(r"^[0-9a-f]{40}$")
DOCKER_TIMEOUT = 120
COMMAND_TIMEOUT = 600
PRE = "pre"
POST = "post"


def now_iso():
    """Laravel's JSON timestamp form: 2026-01-02T03:04:05.000000Z."""
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def parse_env_text(text):
    """KEY=VALUE lines (comments and blank lines skipped; optional quotes stripped) -> dict."""
    env = {}
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        key, _sep, value = line.partition("=")
        key = key.strip()
        if key.startswith("export "):
            key = key[len("export "):].strip()
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
            value = value[1:-1]
        env[key] = value
    return env


class CommitError(Exception):
    """A commit could not be resolved or read."""


class CommitSource:
    """Resolves the commit to deploy: from ``commits`` in the configuration, else from git."""

    def __init__(self, config_commits=None):
        self.config_commits = config_commits or {}

    def resolve(self, app, ref):
        """``{"sha", "message", "env"}`` of ``ref`` ("HEAD" = the branch head) in the app's repository."""
        branch = app.get("git_branch") or "main"
        listed = self.config_commits.get(branch)
        if listed is not None:
            return self._from_config(listed, branch, ref)
        repo = app.get("git_repository")
        if not repo:
            raise CommitError("Application has no git repository and no configured commits for branch %s." % branch)
        return self._from_git(repo, branch, ref)

    @staticmethod
    def _from_config(listed, branch, ref):
        if not listed:
            raise CommitError("Branch %s has no commits." % branch)
        if ref in (None, "", "HEAD"):
            item = listed[-1]
        else:
            matches = [c for c in listed if c["sha"] == ref or (len(ref) >= 7 and c["sha"].startswith(ref))]
            if not matches:
                raise CommitError("Commit %s not found in branch %s." % (ref, branch))
            item = matches[-1]
        return {"sha": item["sha"], "message": item.get("message", ""), "env": {str(k): str(v) for k, v in item.get("env", {}).items()}}

    @staticmethod
    def _git(repo, *args):
        proc = subprocess.run(["git", "--git-dir=%s" % repo] + list(args), capture_output=True, text=True, timeout=30, check=False)
        if proc.returncode != 0:
            raise CommitError((proc.stderr or proc.stdout).strip() or "git %s failed" % args[0])
        return proc.stdout

    def _from_git(self, repo, branch, ref):
        target = "refs/heads/%s" % branch if ref in (None, "", "HEAD") else ref
        try:
            sha = self._git(repo, "rev-parse", "--verify", "--quiet", "%s^{commit}" % target).strip()
        except CommitError:
            if target.startswith("refs/heads/"):
                raise CommitError("Branch %s not found in %s." % (branch, repo)) from None
            raise CommitError("Commit %s not found in %s." % (ref, repo)) from None
        message = self._git(repo, "log", "-1", "--format=%s", sha).strip()
        try:
            env = parse_env_text(self._git(repo, "show", "%s:release.env" % sha))
        except CommitError:
            raise CommitError("Commit %s has no release.env." % sha) from None
        return {"sha": sha, "message": message, "env": env}


class JobContext:
    """What an engine gets besides the app: logging and cancellation (implemented by the API side)."""

    def log(self, output, kind="stdout", command=None, hidden=False):
        """Add one line to the deployment's logs."""
        raise NotImplementedError

    def cancelled(self):
        """True once the deployment was cancelled."""
        return False


class Cancelled(Exception):
    """Raised inside an engine when the deployment was cancelled between steps."""


def pick_command_service(services, wanted):
    """The service a deployment command runs in, as Coolify picks its container: the only one, else the one named
    (service name or container name); None when none matches."""
    if len(services) == 1:
        return services[0]
    for service in services:
        if wanted and wanted in (service.get("name"), service.get("container")):
            return service
    return None


class Engine:
    """Interface shared by the engines. ``app`` is an app spec dict (see coolify.py)."""

    def exec_command(self, app, service, job, command):
        """Run ``sh -c command`` in the service's container; returns ``(exit code, output)``."""
        raise NotImplementedError

    def run_deployment_command(self, app, job, ctx, phase, running):
        """Coolify's pre- or post-deployment command (``phase`` PRE or POST) in one of the ``running`` services.

        True when the deployment goes on (no command, no running container before it, the command passed, or a
        post-deployment command failed: Coolify only logs that); False when it fails (a pre-deployment command failed,
        or no container matches ``<phase>_deployment_command_container``).
        """
        command = (app.get("%s_deployment_command" % phase) or "").strip()
        if not command or (phase == PRE and not running):
            return True
        title = "Pre-deployment" if phase == PRE else "Post-deployment"
        if phase == POST:
            ctx.log("----------------------------------------")
        ctx.log("Executing %s command (see debug log for output%s)." % (title.lower(), "/errors" if phase == PRE else ""))
        service = pick_command_service(running, (app.get("%s_deployment_command_container" % phase) or "").strip())
        if service is None:
            ctx.log("%s command: Could not find a valid container. Is the container name correct?" % title, kind="stderr")
            return False
        container = service.get("container") or service.get("name") or app.get("name", "app")
        ctx.log("", command="docker exec %s sh -c %s" % (container, shlex.quote(command)), hidden=True)
        code, output = self.exec_command(app, service, job, command)
        output = (output or "").strip()
        if output:
            ctx.log(output[-4000:], kind="stdout" if code == 0 else "stderr", hidden=True)
        if code == 0:
            return True
        if phase == POST:
            ctx.log("Post-deployment command failed.")
            ctx.log(output[-4000:] or "exit code %d" % code, kind="stderr")
            return True
        ctx.log("Pre-deployment command failed with exit code %d: %s" % (code, output[-4000:] or "no output"), kind="stderr")
        return False

    def deploy(self, app, job, ctx):
        """Run one deployment job; returns FINISHED, FAILED or CANCELLED.

        ``job``: ``{"deployment_uuid", "commit": {"sha", "message", "env"}, "force_rebuild",
        "rollback", "app_env": {KEY: value}}``.
        """
        raise NotImplementedError

    def restart(self, app, job, ctx):
        """Restart the app's containers; returns FINISHED or FAILED."""
        raise NotImplementedError

    def stop(self, app, ctx):
        """Stop the app's containers."""
        raise NotImplementedError

    def status(self, app):
        """Coolify's ``<state>:<health>`` status of the app."""
        raise NotImplementedError

    def remove(self, app, ctx, delete_volumes=False):
        """Remove the app's containers and images (DELETE /applications/{uuid}); its volumes only if ``delete_volumes``."""
        raise NotImplementedError

    def rollback_images(self, app):
        """``(current tag or None, [{"tag", "created_at", "is_current"}])``."""
        raise NotImplementedError

    def export_state(self):
        """JSON-able engine state (the simulated engine's containers and images)."""
        return None

    def import_state(self, data):
        """Restore :meth:`export_state`."""

    def reset(self):
        """Forget what was deployed (``/_lab/reset``)."""


# --------------------------------------------------------------------------- simulated


class SimulatedEngine(Engine):
    """No Docker: steps take time, APP_UNHEALTHY=1 fails, state is kept in memory."""

    def __init__(self, step_seconds=0.2):
        self.step_seconds = float(step_seconds)
        self.apps = {}

    def _app(self, app):
        return self.apps.setdefault(app["uuid"], {
            "state": app.get("simulated_status", "running:healthy"), "commit": None, "images": []})

    def _step(self, ctx, message):
        if ctx.cancelled():
            raise Cancelled()
        ctx.log(message)
        deadline = time.monotonic() + self.step_seconds
        while time.monotonic() < deadline:
            if ctx.cancelled():
                raise Cancelled()
            time.sleep(min(0.02, self.step_seconds))

    @staticmethod
    def _services(app):
        return app.get("services") or [{"name": app.get("name", "app"), "container": app.get("name", "app")}]

    def exec_command(self, app, service, job, command):
        """A simulated container is a shell in a scratch folder, with the release's, the app's and the service's environment."""
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": "/tmp"}
        env.update(job.get("commit", {}).get("env") or {})
        env.update(service.get("env") or {})
        env.update(job.get("app_env") or {})
        env["SOURCE_COMMIT"] = job.get("commit", {}).get("sha", "")
        scratch = tempfile.mkdtemp(prefix="coolify-exec-")
        try:
            proc = subprocess.run(["sh", "-c", command], cwd=scratch, env=env, capture_output=True, text=True,
                                  timeout=COMMAND_TIMEOUT, check=False)
        except subprocess.TimeoutExpired:
            return 124, "command timed out after %ss" % COMMAND_TIMEOUT
        finally:
            shutil.rmtree(scratch, ignore_errors=True)
        return proc.returncode, proc.stdout + proc.stderr

    def deploy(self, app, job, ctx):
        state = self._app(app)
        sha = job["commit"]["sha"]
        try:
            known = any(i["tag"] == sha for i in state["images"])
            if known and not job.get("force_rebuild"):
                self._step(ctx, "Image found (%s:%s) with the same Git Commit SHA. Build step skipped." % (app["uuid"], sha))
            else:
                self._step(ctx, "Building docker image %s:%s." % (app["uuid"], sha))
                if not known:
                    state["images"].append({"tag": sha, "created_at": now_iso()})
            running = self._services(app) if state["commit"] and state["state"] != "exited" else []
            if not self.run_deployment_command(app, job, ctx, PRE, running):
                ctx.log("Deployment failed; the old containers keep running.", kind="stderr")
                return FAILED
            for service in self._services(app):
                self._step(ctx, "Starting new container %s." % service["name"])
            self._step(ctx, "Waiting for the new containers to be healthy.")
            if job["commit"]["env"].get("APP_UNHEALTHY") == "1":
                name = (app.get("services") or [{"name": "claudebox-web"}])[0]["name"]
                ctx.log("Container %s is unhealthy." % name, kind="stderr")
                ctx.log("New container is not healthy, rolling back to the old container.", kind="stderr")
                return FAILED
            self._step(ctx, "Removing old containers.")
        except Cancelled:
            ctx.log("Deployment cancelled; the old containers keep running.", kind="stderr")
            return CANCELLED
        state["state"] = "running:healthy"
        state["commit"] = sha
        ctx.log("New container started.")
        return FINISHED if self.run_deployment_command(app, job, ctx, POST, self._services(app)) else FAILED

    def restart(self, app, job, ctx):
        state = self._app(app)
        try:
            self._step(ctx, "Restarting containers.")
        except Cancelled:
            return CANCELLED
        state["state"] = "running:healthy"
        return FINISHED

    def stop(self, app, ctx):
        self._app(app)["state"] = "exited"
        ctx.log("Containers stopped.")

    def remove(self, app, ctx, delete_volumes=False):
        self.apps.pop(app["uuid"], None)
        ctx.log("Containers removed%s." % (" with their volumes" if delete_volumes else ""))

    def status(self, app):
        return self._app(app)["state"]

    def rollback_images(self, app):
        state = self._app(app)
        current = state["commit"]
        images = [{"tag": i["tag"], "created_at": i["created_at"], "is_current": i["tag"] == current} for i in state["images"]]
        return current, images

    def export_state(self):
        return self.apps

    def import_state(self, data):
        self.apps = dict(data or {})

    def reset(self):
        self.apps = {}


# --------------------------------------------------------------------------- docker


def _docker(args, stdin=None, timeout=DOCKER_TIMEOUT):
    try:
        return subprocess.run(["docker"] + list(args), input=stdin, capture_output=True, text=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired:
        return subprocess.CompletedProcess(["docker"] + list(args), 124, "", "docker %s timed out after %ss" % (args[0], timeout))


def _health_interval(service):
    """The service's ``health_interval`` in whole seconds (0: the image's own)."""
    try:
        return max(0, int(float(service.get("health_interval") or 0)))
    except (TypeError, ValueError):
        return 0


def _answers_healthy(listen, timeout=2.0):
    """Whether GET http://<listen>/health answers 200: what the sample app image's HEALTHCHECK asks."""
    host, _sep, port = (listen or "").rpartition(":")
    try:
        with socket.create_connection((host, int(port)), timeout) as sock:
            sock.settimeout(timeout)
            sock.sendall(b"GET /health HTTP/1.0\r\nHost: health\r\n\r\n")
            return sock.recv(12)[9:12] == b"200"
    except (OSError, ValueError):
        return False


def _shift_listen(listen, offset):
    host, _sep, port = listen.rpartition(":")
    return "%s:%d" % (host, int(port) + offset)


def _dockerfile_value(value):
    """A Dockerfile ENV value: double-quoted, with backslashes, quotes and $ escaped."""
    return '"%s"' % str(value).replace("\\", "\\\\").replace('"', '\\"').replace("$", "\\$").replace("\n", "\\n")


class DockerEngine(Engine):
    """Real containers through the ``docker`` CLI; see the module docstring."""

    # The sample app image's HEALTHCHECK (lab/app/Dockerfile): a 2 s start period, then a GET /health every 3 s,
    # unhealthy after 3 failures in a row. A service with a slow health_interval is judged this way by the
    # engine itself while it deploys (see _wait_healthy), without a `docker exec` per check.
    IMAGE_HEALTH = {"start_period": 2.0, "interval": 3.0, "retries": 3}

    def __init__(self, health_timeout=60.0, candidate_port_offset=10000, poll_interval=0.5):
        self.health_timeout = float(health_timeout)
        self.offset = int(candidate_port_offset)
        self.poll_interval = float(poll_interval)

    # ------------------------------------------------------------- helpers

    @staticmethod
    def image_name(app, sha):
        """``<app uuid>:<commit sha>``."""
        return "%s:%s" % (app["uuid"], sha)

    @staticmethod
    def _instance(app):
        for service in app.get("services", ()):
            value = (service.get("labels") or {}).get("clawd.lab.instance")
            if value:
                return value
        return "coolify-standin"

    def _run(self, ctx, args, stdin=None, hidden=False, timeout=DOCKER_TIMEOUT):
        ctx.log("", command="docker " + " ".join(args), hidden=hidden)
        proc = _docker(args, stdin=stdin, timeout=timeout)
        output = (proc.stdout + proc.stderr).strip()
        if output:
            ctx.log(output[-4000:], kind="stdout" if proc.returncode == 0 else "stderr", hidden=hidden)
        return proc

    @staticmethod
    def _inspect(names):
        """name -> container inspect dict, for those that exist."""
        if not names:
            return {}
        proc = _docker(["inspect", "--type", "container"] + list(names), timeout=30)
        try:
            items = json.loads(proc.stdout or "[]")
        except ValueError:
            items = []
        return {item["Name"].lstrip("/"): item for item in items}

    def _build(self, app, job, ctx, image):
        commit = job["commit"]
        lines = ["FROM %s" % app["base_image"]]
        for key, value in sorted(commit["env"].items()):
            lines.append("ENV %s=%s" % (key, _dockerfile_value(value)))
        lines.append("ENV SOURCE_COMMIT=%s" % commit["sha"])
        ctx.log("Building docker image %s from %s." % (image, app["base_image"]))
        proc = self._run(ctx, ["build", "--network", "host", "-t", image, "--label", "clawd.lab.instance=%s" % self._instance(app),
                               "--label", "coolify.applicationId=%s" % app["uuid"], "-"], stdin="\n".join(lines) + "\n", timeout=600)
        return proc.returncode == 0

    def _run_container(self, app, service, job, ctx, name, image, listen_map):
        env = {}
        env.update(service.get("env") or {})
        env.update(job.get("app_env") or {})
        for key, value in list(env.items()):
            for old, new in listen_map.items():
                value = value.replace(old, new)
            env[key] = value
        labels = dict(service.get("labels") or {})
        labels.update({"coolify.managed": "true", "coolify.applicationId": app["uuid"],
                       "clawd.coolify.deployment": job["deployment_uuid"], "clawd.coolify.commit": job["commit"]["sha"]})
        args = ["run", "-d", "--name", name, "--network", "host", "--restart", "unless-stopped"]
        if _health_interval(service) and not service.get("listen"):
            # A fleet-size lab checks nothing that serves nothing (the image's check of such a service exits 0).
            args += ["--no-healthcheck"]
        elif _health_interval(service):
            # A fleet-size lab slows the image's health check down (each one is a `docker exec`);
            # _wait_healthy then asks the service's /health itself instead of waiting a whole interval.
            args += ["--health-interval", "%ds" % _health_interval(service)]
        for key, value in sorted(labels.items()):
            args += ["--label", "%s=%s" % (key, value)]
        for mount in service.get("mounts") or ():
            spec = "type=%s,source=%s,target=%s" % (mount.get("type", "volume"), mount["source"], mount["target"])
            if mount.get("read_only"):
                spec += ",readonly"
            args += ["--mount", spec]
        for host, address in sorted((service.get("etc_hosts") or {}).items()):
            args += ["--add-host", "%s:%s" % (host, address)]
        tmpdir = tempfile.mkdtemp(prefix="coolify-env-")
        try:
            env_file = os.path.join(tmpdir, "env")
            fd = os.open(env_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                for key, value in sorted(env.items()):
                    handle.write("%s=%s\n" % (key, str(value).replace("\n", " ")))
            proc = self._run(ctx, args[:2] + ["--env-file", env_file] + args[2:] + [image])
        finally:
            shutil.rmtree(tmpdir, ignore_errors=True)
        return proc.returncode == 0

    def _wait_healthy(self, name, service, ctx, allow_cancel=True, listen=None):
        """(True, "") once healthy; (False, why) when unhealthy, exited, gone or timed out. Raises Cancelled.

        A service with a slow ``health_interval`` is judged by its own GET /health at ``listen`` (default: the
        service's) while Docker's first check is still to come, as the image's check would judge it: healthy on a
        200, unhealthy after ``retries`` failed answers, ``interval`` apart, once ``start_period`` is over.
        """
        started = time.monotonic()
        deadline = started + self.health_timeout
        listen = listen or service.get("listen")
        failures, next_failure = 0, started
        while True:
            if allow_cancel and ctx.cancelled():
                raise Cancelled()
            info = self._inspect([name]).get(name)
            if info is None:
                return False, "container %s does not exist" % name
            state = info.get("State") or {}
            health = (state.get("Health") or {}).get("Status")
            if state.get("Status") in ("exited", "dead"):
                return False, "container %s exited with code %s" % (name, state.get("ExitCode"))
            if state.get("Running") and (not service.get("listen") or health in (None, "healthy")):
                return True, ""
            if state.get("Running") and health == "starting" and _health_interval(service):
                if _answers_healthy(listen):
                    return True, ""
                now = time.monotonic()
                if now - started >= self.IMAGE_HEALTH["start_period"] and now >= next_failure:
                    failures, next_failure = failures + 1, now + self.IMAGE_HEALTH["interval"]
                    if failures >= self.IMAGE_HEALTH["retries"]:
                        return False, "container %s is unhealthy (GET /health failed %d times in a row)" % (name, failures)
            if health == "unhealthy":
                return False, "container %s is unhealthy" % name
            if time.monotonic() > deadline:
                return False, "container %s not healthy after %gs (health: %s)" % (name, self.health_timeout, health)
            time.sleep(self.poll_interval)

    def _report(self, name, ctx):
        info = self._inspect([name]).get(name) or {}
        health_log = ((info.get("State") or {}).get("Health") or {}).get("Log") or []
        if health_log:
            ctx.log("Health check output of %s: %s" % (name, (health_log[-1].get("Output") or "").strip()[-1000:]), kind="stderr")
        proc = _docker(["logs", "--tail", "20", name], timeout=30)
        text = (proc.stdout + proc.stderr).strip()
        if text:
            ctx.log("Last log lines of %s:\n%s" % (name, text[-4000:]), kind="stderr")

    def _remove(self, ctx, names):
        for name in names:
            self._run(ctx, ["rm", "-f", name], hidden=True)

    def exec_command(self, app, service, job, command):
        proc = _docker(["exec", service["container"], "sh", "-c", command], timeout=COMMAND_TIMEOUT)
        return proc.returncode, proc.stdout + proc.stderr

    def _running(self, services):
        found = self._inspect([s["container"] for s in services])
        return [s for s in services if ((found.get(s["container"]) or {}).get("State") or {}).get("Running")]

    # ------------------------------------------------------------- engine interface

    def deploy(self, app, job, ctx):
        services = app.get("services") or []
        sha = job["commit"]["sha"]
        image = self.image_name(app, sha)
        try:
            exists = _docker(["image", "inspect", image], timeout=30).returncode == 0
            if exists and not job.get("force_rebuild"):
                ctx.log("Image found (%s) with the same Git Commit SHA. Build step skipped." % image)
            elif not self._build(app, job, ctx, image):
                ctx.log("Failed to build image %s." % image, kind="stderr")
                return FAILED
            if ctx.cancelled():
                raise Cancelled()
        except Cancelled:
            ctx.log("Deployment cancelled before the containers were touched.", kind="stderr")
            return CANCELLED
        if not self.run_deployment_command(app, job, ctx, PRE, self._running(services)):
            ctx.log("Deployment failed; the old containers keep running.", kind="stderr")
            return FAILED

        candidate_map = {s["listen"]: _shift_listen(s["listen"], self.offset) for s in services if s.get("listen")}
        candidates = []
        try:
            for service in services:
                name = service["container"] + "-next"
                self._remove(ctx, [name])
                candidates.append(name)
                ctx.log("Starting new container %s (candidate of %s)." % (name, service["container"]))
                if not self._run_container(app, service, job, ctx, name, image, candidate_map):
                    self._remove(ctx, candidates)
                    ctx.log("New container %s could not be started; the old containers keep running." % name, kind="stderr")
                    return FAILED
            for service, name in zip(services, candidates):
                healthy, why = self._wait_healthy(name, service, ctx, listen=candidate_map.get(service.get("listen")))
                if not healthy:
                    ctx.log("Container %s is unhealthy: %s" % (service["name"], why), kind="stderr")
                    self._report(name, ctx)
                    self._remove(ctx, candidates)
                    ctx.log("New containers are not healthy; removed them, the old containers keep running.", kind="stderr")
                    return FAILED
                ctx.log("New container %s is healthy." % name)
        except Cancelled:
            self._remove(ctx, candidates)
            ctx.log("Deployment cancelled; removed the new containers, the old containers keep running.", kind="stderr")
            return CANCELLED

        # Every candidate is healthy: replace the old containers (all of them, as a compose
        # project is replaced, so services that ask each other for health come up together).
        ok = self._switch(app, services, job, ctx, image)
        self._remove(ctx, candidates)
        if not ok:
            return FAILED
        ctx.log("Rolling update completed.")
        return FINISHED if self.run_deployment_command(app, job, ctx, POST, self._running(services)) else FAILED

    def _switch(self, app, services, job, ctx, image):
        names = [s["container"] for s in services]
        old = self._inspect(names)
        self._remove(ctx, [n + "-previous" for n in names])
        for name in names:
            if name in old:
                self._run(ctx, ["rename", name, name + "-previous"])
                self._run(ctx, ["stop", "-t", "10", name + "-previous"])
        why = ""
        for service in services:
            if not self._run_container(app, service, job, ctx, service["container"], image, {}):
                why = "container %s could not be started" % service["container"]
                break
        if not why:
            for service in services:
                healthy, why = self._wait_healthy(service["container"], service, ctx, allow_cancel=False)
                if not healthy:
                    self._report(service["container"], ctx)
                    break
                why = ""
        if not why:
            self._remove(ctx, [n + "-previous" for n in names if n in old])
            ctx.log("Containers %s replaced." % ", ".join(names))
            return True
        ctx.log("New containers failed after the switch: %s" % why, kind="stderr")
        self._remove(ctx, names)
        for name in names:
            if name in old:
                self._run(ctx, ["rename", name + "-previous", name])
                self._run(ctx, ["start", name])
        ctx.log("Put the previous containers back.", kind="stderr")
        return False

    def restart(self, app, job, ctx):
        for service in app.get("services") or []:
            proc = self._run(ctx, ["restart", "-t", "10", service["container"]])
            if proc.returncode != 0:
                return FAILED
        for service in app.get("services") or []:
            healthy, why = self._wait_healthy(service["container"], service, ctx, allow_cancel=False)
            if not healthy:
                ctx.log("Container %s is unhealthy: %s" % (service["name"], why), kind="stderr")
                return FAILED
        return FINISHED

    def stop(self, app, ctx):
        for service in app.get("services") or []:
            self._run(ctx, ["stop", "-t", "10", service["container"]])

    def remove(self, app, ctx, delete_volumes=False):
        services = app.get("services") or []
        self._remove(ctx, [s["container"] + suffix for s in services for suffix in ("", "-next", "-previous")])
        if delete_volumes:
            volumes = sorted({m["source"] for s in services for m in s.get("mounts") or () if m.get("type", "volume") == "volume"})
            for volume in volumes:
                self._run(ctx, ["volume", "rm", "-f", volume], hidden=True)
        images = _docker(["images", "-q", app["uuid"]], timeout=30).stdout.split()
        if images:
            self._run(ctx, ["rmi", "-f"] + sorted(set(images)), hidden=True)

    def status(self, app):
        services = app.get("services") or []
        found = self._inspect([s["container"] for s in services])
        states = []
        for service in services:
            state = (found.get(service["container"]) or {}).get("State") or {}
            health = (state.get("Health") or {}).get("Status")
            if not state.get("Running"):
                states.append("exited")
            elif health in (None, "healthy") or not service.get("listen"):
                states.append("healthy")
            elif health == "starting" and _health_interval(service) and _answers_healthy(service["listen"]):
                states.append("healthy")
            elif health == "starting":
                states.append("starting")
            else:
                states.append("unhealthy")
        if not states or all(s == "exited" for s in states):
            return "exited"
        if all(s == "healthy" for s in states):
            return "running:healthy"
        if "exited" in states:
            return "degraded:unhealthy"
        if "unhealthy" in states:
            return "running:unhealthy"
        return "starting:unknown"

    def current_commit(self, app):
        """The commit label of the app's running containers (None before the first deployment)."""
        services = app.get("services") or []
        found = self._inspect([s["container"] for s in services])
        for service in services:
            info = found.get(service["container"]) or {}
            if (info.get("State") or {}).get("Running"):
                commit = ((info.get("Config") or {}).get("Labels") or {}).get("clawd.coolify.commit")
                if commit:
                    return commit
        return None

    def rollback_images(self, app):
        proc = _docker(["images", "--format", "{{json .}}", app["uuid"]], timeout=30)
        current = self.current_commit(app)
        images = []
        for line in proc.stdout.splitlines():
            try:
                item = json.loads(line)
            except ValueError:
                continue
            tag = item.get("Tag")
            if not tag or tag == "<none>":
                continue
            images.append({"tag": tag, "created_at": item.get("CreatedAt", ""), "is_current": tag == current})
        return current, images


def make_engine(config):
    """The engine named by config ``engine`` ("docker", default, or "simulated")."""
    kind = config.get("engine", "docker")
    if kind == "simulated":
        return SimulatedEngine(config.get("simulated_step_seconds", 0.2))
    if kind == "docker":
        return DockerEngine(config.get("health_timeout", 60), config.get("candidate_port_offset", 10000),
                            config.get("health_poll_interval", 0.5))
    raise ValueError("coolify: engine must be docker or simulated, not %r" % (kind,))
