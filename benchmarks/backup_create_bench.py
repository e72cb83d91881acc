# Copyright (c) 2026, clawd.ops contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""How fast clawd.ops.backup_archive writes an archive, next to `tar czf` on the same data.

Generates once (cached under --workdir) a data set of mixed compressibility, like a service's
volumes: text files (code, docs, configs: real files copied from this host's Python installation),
binaries (real shared libraries), application logs and a SQLite database of messages (generated),
and incompressible data (random bytes, standing for photos, archives and git packs). Then, in one
run, best of --runs each, times create_archive() with zstd (its verification pass included) and GNU
`tar czf` on the same folder, and prints both times (with the CPU seconds they used, and the load
average: the speed-up depends on idle cores), sizes and ratios, the speed-up (goal: 3x or more)
and how the compression ratios compare (goal: as good or better). Asserts nothing about time.

    .venv/bin/python benchmarks/backup_create_bench.py              # 1 GiB data set, cached in /tmp/clawd-bench-create
    .venv/bin/python benchmarks/backup_create_bench.py --size 64M   # a quick run
    .venv/bin/python benchmarks/backup_create_bench.py --by-kind    # and each kind of data's ratio, zstd -3 vs gzip -6
"""

from __future__ import absolute_import, division, print_function

import argparse
import json
import os
import random
import resource
import shutil
import sqlite3
import subprocess
import sys
import sysconfig
import time
import zlib

import zstandard

from bench_common import import_collection, parse_size

DATA_VERSION = 2  # bump when the generator changes: cached data sets are regenerated
# What a service's volumes hold, by share of bytes: text files (code, docs, configs: real files of
# this host's Python installation), binaries (real shared libraries), application logs and a SQLite
# database (generated), and incompressible data (random bytes: photos, archives, git packs).
MIX = (('workspace', 0.30), ('binaries', 0.15), ('logs', 0.15), ('db', 0.15), ('media', 0.25))
TEXT_SUFFIXES = ('.py', '.pyi', '.txt', '.md', '.rst', '.json', '.yml', '.yaml', '.html', '.cfg', '.toml', '.c', '.h', '.csv')
BINARY_SUFFIXES = ('.so',)
ENDPOINTS = ('/api/chats/%d/messages', '/api/chats/%d', '/api/users/%d/profile', '/api/workspace/%d/files', '/webhook/telegram',
             '/health', '/api/sessions/%d/refresh')
TEMPLATES = (
    'INFO  [http] {method} {path} {status} {ms}ms user={user} req={req}',
    'DEBUG [db] query messages.list chat={chat} rows={rows} took={ms2}ms req={req}',
    'DEBUG [cache] {hit} key=chat:{chat}:messages req={req}',
    'INFO  [bot] delivered message chat={chat} user={user} len={rows} req={req}',
    'WARN  [upstream] slow response from api.telegram.org took={ms}ms retry={retry} req={req}',
    'INFO  [worker] job {job} finished in {ms}ms queue=default',
    'ERROR [http] {method} {path} 500 {ms}ms user={user} req={req}: database is locked',
)


def import_writer(workdir):
    """The writer module of this checkout."""
    import_collection(workdir)
    from ansible_collections.clawd.ops.plugins.module_utils import _backup_writer  # pylint: disable=import-outside-toplevel
    return _backup_writer


def human(count):
    for unit in ('B', 'KiB', 'MiB', 'GiB'):
        if count < 1024 or unit == 'GiB':
            return '%.1f %s' % (count, unit) if unit != 'B' else '%d B' % count
        count /= 1024.0
    return str(count)


def host_files(suffixes):
    """Real files of this host's Python installation (standard library, site-packages), sorted."""
    roots = sorted(set(path for path in (sysconfig.get_paths()['stdlib'], sysconfig.get_paths()['purelib'],
                                         sysconfig.get_paths()['platlib'], sysconfig.get_config_var('LIBDIR')) if path))
    found = []
    for root in roots:
        for folder, dirs, names in os.walk(root):
            dirs.sort()
            for name in sorted(names):
                path = os.path.join(folder, name)
                if name.endswith(suffixes) and os.path.isfile(path) and not os.path.islink(path):
                    found.append((root, path))
    return found


def copy_host_files(folder, kind, suffixes, budget, fallback):
    """Copy real files until budget bytes (again into round-N folders when there are too few)."""
    files = host_files(suffixes)
    written = 0
    round_ = 0
    while written < budget:
        round_ += 1
        if not files:
            data = fallback(budget - written)
            write(os.path.join(folder, kind, 'generated-%d' % round_), data)
            written += len(data)
            continue
        for root, path in files:
            if written >= budget:
                break
            with open(path, 'rb') as handle:
                data = handle.read(budget - written)
            target = os.path.join(folder, kind, 'round-%d' % round_, os.path.basename(root.rstrip('/')), os.path.relpath(path, root))
            write(target, data)
            written += len(data)


def log_lines(rng, size):
    """Application logs: a request's lines share its id; users and chats follow a long-tail distribution."""
    lines = []
    total = 0
    stamp = 1795400000.0
    while total < size:
        req = '%016x' % rng.getrandbits(64)
        user = 1000 + int(rng.paretovariate(1.1)) % 5000
        chat = 100000 + int(rng.paretovariate(1.1)) % 20000
        for step in range(rng.randint(2, 7)):
            stamp += rng.expovariate(200)
            path = rng.choice(ENDPOINTS)
            line = '%s.%03dZ %s\n' % (time.strftime('%Y-%m-%dT%H:%M:%S', time.gmtime(stamp)), int(stamp * 1000) % 1000, (
                rng.choice(TEMPLATES) if step else TEMPLATES[0]).format(
                    method=rng.choice(('GET', 'GET', 'GET', 'POST', 'PUT')), path=path % chat if '%d' in path else path,
                    status=rng.choice((200, 200, 200, 201, 204, 304, 404)), ms=int(rng.lognormvariate(3, 1)),
                    ms2=int(rng.lognormvariate(1, 1)), user=user, req=req, chat=chat, rows=rng.randint(0, 200),
                    hit=rng.choice(('hit', 'hit', 'miss')), retry=rng.randint(1, 3), job='%08x' % rng.getrandbits(32)))
            lines.append(line)
            total += len(line)
    return ''.join(lines).encode()[:size]


def text_lines(limit=200000):
    """Lines of real text to fill the database's messages with."""
    lines = []
    for dummy, path in host_files(('.txt', '.md', '.rst', '.py')):
        with open(path, 'rb') as handle:
            lines.extend(line.strip().decode('utf-8', 'replace') for line in handle if len(line.strip()) > 20)
        if len(lines) >= limit:
            break
    return lines or ['message %d' % index for index in range(1000)]


def sqlite_database(rng, path, size):
    """A real SQLite database of chat messages, about size bytes."""
    texts = text_lines()
    connection = sqlite3.connect(path)
    connection.execute('PRAGMA page_size=4096')
    connection.execute('CREATE TABLE messages (id INTEGER PRIMARY KEY, chat_id INTEGER, user_id INTEGER, sent_at TEXT, '
                       'text TEXT, meta TEXT)')
    connection.execute('CREATE INDEX messages_chat ON messages (chat_id, sent_at)')
    stamp = 1795400000.0
    while os.path.getsize(path) < size:
        rows = []
        for dummy in range(20000):
            stamp += rng.expovariate(5)
            rows.append((100000 + int(rng.paretovariate(1.1)) % 20000, 1000 + int(rng.paretovariate(1.1)) % 5000,
                         time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime(stamp)), rng.choice(texts),
                         json.dumps({'edited': rng.random() < 0.05, 'reply_to': rng.getrandbits(20) if rng.random() < 0.2 else None})))
        with connection:
            connection.executemany('INSERT INTO messages (chat_id, user_id, sent_at, text, meta) VALUES (?, ?, ?, ?, ?)', rows)
    connection.close()


def write(path, data):
    parent = os.path.dirname(path)
    if not os.path.isdir(parent):
        os.makedirs(parent)
    with open(path, 'wb') as handle:
        handle.write(data)


def generate(folder, size):
    """The data set, generated once: reused while its marker says the same size and generator version."""
    marker = os.path.join(folder, '.generated.json')
    wanted = {'size': size, 'version': DATA_VERSION}
    if os.path.exists(marker):
        with open(marker) as handle:
            if json.load(handle) == wanted:
                return
    if os.path.exists(folder):
        shutil.rmtree(folder)
    os.makedirs(folder)
    started = time.monotonic()
    rng = random.Random(20261123)
    for kind, share in MIX:
        budget = int(size * share)
        if kind == 'workspace':
            copy_host_files(folder, kind, TEXT_SUFFIXES, budget, lambda count: log_lines(rng, count))
        elif kind == 'binaries':
            copy_host_files(folder, kind, BINARY_SUFFIXES, budget, rng.randbytes)
        elif kind == 'db':
            os.makedirs(os.path.join(folder, kind))
            sqlite_database(rng, os.path.join(folder, kind, 'app.db'), budget)
        else:
            index = 0
            while budget > 0:
                chunk = min(budget, (64 << 20) if kind == 'logs' else rng.randint(1 << 20, 64 << 20))
                if kind == 'logs':
                    data, path = log_lines(rng, chunk), os.path.join(folder, kind, 'app-%02d.log' % index)
                else:
                    data, path = rng.randbytes(chunk), os.path.join(folder, kind, 'blob-%02d.bin' % index)
                write(path, data)
                budget -= len(data)
                index += 1
    with open(marker, 'w') as handle:
        json.dump(wanted, handle)
    print('generated %s of data in %s (%.0fs)' % (human(size), folder, time.monotonic() - started))


def by_kind(folder):
    """Compression ratio of each kind of data alone, zstd -3 (one thread) against gzip -6 (zlib)."""
    print()
    print('| %-10s | %10s | %9s | %9s |' % ('kind', 'bytes', 'zstd -3', 'gzip -6'))
    print('|%s|%s|%s|%s|' % ('-' * 12, '-' * 12, '-' * 11, '-' * 11))
    for kind, dummy in MIX:
        raw = zsize = gsize = 0
        zstd = zstandard.ZstdCompressor(level=3).compressobj()
        gzip_ = zlib.compressobj(6, zlib.DEFLATED, 31)
        for root, dirs, names in os.walk(os.path.join(folder, kind)):
            dirs.sort()
            for name in sorted(names):
                with open(os.path.join(root, name), 'rb') as handle:
                    while True:
                        data = handle.read(1 << 20)
                        if not data:
                            break
                        raw += len(data)
                        zsize += len(zstd.compress(data))
                        gsize += len(gzip_.compress(data))
        zsize += len(zstd.flush())
        gsize += len(gzip_.flush())
        print('| %-10s | %10d | %9.3f | %9.3f |' % (kind, raw, float(raw) / zsize, float(raw) / gsize))


def data_stats(folder):
    files = total = 0
    for root, dummy, names in os.walk(folder):
        for name in names:
            if name != '.generated.json':
                files += 1
                total += os.path.getsize(os.path.join(root, name))
    return files, total


def time_ours(writer, folder, out, run):
    """One create_archive(): seconds, CPU seconds, archive size, seconds of the verification pass."""
    verify_seconds = []
    real_verify = writer.verify_archive

    def timed_verify(*args, **kwargs):
        started = time.perf_counter()
        try:
            return real_verify(*args, **kwargs)
        finally:
            verify_seconds.append(time.perf_counter() - started)

    writer.verify_archive = timed_verify
    try:
        cpu = time.process_time()
        started = time.perf_counter()
        result = writer.create_archive(out, 'bench', [{'name': 'data', 'path': folder}], compression='zstd', now=1795400000 + run)
        seconds = time.perf_counter() - started
        cpu = time.process_time() - cpu
    finally:
        writer.verify_archive = real_verify
    for suffix in ('', '.sha256', '.manifest.json'):
        os.remove(result['archive'] + suffix)
    return {'seconds': seconds, 'cpu': cpu, 'size': result['size'], 'verify': verify_seconds[0]}


def children_cpu():
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def time_tar(folder, out):
    """One `tar czf` (GNU tar piping to gzip -6): seconds, CPU seconds, archive size."""
    target = os.path.join(out, 'bench-tar.tar.gz')
    cpu = children_cpu()
    started = time.perf_counter()
    subprocess.check_call(['tar', 'czf', target, '--exclude', './.generated.json', '-C', folder, '.'])
    seconds = time.perf_counter() - started
    cpu = children_cpu() - cpu
    size = os.path.getsize(target)
    os.remove(target)
    return {'seconds': seconds, 'cpu': cpu, 'size': size}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n', maxsplit=1)[0])
    parser.add_argument('--workdir', default='/tmp/clawd-bench-create', help='where the data set is cached and archives written')
    parser.add_argument('--size', default='1G', help='data set size, for example 1G (default) or 64M for a quick run')
    parser.add_argument('--runs', type=int, default=3, help='runs of each, the best one counts (default 3)')
    parser.add_argument('--by-kind', action='store_true', help='also print each kind of data\'s ratio with zstd -3 and gzip -6')
    args = parser.parse_args()
    if shutil.which('tar') is None:
        sys.exit('GNU tar is needed for the comparison')
    size = parse_size(args.size)
    writer = import_writer(args.workdir)
    folder = os.path.join(args.workdir, 'data-%d' % size)
    out = os.path.join(args.workdir, 'out')
    if not os.path.isdir(out):
        os.makedirs(out)
    generate(folder, size)
    files, raw = data_stats(folder)
    print('data set: %s (%d bytes) in %d files, %s' % (human(raw), raw, files, folder))
    print('%d CPUs, load average %.2f %.2f %.2f before the runs; best of %d' % ((os.cpu_count() or 1,) + os.getloadavg() + (args.runs,)))

    ours = []
    tars = []
    for run in range(args.runs):
        ours.append(time_ours(writer, folder, out, run))
        tars.append(time_tar(folder, out))
        print('  run %d: create_archive %.2fs (%.2f CPU s; verification %.2fs), tar czf %.2fs (%.2f CPU s); load %.2f'
              % (run + 1, ours[-1]['seconds'], ours[-1]['cpu'], ours[-1]['verify'], tars[-1]['seconds'], tars[-1]['cpu'], os.getloadavg()[0]))
    best_ours = min(ours, key=lambda item: item['seconds'])
    best_tar = min(tars, key=lambda item: item['seconds'])
    our_ratio = float(raw) / best_ours['size']
    tar_ratio = float(raw) / best_tar['size']
    print()
    print('| %-34s | %9s | %8s | %14s | %6s | %8s |' % ('', 'best time', 'CPU s', 'archive bytes', 'ratio', 'MB/s'))
    print('|%s|%s|%s|%s|%s|%s|' % ('-' * 36, '-' * 11, '-' * 10, '-' * 16, '-' * 8, '-' * 10))
    for label, best, ratio in (('create_archive (zstd -3, verified)', best_ours, our_ratio), ('tar czf (gzip -6)', best_tar, tar_ratio)):
        print('| %-34s | %8.2fs | %8.2f | %14d | %6.3f | %8.1f |'
              % (label, best['seconds'], best['cpu'], best['size'], ratio, raw / 1e6 / best['seconds']))
    print()
    speedup = best_tar['seconds'] / best_ours['seconds']
    print('tar czf time / ours: %.2fx (goal >= 3x)%s; CPU seconds, tar czf / ours: %.2fx'
          % (speedup, '' if speedup >= 3 else '  BELOW GOAL', best_tar['cpu'] / best_ours['cpu']))
    print('our compression ratio vs tar czf\'s: %.3f (%.3f vs %.3f; goal >= 1)%s'
          % (our_ratio / tar_ratio, our_ratio, tar_ratio, '' if our_ratio >= tar_ratio else '  BELOW GOAL'))
    print('our best run: %.2fs writing, %.2fs verifying' % (best_ours['seconds'] - best_ours['verify'], best_ours['verify']))
    if args.by_kind:
        by_kind(folder)


if __name__ == '__main__':
    main()
