# Copyright (c) 2026, clawd.ops contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Run, list, pause and resume the scheduled runbooks of clawd.ops (installed by the role clawd.ops.schedule).

clawd-schedule run NAME      run one runbook now, as cron or its systemd timer does: one run at a time per runbook
                             (a lock), its output kept in a log file of its own, the oldest logs removed, a Telegram
                             message when it fails
clawd-schedule list          every runbook: when it runs, paused or not, its last run
clawd-schedule pause NAME    skip the runbook's runs until resumed (the schedule itself stays as the role wrote it)
clawd-schedule resume NAME
"""

import argparse
import datetime
import fcntl
import json
import os
import socket
import subprocess
import sys
import urllib.parse
import urllib.request

CONFIG = os.environ.get('CLAWD_SCHEDULE_CONFIG', '/etc/clawd-ops/schedule.json')
EXIT_LOCKED = 0  # a run skipped because the previous one still runs is not a failure of the schedule


def load(path):
    with open(path, encoding='utf-8') as handle:
        return json.load(handle)


def now():
    return datetime.datetime.now(datetime.timezone.utc)


def state_path(config, name, suffix):
    return os.path.join(config['state_dir'], name + suffix)


def log_line(config, name, message):
    """One line in the runbook's journal of runs (what happened, even when no run started)."""
    path = os.path.join(config['log_dir'], name, 'runs.log')
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, 'a', encoding='utf-8') as handle:
        handle.write('%s %s\n' % (now().strftime('%Y-%m-%dT%H:%M:%SZ'), message))


def rotate(config, name):
    """Keep the newest `log_keep` run logs of the runbook."""
    folder = os.path.join(config['log_dir'], name)
    logs = sorted(f for f in os.listdir(folder) if f.startswith('run-') and f.endswith('.log'))
    for old in logs[:max(len(logs) - int(config['log_keep']), 0)]:
        os.unlink(os.path.join(folder, old))


def tail(path, lines):
    with open(path, encoding='utf-8', errors='replace') as handle:
        return ''.join(handle.readlines()[-lines:])


def notify(config, name, rc, log_path):
    """Tell the operators' chat that a scheduled run failed. The token is read from a file only its user may read,
    and never printed, not even when the message cannot be sent."""
    path = config.get('notify_file')
    if not path or not os.path.exists(path):
        return
    notify_cfg = load(path)
    if not notify_cfg.get('telegram_bot_token') or not notify_cfg.get('telegram_chat_id'):
        return
    text = 'clawd.ops: the scheduled run of %s on %s failed (exit %s).\nLog: %s\n\n%s' % (
        name, socket.gethostname(), rc, log_path, tail(log_path, int(config.get('notify_tail_lines', 15))))
    body = urllib.parse.urlencode({'chat_id': notify_cfg['telegram_chat_id'], 'text': text[-4000:]}).encode()
    base = notify_cfg.get('telegram_api_base', 'https://api.telegram.org').rstrip('/')
    url = '%s/bot%s/sendMessage' % (base, notify_cfg['telegram_bot_token'])
    try:
        with urllib.request.urlopen(urllib.request.Request(url, data=body, method='POST'), timeout=30) as answer:
            answer.read()
        log_line(config, name, 'notified: the failure was sent to Telegram chat %s' % notify_cfg['telegram_chat_id'])
    except Exception as exc:  # pylint: disable=broad-except
        reason = getattr(exc, 'code', None) or type(exc).__name__
        log_line(config, name, 'notify failed: Telegram sendMessage: %s' % reason)


def run(config, name):
    runbook = config['runbooks'].get(name)
    if runbook is None:
        print('No runbook %s is scheduled (known: %s)' % (name, ', '.join(sorted(config['runbooks']))), file=sys.stderr)
        return 2
    os.makedirs(config['state_dir'], exist_ok=True)
    if os.path.exists(state_path(config, name, '.paused')):
        log_line(config, name, 'skipped: paused (clawd-schedule resume %s)' % name)
        return 0
    lock = open(state_path(config, name, '.lock'), 'a', encoding='utf-8')  # pylint: disable=consider-using-with
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        log_line(config, name, 'skipped: the previous run still holds the lock')
        return EXIT_LOCKED
    started = now()
    folder = os.path.join(config['log_dir'], name)
    os.makedirs(folder, exist_ok=True)
    log_path = os.path.join(folder, 'run-%s.log' % started.strftime('%Y%m%dT%H%M%S.%fZ'))
    log_line(config, name, 'started: %s' % ' '.join(runbook['command']))
    env = dict(os.environ)
    env.update(runbook.get('environment', {}))
    with open(log_path, 'w', encoding='utf-8') as output:
        output.write('# %s %s\n' % (started.isoformat(), ' '.join(runbook['command'])))
        output.flush()
        try:
            rc = subprocess.call(runbook['command'], stdout=output, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                 cwd=runbook.get('chdir') or None, env=env)
        except OSError as exc:
            output.write('Failed to start %s: %s\n' % (runbook['command'][0], exc.strerror))
            rc = 127
    status = {'name': name, 'started': started.isoformat(), 'finished': now().isoformat(), 'rc': rc, 'log': log_path}
    # Written aside and renamed: `clawd-schedule list` may read it while a run finishes.
    with open(state_path(config, name, '.last.json.new'), 'w', encoding='utf-8') as handle:
        json.dump(status, handle)
    os.replace(state_path(config, name, '.last.json.new'), state_path(config, name, '.last.json'))
    log_line(config, name, 'finished: exit %s, log %s' % (rc, log_path))
    rotate(config, name)
    if rc != 0:
        notify(config, name, rc, log_path)
    return rc


def listing(config):
    print('%-24s %-20s %-8s %s' % ('RUNBOOK', 'SCHEDULE', 'STATE', 'LAST RUN'))
    for name, runbook in sorted(config['runbooks'].items()):
        paused = runbook.get('paused') or os.path.exists(state_path(config, name, '.paused'))
        last = '-'
        if os.path.exists(state_path(config, name, '.last.json')):
            status = load(state_path(config, name, '.last.json'))
            last = '%s exit %s' % (status['started'], status['rc'])
        print('%-24s %-20s %-8s %s' % (name, runbook['schedule'], 'paused' if paused else 'active', last))
    return 0


def pause(config, name, paused):
    if name not in config['runbooks']:
        print('No runbook %s is scheduled' % name, file=sys.stderr)
        return 2
    marker = state_path(config, name, '.paused')
    if paused:
        with open(marker, 'w', encoding='utf-8'):
            pass
    elif os.path.exists(marker):
        os.unlink(marker)
    log_line(config, name, 'paused' if paused else 'resumed')
    return 0


def main(argv=None):
    parser = argparse.ArgumentParser(prog='clawd-schedule', description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest='action', required=True)
    for action in ('run', 'pause', 'resume'):
        sub.add_parser(action).add_argument('name')
    sub.add_parser('list')
    args = parser.parse_args(argv)
    config = load(CONFIG)
    if args.action == 'run':
        return run(config, args.name)
    if args.action == 'list':
        return listing(config)
    return pause(config, args.name, args.action == 'pause')


if __name__ == '__main__':
    sys.exit(main())
