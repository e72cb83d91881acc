# -*- coding: utf-8 -*-
# Copyright (c) 2026, clawd.ops contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""A safe Docker cleanup: the plan (what would be removed, why, how many bytes it frees) and its execution.

The plan is computed by pure functions from what the engine's ``/system/df`` answers (images, containers,
volumes, build cache) and is unit-tested with plain dicts. Rules:

- A candidate (container, image, anonymous volume) must carry every label of the scope (``name`` or ``name=value``).
- Stopped containers (exited, created, dead) older than the minimum age are removed, never one carrying the keep marker (a Docker label).
- Images used by a container that stays (running or not) are protected, and so are the newest N images of each
  repository that matches an app image pattern (the images a rollback needs), and parents of images that stay.
- Dangling images are removed; older images of app repositories beyond the newest N are removed; other unused
  tagged images only when asked.
- Named volumes are never removed; unused ones are listed. Unused anonymous volumes are removed only when asked.
- The build cache carries no labels, so with a scope it is only measured, never pruned.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import calendar
import fnmatch
import re
import time

# HAS_DOCKER and DOCKER_IMPORT_ERROR are imported from here by the modules that use this file.
from ansible_collections.clawd.ops.plugins.module_utils._docker import (  # pylint: disable=unused-import
    DOCKER_IMPORT_ERROR,
    HAS_DOCKER,
    docker,
)

STOPPED_STATES = ('exited', 'created', 'dead')
NONE_TAG = '<none>:<none>'
ANONYMOUS_VOLUME = re.compile(r'^[0-9a-f]{64}$')
HOUR = 3600.0


class CleanupError(Exception):
    """The engine could not be read or a removal failed; the message says what and why."""


def parse_scope(items):
    """['key', 'key=value'] -> [(key, None), (key, value)]; raises CleanupError on an empty key."""
    parsed = []
    for item in items or []:
        key, sep, value = str(item).partition('=')
        key = key.strip()
        if not key:
            raise CleanupError('scope entry %r has no label name' % (item,))
        parsed.append((key, value if sep else None))
    return parsed


def labels_match(labels, scope):
    """True when the labels carry every (key, value) of the parsed scope (value None: the key is enough)."""
    labels = labels or {}
    for key, value in scope:
        if key not in labels:
            return False
        if value is not None and labels[key] != value:
            return False
    return True


def repository_of(tag):
    """'repo:tag' -> 'repo' (a registry port stays in the repository: 'host:5000/app:1' -> 'host:5000/app')."""
    head, sep, tail = tag.rpartition(':')
    if not sep or '/' in tail:
        return tag
    return head


def image_tags(image):
    return [tag for tag in (image.get('RepoTags') or []) if tag and tag != NONE_TAG]


def unique_size(image):
    """Bytes that removing the image frees: its size minus the layers it shares (when the engine computed them)."""
    size = image.get('Size') or 0
    shared = image.get('SharedSize')
    if isinstance(shared, int) and shared >= 0:
        return max(size - shared, 0)
    return size


def container_name(container):
    names = container.get('Names') or []
    return names[0].lstrip('/') if names else container.get('Id', '')[:12]


def container_age_hours(container, now):
    """Hours since the container finished (FinishedAt epoch, when known and set) or else since it was created."""
    finished = container.get('FinishedAt')
    since = finished if isinstance(finished, (int, float)) and finished > 0 else container.get('Created') or now
    return max((now - since) / HOUR, 0.0)


def _volume_names(container):
    return [mount.get('Name') for mount in container.get('Mounts') or [] if mount.get('Type') == 'volume' and mount.get('Name')]


def plan_containers(containers, now, scope, keep_marker, min_age_hours, enabled=True):
    """(remove, keep_reasons): stopped containers to remove, each with its reason; reasons for those kept that matched."""
    remove = []
    for container in containers:
        if not enabled or container.get('State') not in STOPPED_STATES:
            continue
        labels = container.get('Labels') or {}
        if not labels_match(labels, scope) or (keep_marker and keep_marker in labels):
            continue
        age = container_age_hours(container, now)
        if age < min_age_hours:
            continue
        remove.append({'id': container.get('Id'), 'name': container_name(container), 'image': container.get('Image'),
                       'state': container.get('State'), 'age_hours': round(age, 1), 'bytes': container.get('SizeRw') or 0,
                       'reason': '%s for %.1f h (at least %s h)' % (container.get('State'), age, min_age_hours)})
    return remove


def plan_images(images, staying_containers, scope, app_patterns, keep_app_images,
                dangling=True, app_images=True, unused=False):
    """(remove, protected): images to remove with their reasons, and every protected image with why."""
    used = {}
    for container in staying_containers:
        used.setdefault(container.get('ImageID'), []).append(container_name(container))
    protected = {}

    def protect(image_id, reason):
        protected.setdefault(image_id, []).append(reason)

    for image_id, names in used.items():
        protect(image_id, 'used by container %s' % ', '.join(sorted(names)))
    # The newest N images of each app repository (by creation time) are what a rollback needs.
    by_repo = {}
    for image in images:
        for tag in image_tags(image):
            repo = repository_of(tag)
            if any(fnmatch.fnmatchcase(repo, pattern) for pattern in app_patterns):
                by_repo.setdefault(repo, {})[image['Id']] = image
    for repo, members in by_repo.items():
        newest = sorted(members.values(), key=lambda item: (item.get('Created') or 0, item['Id']), reverse=True)
        for image in newest[:max(keep_app_images, 0)]:
            protect(image['Id'], 'one of the newest %d images of %s' % (keep_app_images, repo))
    remove = []
    removed_ids = set()
    for image in sorted(images, key=lambda item: (item.get('Created') or 0, item['Id'])):
        if image['Id'] in protected or not labels_match(image.get('Labels'), scope):
            continue
        tags = image_tags(image)
        repos = sorted(set(repository_of(tag) for tag in tags))
        if not tags:
            if not dangling:
                continue
            reason = 'dangling (no tag, no container)'
        elif all(repo in by_repo for repo in repos):
            if not app_images:
                continue
            reason = 'older than the newest %d images of %s' % (keep_app_images, ', '.join(repos))
        else:
            if not unused:
                continue
            reason = 'unused by any container'
        remove.append({'id': image['Id'], 'tags': tags, 'bytes': unique_size(image), 'reason': reason})
        removed_ids.add(image['Id'])
    # An image that another image that stays is built on cannot go (the engine refuses it anyway).
    parents = set(image.get('ParentId') for image in images if image['Id'] not in removed_ids and image.get('ParentId'))
    kept_back = [item for item in remove if item['id'] in parents]
    for item in kept_back:
        protect(item['id'], 'parent of an image that stays')
    remove = [item for item in remove if item['id'] not in parents]
    return remove, protected


def plan_volumes(volumes, staying_containers, scope, prune_anonymous=False):
    """(remove, unused_named): unused anonymous volumes to remove (only when asked), unused named volumes (listed only)."""
    in_use = set()
    for container in staying_containers:
        in_use.update(_volume_names(container))
    remove, unused_named = [], []
    for volume in sorted(volumes, key=lambda item: item.get('Name', '')):
        name = volume.get('Name', '')
        if name in in_use:
            continue
        size = ((volume.get('UsageData') or {}).get('Size'))
        size = size if isinstance(size, int) and size >= 0 else 0
        entry = {'name': name, 'bytes': size}
        if ANONYMOUS_VOLUME.match(name):
            if prune_anonymous and labels_match(volume.get('Labels'), scope):
                remove.append(dict(entry, reason='anonymous and unused'))
        else:
            unused_named.append(entry)
    return remove, unused_named


def plan_build_cache(records, now, scope, min_age_hours, enabled=True):
    """{enabled, prune, bytes, entries, reason}: the unused build cache older than the minimum age."""
    if not enabled:
        return {'prune': False, 'bytes': 0, 'entries': 0, 'reason': 'build cache cleanup is off'}
    old = []
    for record in records or []:
        if record.get('InUse') or record.get('Shared'):
            continue
        last = _epoch(record.get('LastUsedAt') or record.get('CreatedAt'))
        if last is not None and (now - last) / HOUR < min_age_hours:
            continue
        old.append(record)
    size = sum(record.get('Size') or 0 for record in old)
    if scope:
        return {'prune': False, 'bytes': 0, 'entries': len(old), 'unlabelled_bytes': size,
                'reason': 'the build cache carries no labels: with a scope it is measured (%d bytes), not pruned' % size}
    return {'prune': bool(old), 'bytes': size, 'entries': len(old),
            'until': '%dh' % max(int(min_age_hours), 0),
            'reason': '%d unused build cache record(s) older than %s h' % (len(old), min_age_hours)}


def _epoch(value):
    """RFC 3339 (as the engine writes it, nanoseconds included) or a number -> epoch seconds; None when unreadable."""
    if isinstance(value, (int, float)):
        return float(value)
    if not value:
        return None
    match = re.match(r'^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.\d+)?(Z|[+-]\d\d:\d\d)$', str(value))
    if not match:
        return None
    base = time.strptime(match.group(1), '%Y-%m-%dT%H:%M:%S')
    seconds = calendar.timegm(base)
    zone = match.group(2)
    if zone != 'Z':
        sign = 1 if zone[0] == '+' else -1
        seconds -= sign * (int(zone[1:3]) * 3600 + int(zone[4:6]) * 60)
    return float(seconds)


def make_plan(df, now, options):
    """The whole plan from the engine's df answer (FinishedAt filled in for stopped containers)."""
    scope = parse_scope(options.get('scope'))
    containers = df.get('Containers') or []
    remove_containers = plan_containers(containers, now, scope, options.get('keep_marker'),
                                        options.get('container_min_age_hours', 24), options.get('containers', True))
    removed = set(item['id'] for item in remove_containers)
    staying = [container for container in containers if container.get('Id') not in removed]
    remove_images, protected = plan_images(df.get('Images') or [], staying, scope, options.get('app_image_patterns') or [],
                                           options.get('keep_app_images', 5), options.get('dangling_images', True),
                                           options.get('app_images', True), options.get('unused_images', False))
    remove_volumes, unused_named = plan_volumes(df.get('Volumes') or [], staying, scope, options.get('anonymous_volumes', False))
    build_cache = plan_build_cache(df.get('BuildCache'), now, scope, options.get('build_cache_min_age_hours', 24),
                                   options.get('build_cache', True))
    images_by_id = dict((image['Id'], image) for image in df.get('Images') or [])
    plan = {
        'containers': remove_containers,
        'images': remove_images,
        'volumes': remove_volumes,
        'build_cache': build_cache,
        'protected_images': [{'id': image_id, 'tags': image_tags(images_by_id.get(image_id, {})), 'reasons': reasons}
                             for image_id, reasons in sorted(protected.items()) if image_id in images_by_id],
        'unused_named_volumes': unused_named,
    }
    plan['freed_bytes'] = (sum(item['bytes'] for item in remove_containers) + sum(item['bytes'] for item in remove_images)
                           + sum(item['bytes'] for item in remove_volumes) + build_cache['bytes'])
    plan['counts'] = {'containers': len(remove_containers), 'images': len(remove_images), 'volumes': len(remove_volumes),
                      'build_cache_entries': build_cache['entries'] if build_cache['prune'] else 0,
                      'protected_images': len(plan['protected_images']), 'unused_named_volumes': len(unused_named)}
    return plan


def plan_is_empty(plan):
    counts = plan['counts']
    return not (counts['containers'] or counts['images'] or counts['volumes'] or counts['build_cache_entries'])


def describe(plan, check_mode):
    """One line for msg: what was (or would be) removed and the bytes it frees."""
    verb = 'would remove' if check_mode else 'removed'
    counts = plan['counts']
    return ('%s %d container(s), %d image(s), %d volume(s), %d build cache record(s): %d bytes; '
            'kept %d protected image(s), %d unused named volume(s) listed only'
            % (verb, counts['containers'], counts['images'], counts['volumes'], counts['build_cache_entries'],
               plan['freed_bytes'], counts['protected_images'], counts['unused_named_volumes']))


# ---------------------------------------------------------------- talking to the engine

def client_from_env():
    """A Docker Engine API client from the environment (DOCKER_HOST, else the local socket)."""
    return docker.from_env(version='auto')


def read_engine(client):
    """The engine's df answer, with FinishedAt (epoch seconds) added to each stopped container."""
    # The engine answers one /system/df at a time; another client's (500 "a disk usage operation is already
    # running") is waited out, with backoff.
    delay = 0.5
    while True:
        try:
            df = client.api.df()
            break
        except Exception as exc:  # pylint: disable=broad-except
            if 'disk usage operation is already running' not in str(exc) or delay > 8:
                raise CleanupError('could not read the disk usage of the Docker engine: %s' % exc)
            time.sleep(delay)
            delay *= 2
    for container in df.get('Containers') or []:
        if container.get('State') in STOPPED_STATES:
            try:
                state = client.api.inspect_container(container['Id']).get('State') or {}
            except Exception:  # pylint: disable=broad-except
                continue  # removed meanwhile: judged by its creation time, and its removal finds it gone
            container['FinishedAt'] = _epoch(state.get('FinishedAt'))
    return df


def _is_not_found(exc):
    return docker is not None and isinstance(exc, docker.errors.NotFound)


def execute(client, plan):
    """Remove exactly what the plan lists; (removed, errors). Something already gone counts as removed."""
    removed = {'containers': [], 'images': [], 'volumes': [], 'build_cache_bytes': 0}
    errors = []

    def attempt(kind, what, call):
        try:
            call()
        except Exception as exc:  # pylint: disable=broad-except
            if not _is_not_found(exc):
                errors.append('Failed to remove %s %s: %s' % (kind, what, exc))
                return False
        return True

    for item in plan['containers']:
        if attempt('container', item['name'], lambda item=item: client.api.remove_container(item['id'], v=False)):
            removed['containers'].append(item['name'])
    for item in plan['images']:
        if item['tags']:
            # Untag every tag; removing the last one deletes the image (removing by id refuses several tags).
            done = True
            for tag in item['tags']:
                done = attempt('image tag', tag, lambda tag=tag: client.api.remove_image(tag, force=False)) and done
        else:
            done = attempt('image', item['id'], lambda item=item: client.api.remove_image(item['id'], force=False))
        if done:
            removed['images'].append(item['tags'][0] if item['tags'] else item['id'])
    for item in plan['volumes']:
        if attempt('volume', item['name'], lambda item=item: client.api.remove_volume(item['name'])):
            removed['volumes'].append(item['name'])
    if plan['build_cache']['prune']:
        answer = {}

        def prune():
            until = plan['build_cache'].get('until')
            if until and until != '0h':
                answer.update(client.api.prune_builds(filters={'until': until}) or {})
            else:  # no keyword: the Docker SDK before 6.0 (Debian bookworm's 5.0.3) takes no filters
                answer.update(client.api.prune_builds() or {})
        if attempt('build cache', '', prune):
            removed['build_cache_bytes'] = answer.get('SpaceReclaimed') or 0
    return removed, errors
