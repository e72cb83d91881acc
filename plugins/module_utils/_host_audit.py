# -*- coding: utf-8 -*-
# Copyright (c) 2026, clawd.ops contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The monthly security audit's readers: what a host shows, as plain data, without judging it.

- listening sockets from /proc/net/{tcp,tcp6,udp,udp6};
- local users from /etc/passwd, sudo rules from /etc/sudoers and the folders it includes;
- the effective sshd settings from ``sshd -T``, compared with the settings expected;
- a bounded walk (file count and time limits, symlinks never followed) for setuid, setgid and world-writable files;
- pending updates from ``apt-get -s dist-upgrade`` and CVE ids from ``debsecan``;
- the installed versions of the Python libraries the modules use, from their metadata (never imported), for this
  Python and, through PYTHON_VERSIONS_SCRIPT, for another one (a virtualenv's).

The judgement (ok/warning/critical) is in _host_audit_judge.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import json
import os
import platform
import re
import stat
import sys

# /proc/net socket states: TCP LISTEN, and UDP's "close" (an unconnected socket, i.e. one that receives from anyone).
_LISTEN_STATE = {'tcp': '0A', 'udp': '07'}
LOGIN_SHELL_EXCLUDED = ('nologin', 'false', 'sync', 'halt', 'shutdown')
_SUDO_SKIP = re.compile(r'^(Defaults\b|(User|Runas|Host|Cmnd|Cmd)_Alias\b)')
_SUDO_INCLUDE = re.compile(r'^[@#](include|includedir)\s+(\S+)')
_APT_INST = re.compile(r'^Inst (\S+)(?: \[([^\]]+)\])? \((\S+) ([^\[]*?)(?: \[[^\]]*\])?\)')
_CVE = re.compile(r'^(CVE-\d{4}-\d+)\s+(\S+)')
# sshd -T prints some values under other names than the ones a configuration file accepts.
SSHD_SYNONYMS = {'prohibit-password': 'without-password', 'true': 'yes', 'false': 'no'}


# ---------------------------------------------------------------- listening sockets

def _ipv4(hexaddr):
    return '.'.join(str(int(hexaddr[index:index + 2], 16)) for index in (6, 4, 2, 0))


def _ipv6(hexaddr):
    words = []
    for start in range(0, 32, 8):
        chunk = hexaddr[start:start + 8]
        # Each 32-bit word is in the host's (little-endian) byte order.
        words.append(''.join(chunk[index:index + 2] for index in (6, 4, 2, 0)))
    groups = [int(''.join(words)[index:index + 4], 16) for index in range(0, 32, 4)]
    if groups[:6] == [0, 0, 0, 0, 0, 0xffff]:
        return '::ffff:%d.%d.%d.%d' % (groups[6] >> 8, groups[6] & 255, groups[7] >> 8, groups[7] & 255)
    # The shortest form: the longest run of zero groups (two or more) becomes '::'.
    best, run = (0, 0), (0, 0)
    for index, group in enumerate(groups + [1]):
        if group == 0:
            run = (run[0], run[1] + 1) if run[1] else (index, 1)
        else:
            best = run if run[1] > best[1] else best
            run = (0, 0)
    if best[1] >= 2:
        head = ':'.join('%x' % group for group in groups[:best[0]])
        tail = ':'.join('%x' % group for group in groups[best[0] + best[1]:])
        return head + '::' + tail
    return ':'.join('%x' % group for group in groups)


def parse_proc_net(text, table):
    """Listening sockets of one /proc/net table (tcp, tcp6, udp, udp6): [{proto, address, port}] in file order."""
    proto = 'udp' if table.startswith('udp') else 'tcp'
    found = []
    for line in text.splitlines()[1:]:
        fields = line.split()
        if len(fields) < 4 or fields[3].upper() != _LISTEN_STATE[proto]:
            continue
        address, _sep, port = fields[1].rpartition(':')
        try:
            found.append({'proto': proto, 'address': _ipv6(address) if len(address) == 32 else _ipv4(address),
                          'port': int(port, 16)})
        except ValueError:
            continue
    return found


def is_loopback(address):
    return address.startswith('127.') or address in ('::1', 'localhost') or address.startswith('::ffff:127.')


def exposed(listeners, own_addresses=()):
    """The listeners another machine could reach: all but loopback ones, except the host's own (loopback) addresses."""
    own = set(own_addresses or ())
    return [item for item in listeners if item['address'] in own or not is_loopback(item['address'])]


def _port_key(item):
    text = str(item).strip().lower()
    port, _sep, proto = text.partition('/')
    return int(port), proto or None


def unexpected_ports(listeners, expected):
    """[{proto, port, addresses}] of the listeners whose port is not expected ('22', 22 or '22/tcp'; no protocol: both)."""
    allowed = [_port_key(item) for item in expected or ()]
    grouped = {}
    for item in listeners:
        if any(port == item['port'] and proto in (None, item['proto']) for port, proto in allowed):
            continue
        entry = grouped.setdefault((item['proto'], item['port']), [])
        if item['address'] not in entry:
            entry.append(item['address'])
    return [{'proto': proto, 'port': port, 'addresses': sorted(addresses)} for (proto, port), addresses in sorted(grouped.items())]


# ---------------------------------------------------------------- users and sudo

def parse_passwd(text):
    """/etc/passwd as [{name, uid, gid, home, shell}]; malformed lines are left out."""
    users = []
    for line in text.splitlines():
        fields = line.split(':')
        if len(fields) != 7:
            continue
        try:
            users.append({'name': fields[0], 'uid': int(fields[2]), 'gid': int(fields[3]), 'home': fields[5], 'shell': fields[6]})
        except ValueError:
            continue
    return users


def login_users(users, min_uid=1000):
    """The users who can log in: a real shell, and uid 0 or at least min_uid (65534, nobody, excluded)."""
    return [user for user in users
            if user['shell'] and os.path.basename(user['shell']) not in LOGIN_SHELL_EXCLUDED
            and (user['uid'] == 0 or min_uid <= user['uid'] < 65534)]


def _logical_lines(text):
    pending = ''
    for raw in text.splitlines():
        if raw.rstrip().endswith('\\'):
            pending += raw.rstrip()[:-1] + ' '
            continue
        yield pending + raw
        pending = ''
    if pending:
        yield pending


def parse_sudoers(text):
    """(rules, includes) of one sudoers file: rules with whitespace collapsed; includes as ('file'|'dir', path)."""
    rules, includes = [], []
    for line in _logical_lines(text):
        line = line.strip()
        include = _SUDO_INCLUDE.match(line)
        if include:
            includes.append(('dir' if include.group(1) == 'includedir' else 'file', include.group(2)))
            continue
        line = re.sub(r'(^|\s)#(?!\d).*$', '', line).strip()
        if not line or _SUDO_SKIP.match(line):
            continue
        rules.append(normalise_rule(line))
    return rules, includes


def normalise_rule(rule):
    return ' '.join(str(rule).split())


def read_sudoers(path='/etc/sudoers', _seen=None):
    """[{file, rule}] of path and what it includes, as sudo reads them (an included folder: files sorted by name,
    without those whose name has a dot or ends with ~)."""
    seen = _seen if _seen is not None else set()
    real = os.path.realpath(path)
    if real in seen or not os.path.isfile(path):
        return []
    seen.add(real)
    with open(path, 'r', errors='replace') as handle:
        rules, includes = parse_sudoers(handle.read())
    found = [{'file': path, 'rule': rule} for rule in rules]
    base = os.path.dirname(path)
    for kind, target in includes:
        target = target if os.path.isabs(target) else os.path.join(base, target)
        if kind == 'file':
            found.extend(read_sudoers(target, seen))
            continue
        try:
            names = sorted(os.listdir(target))
        except OSError:
            continue
        for name in names:
            if '.' in name or name.endswith('~'):
                continue
            found.extend(read_sudoers(os.path.join(target, name), seen))
    return found


def unexpected_sudo_rules(rules, expected):
    """The rules not among the expected ones (compared with whitespace collapsed)."""
    allowed = set(normalise_rule(rule) for rule in expected or ())
    return [rule for rule in rules if normalise_rule(rule['rule']) not in allowed]


# ---------------------------------------------------------------- sshd

def parse_sshd_t(text):
    """The output of ``sshd -T`` as {setting: value}, settings lowercased, repeated settings' values joined by a space."""
    config = {}
    for line in text.splitlines():
        key, _sep, value = line.strip().partition(' ')
        if not key:
            continue
        key = key.lower()
        config[key] = (config[key] + ' ' + value.strip()) if key in config else value.strip()
    return config


def _sshd_value(value):
    if isinstance(value, bool):
        return 'yes' if value else 'no'
    if isinstance(value, (list, tuple)):
        return ' '.join(str(item) for item in value)
    text = ' '.join(str(value).split()).lower()
    return SSHD_SYNONYMS.get(text, text)


def sshd_drift(config, expected):
    """[{setting, expected, found}] where the effective setting differs from the expected one, sorted by setting."""
    drift = []
    for key in sorted(expected, key=lambda name: str(name).lower()):
        want = _sshd_value(expected[key])
        name = str(key).lower()
        found = config.get(name)
        if found is None or _sshd_value(found) != want:
            drift.append({'setting': name, 'expected': want, 'found': found})
    return drift


# ---------------------------------------------------------------- the bounded walk

def walk(paths, max_files, max_seconds, clock):
    """Walk the paths without following symlinks, at most max_files entries and max_seconds (by clock()).

    Returns {setuid, setgid, world_writable (files, and folders without the sticky bit), scanned, missing,
    errors, truncated (None, or why the walk stopped early)}.
    """
    found = {'setuid': [], 'setgid': [], 'world_writable': [], 'scanned': 0, 'missing': [], 'errors': 0, 'truncated': None}
    started = clock()
    stack = []
    for path in paths:
        try:
            os.lstat(path)
        except OSError:
            found['missing'].append(path)
            continue
        stack.append(path)
    stack.reverse()
    while stack:
        folder = stack.pop()
        try:
            entries = sorted(os.scandir(folder), key=lambda entry: entry.name)
        except OSError:
            found['errors'] += 1
            continue
        subfolders = []
        for entry in entries:
            if found['scanned'] >= max_files:
                found['truncated'] = 'stopped at the file limit (%d entries)' % max_files
                return found
            if clock() - started > max_seconds:
                found['truncated'] = 'stopped at the time limit (%s s)' % max_seconds
                return found
            found['scanned'] += 1
            try:
                mode = entry.stat(follow_symlinks=False).st_mode
            except OSError:
                found['errors'] += 1
                continue
            if stat.S_ISLNK(mode):
                continue
            if stat.S_ISDIR(mode):
                subfolders.append(entry.path)
                if mode & stat.S_IWOTH and not mode & stat.S_ISVTX:
                    found['world_writable'].append(entry.path)
                continue
            if mode & stat.S_ISUID:
                found['setuid'].append(entry.path)
            if mode & stat.S_ISGID:
                found['setgid'].append(entry.path)
            if mode & stat.S_IWOTH and stat.S_ISREG(mode):
                found['world_writable'].append(entry.path)
        stack.extend(reversed(subfolders))
    return found


# ---------------------------------------------------------------- updates

def parse_apt_simulation(text):
    """[{package, installed, candidate, security}] from ``apt-get -s dist-upgrade`` (the Inst lines)."""
    updates = []
    for line in text.splitlines():
        match = _APT_INST.match(line.strip())
        if not match:
            continue
        package, installed, candidate, origin = match.groups()
        updates.append({'package': package, 'installed': installed, 'candidate': candidate,
                        'security': 'security' in origin.lower()})
    return updates


def parse_debsecan(text):
    """{package: [CVE ids]} from ``debsecan`` output (TEMP- ids left out)."""
    found = {}
    for line in text.splitlines():
        match = _CVE.match(line.strip())
        if match:
            entry = found.setdefault(match.group(2), [])
            if match.group(1) not in entry:
                entry.append(match.group(1))
    return found


# ---------------------------------------------------------------- Python libraries

# Run by another Python (``python -I -c PYTHON_VERSIONS_SCRIPT <distribution>...``): one JSON line with that Python and the
# installed version of each distribution (null when it is not installed), read from the metadata, nothing imported.
PYTHON_VERSIONS_SCRIPT = '''import json, platform, sys
try:
    from importlib import metadata
except ImportError:
    metadata = None
def version(name):
    try:
        if metadata is not None:
            return metadata.version(name)
        import pkg_resources
        return pkg_resources.get_distribution(name).version
    except Exception:
        return None
print(json.dumps({"executable": sys.executable, "version": platform.python_version(),
                  "libraries": dict((name, version(name)) for name in sys.argv[1:])}))
'''
PYTHON_REPORT_MAX = 65536


def distribution_version(name):
    """The installed version of a distribution as this Python sees it (its metadata; the library is not imported), else None."""
    try:
        from importlib import metadata
    except ImportError:  # Python < 3.8
        metadata = None
    try:
        if metadata is not None:
            return metadata.version(name)
        import pkg_resources
        return pkg_resources.get_distribution(name).version
    except Exception:  # not installed (PackageNotFoundError, DistributionNotFound), or metadata that cannot be read
        return None


def python_libraries(distributions, version_of=distribution_version):
    """{executable, version, libraries: {library: version or None}} for this Python; distributions: {library: distribution name}."""
    return {'executable': sys.executable, 'version': platform.python_version(),
            'libraries': dict((library, version_of(name)) for library, name in distributions.items())}


def parse_python_report(text, distributions):
    """What PYTHON_VERSIONS_SCRIPT printed, as python_libraries gives it; ValueError when it is not that."""
    if len(text) > PYTHON_REPORT_MAX:
        raise ValueError('more than %d characters of output' % PYTHON_REPORT_MAX)
    lines = [line for line in text.splitlines() if line.strip()]
    try:
        found = json.loads(lines[-1]) if lines else None
    except ValueError:
        found = None
    if not isinstance(found, dict) or not isinstance(found.get('libraries'), dict):
        raise ValueError('not the versions script\'s output: %r' % text.strip()[:200])
    by_name = found['libraries']
    return {'executable': str(found.get('executable')), 'version': str(found.get('version')),
            'libraries': dict((library, None if by_name.get(name) is None else str(by_name[name]))
                              for library, name in distributions.items())}
