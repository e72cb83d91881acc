# Copyright (c) 2026, clawd.ops contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Run every shell command that README.md shows, in the order shown, against the lab.

    python tests/readme/run_readme.py                  run them (scripts/test's step ``readme``)
    python tests/readme/run_readme.py --list           print them as they would run, run nothing
    python tests/readme/run_readme.py --readme PATH    another copy of the README (to see a failure)

What counts as a command: the README's commands live in fenced blocks opened with exactly ```sh. Every line of
such a block that is neither empty nor a comment (``#`` first) is one command; a line may not continue on the
next (no trailing backslash). Only ```sh blocks run: commands a person types interactively or that cannot run
here (ansible-vault with its prompt, editing files, downloads from Galaxy, the whole suite, the benchmarks) are
shown in ```text or ```yaml blocks, and this runner never reads those.

How they run: all in one bash session, ``set -euo pipefail``, the working directory the repository's root, the
virtualenv .venv active, stdin from /dev/null (nothing may prompt). Each line runs byte for byte as the README
shows it, with one exception: the README's "On your servers" names the inventory once, in the line
``INVENTORY=inventories/production``, and every later command says ``-i "$INVENTORY"``; that one line (it must
be there exactly once) is replaced by ``INVENTORY=inventories/lab``, so the commands for real servers run
against the lab hosts that the README's own ``scripts/lab up`` starts. A command fails when its exit code is not
0 (also inside ``a && b``); the run stops at the first failure with that exit code.

The lab stays up: the run stops before the first line that is ``scripts/lab down`` (it must be there exactly
like that, and no ```sh line may follow it, so that nothing the README shows is left out). scripts/test's last
step, ``lab-down``, runs ``scripts/lab down`` after every other step has used the lab.

What it writes, and removes again (before and after the run, pass or fail; --keep leaves them): ./dist and
./collections (the README's build and install; both in .gitignore, and never removed if git tracks them), and
inventories/production when the README's ``cp -r`` made it. An inventories/production that is already there and
differs from inventories/production.example is someone's real inventory: the run refuses to start.

When scripts/test sets CLAWD_TEST_HOSTS (and CLAWD_LAB_HOSTS is unset), the README's ``scripts/lab up`` keeps
that many lab hosts: CLAWD_LAB_HOSTS is its default.

Verbosity and secrets: every command runs with ANSIBLE_VERBOSITY=4 in its environment (so each playbook runs as
with -vvvv while the commands stay what an operator types), and its whole output (stdout and stderr) is searched
for every secret the lab holds: each file in .lab/secrets (the SSH key by the lines of its body), the bot tokens
the Telegram stand-in issues to the lab hosts, and literal secret variables of inventories/lab (in their raw,
URL-encoded and JSON-escaped forms, and the Basic auth header of the Twilio account). Output is printed and
logged (tests/output/readme/run.log) with every secret replaced by ``<redacted:NAME>``; a secret never appears in
what this runner prints or writes. A secret found fails the run (exit 3) naming the command and the secret's
NAME, never its value. Identifiers kept with the secrets (the Twilio account SID, the S3 access key id: the
public halves of a credential, in every API URL) are reported as notes, not failures.

Output: each command as it starts, its own output, then ``README [i/n] exit <code> in <s> s: <command>``; at
the end a table of wall times and one summary line, ``README: 14 commands ran, all passed in 512 s`` or
``README: command 5 of 14 failed (exit 2) after 63 s: <command>`` or
``README: secrets leaked in the output of 1 command: command 14 (...): telegram_bot_token (issued to lab host 1)``.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import argparse
import base64
import filecmp
import hashlib
import io
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
from urllib.parse import quote, quote_plus

import yaml

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..'))
INVENTORY_LINE = 'INVENTORY=inventories/production'
INVENTORY_LAB = 'INVENTORY=inventories/lab'
LAB_DOWN = 'scripts/lab down'
OUTPUTS = ('dist', 'collections')
COPIED_INVENTORY = os.path.join('inventories', 'production')
EXAMPLE_INVENTORY = os.path.join('inventories', 'production.example')
LAB_INVENTORY = os.path.join(ROOT, 'inventories', 'lab')
LOG_DIR = os.path.join(ROOT, 'tests', 'output', 'readme')
VERBOSITY = '4'
# Kept with the secrets, but the public half of a credential (in every Twilio API URL; the AWS access key id):
# found in the output, they are noted, not failed.
IDENTIFIERS = ('twilio_account_sid', 's3_access_key')
# The Telegram stand-in issues lab host N the bot <7100000000 + N>:AA<sha256(issuer key:id)[:33]> (inventories/lab).
BOT_ID_BASE = 7100000000
LAB_HOST_INDEXES = range(0, 65)
# Shorter forms would match by chance; every lab secret is far longer.
MIN_SECRET_LENGTH = 12
SECRET_VAR = re.compile(r'(secret|token|password|passwd|private_key|api_key|auth)', re.I)
MARKER = re.compile(r'^==> README \[(\d+)/\d+\]')


class ReadmeError(Exception):
    """The README breaks the rules above, or the run cannot start safely."""


def sh_lines(text):
    """Every command line of every ```sh block: a list of (line number, line)."""
    found = []
    in_sh = in_other = False
    for number, raw in enumerate(text.splitlines(), 1):
        stripped = raw.strip()
        if in_sh or in_other:
            if stripped.startswith('```') and stripped.strip('`') == '':
                in_sh = in_other = False
            elif in_sh and stripped and not stripped.startswith('#'):
                if stripped.endswith('\\'):
                    raise ReadmeError('README line %d: a command continues on the next line; write it on one line: %s' % (number, stripped))
                found.append((number, stripped))
        elif stripped.startswith('```'):
            info = stripped[3:].strip()
            in_sh = info == 'sh'
            in_other = not in_sh
    if in_sh or in_other:
        raise ReadmeError('the README ends inside a fenced block')
    return found


def plan(text):
    """The commands to run, in order, as (line number, line as shown, line as run)."""
    lines = sh_lines(text)
    downs = [i for i, (dummy, line) in enumerate(lines) if re.match(r'^(\./)?scripts/lab\s+down\b', line)]
    if not downs:
        raise ReadmeError('no ```sh line "%s": the README must show how to take the lab down' % LAB_DOWN)
    first = downs[0]
    if lines[first][1] != LAB_DOWN:
        raise ReadmeError('README line %d takes the lab down as "%s"; it must read exactly "%s" (scripts/test runs that)'
                          % (lines[first][0], lines[first][1], LAB_DOWN))
    if first != len(lines) - 1:
        raise ReadmeError('README line %d: a ```sh command follows "%s" (line %d); it would never run: %s'
                          % (lines[first + 1][0], LAB_DOWN, lines[first][0], lines[first + 1][1]))
    lines = lines[:first]
    assignments = [i for i, (dummy, line) in enumerate(lines) if line == INVENTORY_LINE]
    if len(assignments) != 1:
        raise ReadmeError('the ```sh line "%s" must be there exactly once (found %d): the runner replaces it with "%s"'
                          % (INVENTORY_LINE, len(assignments), INVENTORY_LAB))
    return [(number, line, INVENTORY_LAB if i == assignments[0] else line) for i, (number, line) in enumerate(lines)]


BASH_PREAMBLE = r'''set -euo pipefail
cd %(root)s
. .venv/bin/activate
exec 3>>%(records)s
__readme_n=%(count)d
__readme_i=0
__readme_t0=0
__readme_now() { local t=${EPOCHREALTIME//[!0-9]/}; echo "$((10#$t / 1000))"; }
__readme_begin() {
  __readme_i=$1
  printf '\n==> README [%%d/%%d] (line %%d) %%s\n' "$1" "$__readme_n" "$2" "$3"
  __readme_t0=$(__readme_now)
}
__readme_record() {
  local rc=$1 ms
  ms=$(( $(__readme_now) - __readme_t0 ))
  printf 'end %%d %%d %%d\n' "$__readme_i" "$rc" "$ms" >&3
  printf 'README [%%d/%%d] exit %%d in %%d.%%d s\n' "$__readme_i" "$__readme_n" "$rc" "$(((ms + 50) / 1000))" "$(((ms + 50) %% 1000 / 100))"
}
# A command that fails inside "a && b" does not stop a set -e shell: its exit code stops the run here.
__readme_end() { if [ "$1" -eq 0 ]; then __readme_record 0; else exit "$1"; fi; }
trap '__readme_rc=$?; [ "$__readme_rc" -eq 0 ] || __readme_record "$__readme_rc"' EXIT
'''


def bash_script(commands, records):
    """One bash script: the preamble, then each command between its begin and end markers."""
    parts = [BASH_PREAMBLE % {'root': shlex.quote(ROOT), 'records': shlex.quote(records), 'count': len(commands)}]
    for i, (number, shown, run) in enumerate(commands, 1):
        title = run if run == shown else '%s   (runs as: %s)' % (shown, run)
        parts.append('__readme_begin %d %d %s\n%s\n__readme_end $?\n' % (i, number, shlex.quote(title), run))
    return ''.join(parts)


def read_records(path):
    """{command index: (exit code, seconds)} from the markers the script wrote."""
    results = {}
    with open(path) as f:
        for line in f:
            fields = line.split()
            if len(fields) == 4 and fields[0] == 'end':
                results[int(fields[1])] = (int(fields[2]), int(fields[3]) / 1000.0)
    return results


def _read(path):
    with io.open(path, encoding='utf-8', errors='replace') as f:
        return f.read()


class _Unsafe(str):
    """An !unsafe string: literal, even with {{ in it."""


class _VarsLoader(yaml.SafeLoader):
    """YAML of Ansible vars: !unsafe is its string, !vault (encrypted, not readable here) is left out."""


_VarsLoader.add_constructor('!unsafe', lambda loader, node: _Unsafe(loader.construct_scalar(node)))
_VarsLoader.add_constructor('!vault', lambda loader, node: None)


def _inventory_secrets(folder):
    """{variable: value} of the literal (untemplated) string values of secret-looking variables in the inventory's vars files."""
    found = {}
    for top, dummy, files in os.walk(folder):
        for name in sorted(files):
            if not name.endswith(('.yml', '.yaml')) or name.endswith('.docker.yml'):
                continue
            try:
                data = yaml.load(_read(os.path.join(top, name)), Loader=_VarsLoader)  # nosec B506: a safe loader
            except (yaml.YAMLError, IOError, OSError):
                continue
            for key, value in (data.items() if isinstance(data, dict) else ()):
                literal = isinstance(value, _Unsafe) or (isinstance(value, str) and '{{' not in value and '{%' not in value)
                if SECRET_VAR.search(str(key)) and literal:
                    found[str(key)] = value.strip()
    return found


def lab_secrets(secrets_dir, inventory=LAB_INVENTORY):
    """{NAME: [value, ...]} of every secret the lab holds (see the module docstring); missing files are skipped."""
    secrets = {}
    if os.path.isdir(secrets_dir):
        for name in sorted(os.listdir(secrets_dir)):
            path = os.path.join(secrets_dir, name)
            if os.path.isfile(path):
                value = _read(path).strip()
                if value:
                    secrets[name] = [value]
        ssh = os.path.join(secrets_dir, 'ssh')
        if os.path.isdir(ssh):
            for name in sorted(os.listdir(ssh)):
                path = os.path.join(ssh, name)
                if name.endswith('.pub') or not os.path.isfile(path):
                    continue
                body = [line.strip() for line in _read(path).splitlines() if line.strip() and not line.startswith('-----')]
                if body:
                    secrets['ssh/%s' % name] = body
    issuer = (secrets.get('telegram_bot_issuer_key') or [''])[0]
    if issuer:
        for index in LAB_HOST_INDEXES:
            bot_id = BOT_ID_BASE + index
            digest = hashlib.sha256(('%s:%s' % (issuer, bot_id)).encode('utf-8')).hexdigest()[:33]
            secrets['telegram_bot_token (issued to lab host %d)' % index] = ['%d:AA%s' % (bot_id, digest)]
    for key, value in _inventory_secrets(inventory).items():
        secrets.setdefault('inventory variable %s' % key, [value])
    sid, auth = (secrets.get('twilio_account_sid') or [''])[0], (secrets.get('twilio_auth_token') or [''])[0]
    if sid and auth:
        secrets['twilio_auth_token'].append(base64.b64encode(('%s:%s' % (sid, auth)).encode('utf-8')).decode('ascii'))
    return secrets


def secret_forms(value):
    """The forms a secret value takes in output: raw, URL-encoded, JSON-escaped, and its part after a "1|" id prefix."""
    forms = {value, quote(value, safe=''), quote(value), quote_plus(value), json.dumps(value)[1:-1]}
    if '|' in value:
        forms.add(value.split('|', 1)[1])
    return sorted((form for form in forms if len(form) >= MIN_SECRET_LENGTH), key=len, reverse=True)


class SecretScanner(object):
    """Finds and redacts the lab's secrets in output, line by line; reload() re-reads them (scripts/lab up may make them)."""

    def __init__(self, secrets_dir, inventory=LAB_INVENTORY):
        self.secrets_dir = secrets_dir
        self.inventory = inventory
        self.names = {}
        self.pattern = None
        self.reload()

    def reload(self):
        names = {}
        for name, values in lab_secrets(self.secrets_dir, self.inventory).items():
            for value in values:
                for form in secret_forms(value):
                    names.setdefault(form, name)
        self.names = names
        forms = sorted(names, key=len, reverse=True)
        self.pattern = re.compile('|'.join(re.escape(form) for form in forms)) if forms else None

    def scan(self, text):
        """(text with every secret replaced by <redacted:NAME>, sorted names of the secrets found)."""
        if self.pattern is None:
            return text, []
        found = set()

        def replace(match):
            name = self.names[match.group(0)]
            found.add(name)
            return '<redacted:%s>' % name
        return self.pattern.sub(replace, text), sorted(found)


def run_scanned(script, env, scanner, out, log):
    """Run the script, print and log its output redacted; return (exit code, {command index: {secret name: times}})."""
    leaks = {}
    current = 0
    proc = subprocess.Popen(['bash', script], cwd=ROOT, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT)
    for raw in iter(proc.stdout.readline, b''):
        line = raw.decode('utf-8', 'replace')
        marker = MARKER.match(line)
        if marker:
            current = int(marker.group(1))
            scanner.reload()
        clean, found = scanner.scan(line)
        for name in found:
            per_command = leaks.setdefault(current, {})
            per_command[name] = per_command.get(name, 0) + 1
        out.write(clean)
        out.flush()
        log.write(clean)
    proc.stdout.close()
    return proc.wait(), leaks


def leak_report(leaks, commands):
    """(lines naming each command whose output held a secret and the secrets' names, the failing ones)."""
    lines = []
    failing = {}
    for index in sorted(leaks):
        shown = commands[index - 1][1] if 0 < index <= len(commands) else '(before the first command)'
        for name, times in sorted(leaks[index].items()):
            identifier = name in IDENTIFIERS
            lines.append('%s %s in the output of command %d (%d times): %s' % (
                '  note: identifier' if identifier else 'README: secret', name, index, times, shown))
            if not identifier:
                failing.setdefault(index, []).append(name)
    return lines, failing


def tracked(path):
    """Whether git tracks anything under path (then it is not ours to remove)."""
    try:
        out = subprocess.run(['git', '-C', ROOT, 'ls-files', '--', path], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, check=False)
    except OSError:
        return True
    return bool(out.stdout.strip())


def same_tree(a, b):
    """Whether two folders hold the same files with the same content."""
    cmp = filecmp.dircmp(a, b)
    if cmp.left_only or cmp.right_only or cmp.funny_files:
        return False
    match, mismatch, errors = filecmp.cmpfiles(a, b, cmp.common_files, shallow=False)
    if mismatch or errors:
        return False
    return all(same_tree(os.path.join(a, d), os.path.join(b, d)) for d in cmp.common_dirs)


def clean(made_inventory):
    """Remove what the README's commands wrote into the repository."""
    for name in OUTPUTS:
        path = os.path.join(ROOT, name)
        if os.path.lexists(path) and not tracked(name):
            if os.path.isdir(path) and not os.path.islink(path):
                shutil.rmtree(path)
            else:
                os.unlink(path)
    if made_inventory:
        shutil.rmtree(os.path.join(ROOT, COPIED_INVENTORY), ignore_errors=True)


def prepare():
    """Refuse to start where the run would touch someone's files; remove leftovers of an earlier run."""
    for name in OUTPUTS:
        if tracked(name):
            raise ReadmeError('git tracks files under ./%s: the README test writes and removes that folder' % name)
    inventory = os.path.join(ROOT, COPIED_INVENTORY)
    if os.path.exists(inventory):
        if not same_tree(inventory, os.path.join(ROOT, EXAMPLE_INVENTORY)) or tracked(COPIED_INVENTORY):
            raise ReadmeError('%s is there and is not a copy of %s (a real inventory?): the README test copies the example '
                              'there and removes it afterwards; move it away first' % (COPIED_INVENTORY, EXAMPLE_INVENTORY))
        shutil.rmtree(inventory)  # a leftover of an interrupted run
    clean(False)


def main(argv=None):
    parser = argparse.ArgumentParser(description='Run every ```sh command of the README against the lab (see the module docstring).')
    parser.add_argument('--readme', default=os.path.join(ROOT, 'README.md'), help='the README to read (default: the repository\'s)')
    parser.add_argument('--list', action='store_true', help='print the commands as they would run, and run nothing')
    parser.add_argument('--keep', action='store_true', help='keep ./dist, ./collections and the copied inventory afterwards')
    args = parser.parse_args(argv)

    try:
        with open(args.readme) as f:
            commands = plan(f.read())
        if args.list:
            for i, (number, shown, run) in enumerate(commands, 1):
                print('%2d  line %-4d %s%s' % (i, number, run, '' if run == shown else '   (README: %s)' % shown))
            print('README: %d commands would run, then scripts/test\'s last step runs %s' % (len(commands), LAB_DOWN))
            return 0
        prepare()
    except (ReadmeError, IOError, OSError) as e:
        print('README: cannot run the README\'s commands: %s' % e)
        return 2

    made_inventory = not os.path.exists(os.path.join(ROOT, COPIED_INVENTORY))
    env = dict(os.environ)
    if env.get('CLAWD_TEST_HOSTS') and not env.get('CLAWD_LAB_HOSTS'):
        env['CLAWD_LAB_HOSTS'] = env['CLAWD_TEST_HOSTS']
    env['ANSIBLE_VERBOSITY'] = VERBOSITY
    scanner = SecretScanner(os.path.join(env.get('CLAWD_STATE') or os.path.join(ROOT, '.lab'), 'secrets'))
    os.makedirs(LOG_DIR, exist_ok=True)
    log_path = os.path.join(LOG_DIR, 'run.log')
    workdir = tempfile.mkdtemp(prefix='clawd-readme-')
    records = os.path.join(workdir, 'records')
    script = os.path.join(workdir, 'readme.sh')
    open(records, 'w').close()
    with open(script, 'w') as f:
        f.write(bash_script(commands, records))
    print('README: running %d commands from %s in one bash session (INVENTORY=inventories/lab, ANSIBLE_VERBOSITY=%s, '
          'output searched for the lab\'s secrets, redacted log %s)' % (len(commands), args.readme, VERBOSITY, log_path))
    sys.stdout.flush()
    started = time.time()
    try:
        with io.open(log_path, 'w', encoding='utf-8') as log:
            rc, leaks = run_scanned(script, env, scanner, sys.stdout, log)
        results = read_records(records)
    finally:
        if not args.keep:
            clean(made_inventory)
        shutil.rmtree(workdir, ignore_errors=True)
    total = time.time() - started

    print('\nREADME commands, wall time and exit code:')
    for i, (number, shown, dummy) in enumerate(commands, 1):
        if i in results:
            print('  %2d  %7.1f s  exit %-3d %s' % (i, results[i][1], results[i][0], shown))
        else:
            print('  %2d        -            %s' % (i, shown))
    lines, failing = leak_report(leaks, commands)
    for line in lines:
        print(line)
    leaked = None
    if failing:
        leaked = 'README: secrets leaked in the output of %d command%s: %s' % (
            len(failing), '' if len(failing) == 1 else 's', '; '.join(
                'command %d (%s): %s' % (index, commands[index - 1][1] if 0 < index <= len(commands) else 'before the first',
                                         ', '.join(names)) for index, names in sorted(failing.items())))
    if 0 in results:
        print('README: the session failed before its first command (exit %d): is .venv there?' % results[0][0])
        return results[0][0]
    failed = [i for i in sorted(results) if results[i][0] != 0]
    if failed:
        i = failed[0]
        if leaked:
            print(leaked)
        print('README: command %d of %d failed (exit %d) after %.0f s: %s' % (i, len(commands), results[i][0], results[i][1], commands[i - 1][1]))
        return results[i][0]
    if rc != 0 or len(results) != len(commands):
        if leaked:
            print(leaked)
        print('README: the run stopped after %d of %d commands (bash exit %d)' % (len(results), len(commands), rc))
        return rc or 1
    if leaked:
        print(leaked)
        return 3
    print('README: %d commands ran, all passed in %.0f s, no secret in their output at verbosity %s' % (len(commands), total, VERBOSITY))
    return 0


if __name__ == '__main__':
    sys.exit(main())
