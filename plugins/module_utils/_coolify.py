# -*- coding: utf-8 -*-
# Copyright (c) 2026, clawd.ops contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function
__metaclass__ = type

# Client of the Coolify v4 API for the collection's coolify_* modules (private to the collection).
#
# The contract is /work/shared/specs/README.md, section 1 (it corrects the OpenAPI spec in places):
# POST for /deploy and the rollback, ``force`` sent only when true, GET /deployments/applications/{uuid}
# answering ``{"count": N, "deployments": [...]}``, the rollback endpoints only from 4.3.0 on.
#
# Retries belong to the Transport: GET and PATCH (which sets fields to given values, so repeating it
# is harmless) are retried after 429/502/503/504 and connection errors; POST /deploy and POST
# .../rollback are NOT repeated after a 5xx or a dropped answer, because Coolify may already have
# queued the deployment and a repeat would queue a second one. They are repeated after a 429 (Coolify
# answers it, with Retry-After, when its queue is full: nothing was queued) and after a refused
# connection (urllib3 repeats connection errors whatever the method: the request never left).
#
# The pure helpers (status parsing, version comparison, log parsing, choosing the previous commit)
# are plain functions of plain data so that they can be tested with dicts.

import json
import re
import time

from ansible_collections.clawd.ops.plugins.module_utils._time import parse_time
from ansible_collections.clawd.ops.plugins.module_utils._transport import (
    ServiceError,
    Transport,
    TransportError,
    fail_with,
    transport_argument_spec,
    transport_options,
)

API_PREFIX = '/api/v1'
ROLLBACK_API_SINCE = (4, 3, 0)
TERMINAL_STATUSES = ('finished', 'failed', 'cancelled-by-user')
FAILED_STATUSES = ('failed', 'cancelled-by-user')
RUNNING_STATUSES = ('queued', 'in_progress')
LOGS_NEED_SENSITIVE = ('deployment logs are only returned to a token with the read:sensitive or root ability; '
                       'use such a token to see why it failed')
# Fields of an application worth returning (the full object is large and holds settings).
APPLICATION_FIELDS = ('uuid', 'name', 'description', 'fqdn', 'status', 'build_pack', 'git_repository', 'git_branch',
                      'git_commit_sha', 'docker_registry_image_name', 'docker_registry_image_tag', 'updated_at')
_SHORT_SHA = 7


def coolify_argument_spec():
    """The connection options every coolify_* module takes (doc fragments clawd.ops.coolify and clawd.ops.transport)."""
    return transport_argument_spec(
        api_url=dict(type='str', required=True),
        api_token=dict(type='str', required=True, no_log=True),
    )


class CoolifyError(ServiceError):
    """A Coolify call failed; ``message`` reads "Failed to <verb> <thing>: <cause>" and holds no secret.

    Coolify has no error codes: ``vendor_code`` stays None, ``api_message`` (``vendor_message``) is its ``message``.
    """

    def __init__(self, message, status=None, api_message=None):
        super(CoolifyError, self).__init__(message, status=status, vendor_message=api_message)

    @property
    def api_message(self):
        """Coolify's own ``message`` of the answer, or None."""
        return self.vendor_message


# ---------------------------------------------------------------------------- pure helpers


def api_url(url):
    """The API base URL for an instance URL: ``/api/v1`` appended unless already there."""
    url = (url or '').rstrip('/')
    if url.endswith(API_PREFIX):
        return url
    if url.endswith('/api'):
        return url + '/v1'
    return url + API_PREFIX


def error_cause(status, body, fallback):
    """``HTTP <status>: <message>`` from a Coolify error body (message, error, validation errors), else ``fallback``."""
    if status is None:
        return fallback
    try:
        data = json.loads(body) if body else None
    except ValueError:
        data = None
    if not isinstance(data, dict) or not data.get('message'):
        text = (body or '').strip()
        return 'HTTP %d: %s' % (status, text[:300] if text else '(empty body)')
    parts = [str(data['message']).rstrip('.') if data.get('error') or data.get('errors') else str(data['message'])]
    if data.get('error'):
        parts.append(str(data['error']))
    errors = data.get('errors')
    if isinstance(errors, dict):
        for key in sorted(errors):
            value = errors[key]
            text = '; '.join(str(v) for v in value) if isinstance(value, list) else str(value)
            parts.append('%s: %s' % (key, text))
    conflicts = data.get('conflicts')
    if isinstance(conflicts, list):
        # 409 "Domain conflicts detected.": say which domain and which resource holds it.
        parts.extend(str(c.get('message') or c.get('domain')) for c in conflicts if isinstance(c, dict))
    return 'HTTP %d: %s' % (status, ': '.join(parts))


def parse_status(status):
    """``(state, health)`` from an application status such as ``running:healthy``; health is ``unknown`` when absent."""
    text = (status or '').strip()
    if not text:
        return ('unknown', 'unknown')
    state, _sep, health = text.partition(':')
    return (state, health or 'unknown')


def is_healthy(status):
    """Whether an application status means running and healthy."""
    return parse_status(status) == ('running', 'healthy')


def parse_version(text):
    """``(major, minor, patch, is_release)`` from ``4.3.10``, ``v4.3.10`` or ``4.0.0-beta.474``; None if unreadable.

    ``is_release`` is 0 for a pre-release, so that ``4.3.0-beta.1`` sorts before ``4.3.0``.
    """
    match = re.match(r'^\s*v?(\d+)(?:\.(\d+))?(?:\.(\d+))?(\S*)\s*$', text or '')
    if not match:
        return None
    major, minor, patch, rest = match.groups()
    return (int(major), int(minor or 0), int(patch or 0), 0 if rest.startswith('-') else 1)


def version_at_least(text, minimum):
    """Whether version ``text`` is ``minimum`` (a tuple of 3 ints) or later; False when unreadable."""
    parsed = parse_version(text)
    if parsed is None:
        return False
    return parsed >= tuple(minimum) + (1,)


def has_rollback_api(version):
    """Whether a Coolify of this version has POST /applications/{uuid}/rollback (4.3.0 and later)."""
    return version_at_least(version, ROLLBACK_API_SINCE)


def same_commit(one, other):
    """Whether two commit references name the same commit (a short SHA of 7+ characters matches its full SHA)."""
    if not one or not other:
        return False
    one, other = str(one).strip().lower(), str(other).strip().lower()
    if one == other:
        return True
    shorter, longer = sorted((one, other), key=len)
    return len(shorter) >= _SHORT_SHA and re.match(r'^[0-9a-f]+$', longer) is not None and longer.startswith(shorter)


def is_specific_commit(commit):
    """Whether a deployment's commit names a commit (``HEAD`` or empty means "the branch head at the time")."""
    return bool(commit) and str(commit).strip().upper() != 'HEAD'


def newest_finished(deployments):
    """The newest finished deployment of a history listed newest first, or None."""
    for deployment in deployments or ():
        if deployment.get('status') == 'finished':
            return deployment
    return None


def previous_commit(deployments, current=None):
    """The commit to roll back to: the newest finished deployment's commit other than the current one.

    ``deployments`` is the history newest first (GET /deployments/applications/{uuid}). The current
    commit is ``current`` if given, else the newest deployment's, whatever its status: after a
    failed (or finished but unhealthy) release C on top of B, "previous" is B. Failed, cancelled,
    queued and running deployments are skipped, and so are those without a specific commit
    (``HEAD``). Returns None when there is no such deployment.
    """
    deployments = [d for d in deployments or () if isinstance(d, dict)]
    if current is None:
        current = next((d.get('commit') for d in deployments if is_specific_commit(d.get('commit'))), None)
    for deployment in deployments:
        if deployment.get('status') == 'finished' and is_specific_commit(deployment.get('commit')) \
                and not same_commit(deployment.get('commit'), current):
            return deployment.get('commit')
    return None


def parse_logs(logs):
    """The entries of a deployment's ``logs`` (a JSON string of [{command, output, type, hidden, order, ...}]), in order."""
    if not logs:
        return []
    if isinstance(logs, str):
        try:
            logs = json.loads(logs)
        except ValueError:
            return [{'output': line, 'hidden': False} for line in logs.splitlines()]
    if not isinstance(logs, list):
        return []
    entries = [e for e in logs if isinstance(e, dict)]
    return sorted(entries, key=lambda e: (_number(e.get('batch')), _number(e.get('order'))))


def logs_tail(logs, lines=30):
    """The last ``lines`` non-empty output lines of a deployment's logs, hidden entries left out."""
    out = []
    for entry in parse_logs(logs):
        if _truthy(entry.get('hidden')):
            continue
        for line in str(entry.get('output') or '').splitlines():
            if line.strip():
                out.append(line.rstrip())
    return out[-lines:] if lines > 0 else []


def failure_line(logs):
    """The line that best says why a deployment failed: the last non-hidden stderr line, else the last line; None if no logs."""
    last = None
    for entry in parse_logs(logs):
        if _truthy(entry.get('hidden')):
            continue
        lines = [line.rstrip() for line in str(entry.get('output') or '').splitlines() if line.strip()]
        if lines and entry.get('type') == 'stderr':
            last = ('stderr', lines[-1])
        elif lines and (last is None or last[0] != 'stderr'):
            last = ('stdout', lines[-1])
    return last[1] if last else None


def deployment_duration(deployment):
    """Seconds from a deployment's creation to its end (``finished_at``, else ``updated_at``); None if unknown."""
    start = parse_time(deployment.get('created_at'))
    end = parse_time(deployment.get('finished_at')) or parse_time(deployment.get('updated_at'))
    if start is None or end is None or end < start:
        return None
    return round((end - start).total_seconds(), 3)


def summarize_application(application):
    """The fields of an application worth returning."""
    return dict((k, application.get(k)) for k in APPLICATION_FIELDS if k in application)


def summarize_deployment(deployment, tail_lines=None):
    """A deployment without its raw logs (and with ``logs_tail`` when ``tail_lines`` is given)."""
    summary = dict((k, v) for k, v in deployment.items() if k not in ('logs', 'configuration_snapshot', 'configuration_diff'))
    summary['duration'] = deployment_duration(deployment)
    if tail_lines is not None:
        summary['logs_tail'] = logs_tail(deployment.get('logs'), tail_lines) if 'logs' in deployment else []
        summary['logs_available'] = 'logs' in deployment
    return summary


def poll_intervals(start, maximum, factor=1.5):
    """Endless waits between polls: ``start``, then times ``factor`` each time, never above ``maximum``."""
    wait = float(start)
    while True:
        yield min(wait, float(maximum))
        wait = min(wait * factor, float(maximum))


def _stamp(text):
    """Epoch seconds of a Coolify time, 0 when it cannot be read."""
    moment = parse_time(text)
    return moment.timestamp() if moment is not None else 0


def _number(value):
    try:
        return float(value)
    except (TypeError, ValueError):
        return 0.0


def _truthy(value):
    return value is True or (isinstance(value, (int, float)) and value != 0) or str(value).lower() in ('true', '1')


# ---------------------------------------------------------------------------- planning


def plan_deploy(client, app, commit=None, docker_tag=None, rollback=None, redeploy=False, history_size=20):
    """What coolify_deploy should do for one application, without changing anything.

    Returns ``{mode: deploy|rollback|skip, commit, method: deploy|rollback_api|none, update: {field: value}, applications,
    message (skip only)}``; ``update`` holds the application fields to PATCH before deploying. Raises CoolifyError when
    the target cannot be deployed (no previous commit, no rollback image, docker_tag on an application built from git).
    """
    params = {'commit': commit, 'docker_tag': docker_tag, 'rollback': rollback, 'redeploy': redeploy, 'history_size': history_size}
    name, uuid = app.get('name') or app.get('uuid'), app.get('uuid')
    docker_app = app.get('build_pack') == 'dockerimage'
    field = 'docker_registry_image_tag' if docker_app else 'git_commit_sha'
    kind, target = next(((k, params[k]) for k in ('commit', 'docker_tag', 'rollback') if params[k]), (None, None))
    plan = {'mode': 'deploy', 'commit': target or app.get(field) or 'HEAD', 'method': 'deploy', 'update': {}, 'applications': [name]}
    if kind is None:
        return plan
    if kind == 'docker_tag' and not docker_app:
        raise CoolifyError('Failed to deploy image tag %s of application %s: docker_tag is for Docker image applications, '
                           'this one builds with %s' % (target, name, app.get('build_pack')))
    history = client.deployments(uuid, take=params['history_size'])[1]
    if kind == 'rollback':
        plan['mode'] = 'rollback'
        if target == 'previous':
            if docker_app:
                raise CoolifyError('Failed to roll back application %s: rollback=previous needs commit history, name the image '
                                   'tag of this Docker image application instead' % name)
            target = previous_commit(history)
            if target is None:
                raise CoolifyError('Failed to roll back application %s: no finished deployment with another commit in its last %d '
                                   'deployments' % (name, params['history_size']))
        if not docker_app and has_rollback_api(client.version()):
            images = client.rollback_images(uuid)['images']
            tag = next((i.get('tag') for i in images if same_commit(i.get('tag'), target)), None)
            if tag is None:
                raise CoolifyError('Failed to roll back application %s to %s: Coolify has no image built from that commit '
                                   '(rollback images: %s)' % (name, target, ', '.join(i.get('tag') or '?' for i in images) or 'none'))
            target, plan['method'] = tag, 'rollback_api'
    plan['commit'] = target
    if plan['method'] == 'deploy' and not (app.get(field) == target or (target == 'HEAD' and not app.get(field))):
        plan['update'] = {field: target}
    newest = newest_finished(history)
    if params['redeploy'] or target == 'HEAD' or newest is None or not is_healthy(app.get('status')):
        return plan
    if docker_app:
        current = app.get(field) == target and _stamp(newest.get('updated_at')) >= _stamp(app.get('updated_at'))
    else:
        current = same_commit(newest.get('commit'), target)
    if current:
        # Already running healthy: only the pin that O(commit) asks for may be missing.
        update = plan['update'] if kind == 'commit' else {}
        plan.update(mode='skip', method='none', update=update, message='Application %s already runs %s (deployment %s) and is healthy%s.' % (
            name, target, newest.get('deployment_uuid'), '; pinned it to that commit' if update else ', nothing to do'))
    return plan


# ---------------------------------------------------------------------------- client


class CoolifyClient:
    """The Coolify endpoints the modules use. Every failure is a CoolifyError "Failed to <verb> <thing>: <cause>"."""

    def __init__(self, url, token, timeout=10, verify=True, retries=3, **transport_options):
        self.transport = Transport(api_url(url), headers={'Authorization': 'Bearer %s' % token, 'Accept': 'application/json'},
                                   timeout=timeout, verify=verify, retries=retries, secrets=(token,), **transport_options)

    @classmethod
    def from_module(cls, module):
        """A client from a module's connection options."""
        params = module.params
        return cls(params['api_url'], params['api_token'], **transport_options(params))

    @classmethod
    def run_module(cls, module, action):
        """Exit ``module`` with ``action(client)``'s result, or fail it with fail_with() (msg, status_code).

        A client from the module's options, closed afterwards.
        """
        client = cls.from_module(module)
        try:
            result = action(client)
        except CoolifyError as exc:
            fail_with(module, exc)
        finally:
            client.close()
        module.exit_json(**result)

    # ------------------------------------------------------------------ calls

    def _call(self, what, method, path, expected=(200,), **kwargs):
        try:
            return self.transport.request(method, path, expected=expected, **kwargs)
        except TransportError as exc:
            cause = error_cause(exc.status, exc.body, exc.message)
            api_message = _message_of(exc.body) if exc.status is not None else None
            raise CoolifyError('Failed to %s: %s' % (what, cause), status=exc.status, api_message=api_message)

    def _json(self, what, method, path, kind=dict, **kwargs):
        response = self._call(what, method, path, **kwargs)
        try:
            data = response.json()
        except TransportError as exc:
            raise CoolifyError('Failed to %s: %s' % (what, exc.message), status=response.status)
        if not isinstance(data, kind):
            raise CoolifyError('Failed to %s: %s answered %s, expected a JSON %s' % (
                what, response.url, type(data).__name__, 'object' if kind is dict else 'array'), status=response.status)
        return data

    # ------------------------------------------------------------------ read

    def version(self):
        """The Coolify version, e.g. ``4.3.10`` (GET /version answers plain text)."""
        text = self._call('read the Coolify version', 'GET', 'version').text.strip()
        return text[1:] if text.startswith('v') else text

    def application(self, uuid):
        return self._json('read application %s' % uuid, 'GET', 'applications/%s' % uuid)

    def applications(self, tag=None):
        params = {'tag': tag} if tag else None
        what = 'list applications tagged %s' % tag if tag else 'list applications'
        return self._json(what, 'GET', 'applications', kind=list, params=params)

    def deployment(self, deployment_uuid):
        return self._json('read deployment %s' % deployment_uuid, 'GET', 'deployments/%s' % deployment_uuid)

    def deployments(self, app_uuid, take=10, skip=0):
        """``(count, deployments newest first)`` of an application (a bare array is accepted too, as the OpenAPI spec says)."""
        what = 'list deployments of application %s' % app_uuid
        response = self._call(what, 'GET', 'deployments/applications/%s' % app_uuid, params={'take': take, 'skip': skip})
        try:
            data = response.json()
        except TransportError as exc:
            raise CoolifyError('Failed to %s: %s' % (what, exc.message), status=response.status)
        if isinstance(data, list):
            return len(data), data
        if isinstance(data, dict) and isinstance(data.get('deployments'), list):
            return data.get('count', len(data['deployments'])), data['deployments']
        raise CoolifyError('Failed to %s: unexpected answer %s' % (what, type(data).__name__), status=response.status)

    def rollback_images(self, app_uuid):
        """``{"current": tag or None, "images": [{tag, created_at, is_current}]}`` (Coolify 4.3 and later)."""
        data = self._json('list rollback images of application %s' % app_uuid, 'GET', 'applications/%s/rollback-images' % app_uuid)
        images = data.get('images') if isinstance(data.get('images'), list) else []
        return {'current': data.get('current'), 'images': [i for i in images if isinstance(i, dict)]}

    def envs(self, app_uuid):
        return self._json('read environment variables of application %s' % app_uuid, 'GET', 'applications/%s/envs' % app_uuid, kind=list)

    # ------------------------------------------------------------------ write

    def update_application(self, app_uuid, fields, name=None):
        """PATCH whitelisted application fields (repeating it is harmless, so it is retried like a GET)."""
        what = 'update application %s (%s)' % (name or app_uuid, ', '.join(sorted(fields)))
        return self._json(what, 'PATCH', 'applications/%s' % app_uuid, json=fields, retry=True)

    def deploy(self, uuid=None, tag=None, force=False):
        """POST /deploy; returns ``[{"resource_uuid", "deployment_uuid", "message"}]`` (one per resource).

        Not repeated after a 5xx or a lost answer (it may have queued a deployment); repeated after a 429.
        """
        body = {'uuid': uuid} if uuid else {'tag': tag}
        if force:
            body['force'] = True
        what = 'deploy %s' % ('application %s' % uuid if uuid else 'applications tagged %s' % tag)
        data = self._json(what, 'POST', 'deploy', json=body, retry=False)
        if isinstance(data.get('deployments'), list):
            return [d for d in data['deployments'] if isinstance(d, dict)]
        details = data.get('details') if isinstance(data.get('details'), list) else []
        messages = data.get('message') if isinstance(data.get('message'), list) else []
        out = []
        for index, detail in enumerate(d for d in details if isinstance(d, dict)):
            entry = dict(detail)
            if index < len(messages):
                entry.setdefault('message', messages[index])
            out.append(entry)
        if not out and data.get('message'):
            # Nothing queued (for example "No resources found with this tag."): report it as an answer.
            raise CoolifyError('Failed to %s: %s' % (what, data['message'] if isinstance(data['message'], str) else '; '.join(messages)))
        return out

    def rollback(self, app_uuid, commit, name=None):
        """POST /applications/{uuid}/rollback (4.3+); returns the answer with ``deployment_uuid``. Repeated only after a 429."""
        what = 'roll back application %s to %s' % (name or app_uuid, commit)
        return self._json(what, 'POST', 'applications/%s/rollback' % app_uuid, json={'commit': commit}, retry=False)

    def update_envs(self, app_uuid, data, name=None):
        """PATCH /applications/{uuid}/envs/bulk (an upsert by key); answers 201 with the variables."""
        what = 'update environment variables of application %s' % (name or app_uuid)
        return self._json(what, 'PATCH', 'applications/%s/envs/bulk' % app_uuid, kind=list, json={'data': data},
                          expected=(200, 201), retry=True)

    def delete_env(self, app_uuid, env_uuid, key=None, name=None):
        what = 'delete environment variable %s of application %s' % (key or env_uuid, name or app_uuid)
        return self._call(what, 'DELETE', 'applications/%s/envs/%s' % (app_uuid, env_uuid))

    def cancel_deployment(self, deployment_uuid):
        """POST /deployments/{uuid}/cancel (a queued or running deployment; Coolify answers 400 for one that ended).

        Repeating it is harmless (the second answer is a 400), so it is retried like a GET."""
        return self._json('cancel deployment %s' % deployment_uuid, 'POST', 'deployments/%s/cancel' % deployment_uuid, retry=True)

    def cancel_unfinished(self, deployment_uuids, seen):
        """Cancel each deployment that has not ended, then read it again; returns ``(cancelled uuids, problems)``.

        ``seen`` (deployments by uuid, as last read) is updated with what Coolify says after the cancel. A
        deployment that ended meanwhile (Coolify answers 400) is not an error: its new status is read.
        ``problems`` are the messages of the cancels that failed otherwise (the deployment may still go live)."""
        cancelled, problems = [], []
        for uuid in deployment_uuids:
            try:
                answer = self.cancel_deployment(uuid)
            except CoolifyError as exc:
                if exc.status != 400:
                    problems.append(str(exc))
                    continue
                answer = None
            try:
                seen[uuid] = self.deployment(uuid)
            except CoolifyError as exc:
                if answer is None:
                    problems.append(str(exc))
                    continue
                # Coolify took the cancel but cannot be read now: its answer says how the deployment ended.
                seen[uuid] = dict(seen.get(uuid) or {'deployment_uuid': uuid}, status=answer.get('status') or 'cancelled-by-user')
            if seen[uuid].get('status') == 'cancelled-by-user':
                cancelled.append(uuid)
            elif seen[uuid].get('status') not in TERMINAL_STATUSES:
                problems.append('Deployment %s is still %s after it was cancelled' % (uuid, seen[uuid].get('status')))
        return cancelled, problems

    # ------------------------------------------------------------------ waiting

    def wait_for(self, deployment_uuids, timeout, start_interval=2, max_interval=10, sleep=time.sleep, clock=time.monotonic):
        """Poll deployments until each one ends; returns ``(deployments by uuid, timed_out)``.

        Polls every ``start_interval`` seconds, backing off by 1.5 up to ``max_interval``. A deployment
        still running when ``timeout`` seconds have passed is returned as last seen, with timed_out True.
        """
        deadline = clock() + timeout
        seen = {}
        pending = list(deployment_uuids)
        waits = poll_intervals(start_interval, max_interval)
        while True:
            for uuid in list(pending):
                seen[uuid] = self.deployment(uuid)
                if seen[uuid].get('status') in TERMINAL_STATUSES:
                    pending.remove(uuid)
            if not pending:
                return seen, False
            left = deadline - clock()
            if left <= 0:
                return seen, True
            sleep(min(next(waits), left))

    # ------------------------------------------------------------------ projects, environments, servers, applications

    def projects(self):
        return self._json('list projects', 'GET', 'projects', kind=list)

    def project(self, uuid):
        """A project with its ``environments``."""
        return self._json('read project %s' % uuid, 'GET', 'projects/%s' % uuid)

    def create_project(self, name, description=None):
        """POST /projects; returns the new project's uuid. Not repeated after a 5xx (it may have created it)."""
        body = {'name': name}
        if description is not None:
            body['description'] = description
        data = self._json('create project %s' % name, 'POST', 'projects', json=body, expected=(201,), retry=False)
        return data.get('uuid')

    def delete_project(self, uuid, name=None):
        return self._json('delete project %s' % (name or uuid), 'DELETE', 'projects/%s' % uuid, retry=True)

    def create_environment(self, project_uuid, name):
        """POST /projects/{uuid}/environments; returns the new environment's uuid."""
        data = self._json('create environment %s in project %s' % (name, project_uuid), 'POST', 'projects/%s/environments' % project_uuid,
                          json={'name': name}, expected=(201,), retry=False)
        return data.get('uuid')

    def servers(self):
        return self._json('list servers', 'GET', 'servers', kind=list)

    def create_application(self, fields, name=None):
        """POST /applications/public (a public git repository); returns the new application's uuid.

        Not repeated after a 5xx or a lost answer: Coolify may have created it, and a repeat would make a second one."""
        what = 'create application %s' % (name or fields.get('name') or fields.get('git_repository'))
        data = self._json(what, 'POST', 'applications/public', json=fields, expected=(201,), retry=False)
        return data.get('uuid')

    def delete_application(self, uuid, delete_volumes=False, name=None):
        """DELETE /applications/{uuid}: its containers go; its volumes too only when ``delete_volumes``."""
        params = {'delete_volumes': 'true' if delete_volumes else 'false', 'delete_configurations': 'true', 'docker_cleanup': 'true'}
        return self._json('delete application %s' % (name or uuid), 'DELETE', 'applications/%s' % uuid, params=params, retry=True)

    def close(self):
        self.transport.close()


def _message_of(body):
    try:
        data = json.loads(body) if body else None
    except ValueError:
        return None
    return data.get('message') if isinstance(data, dict) else None
