#!/usr/bin/env python
# Copyright (c) 2026, clawd.ops contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Run one stand-in: ``python3 -m standins <service> --listen 127.0.0.1:PORT [--state-dir DIR] [--config FILE]``.

Prints ``<service> listening on http://HOST:PORT`` once bound (PORT 0 picks a free port),
serves until SIGTERM or SIGINT, then exits 0. Exit status 2 for bad arguments or configuration.
"""

import argparse
import json
import signal
import sys
import threading

from . import SERVICES, load_service


def parse_listen(text):
    """``HOST:PORT`` or ``[V6]:PORT`` -> (host, port)."""
    host, sep, port = text.rpartition(":")
    if not sep or not host:
        raise ValueError("--listen wants HOST:PORT, e.g. 127.0.0.1:8081")
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    try:
        port = int(port)
    except ValueError:
        raise ValueError("--listen port %r is not a number" % port) from None
    if not 0 <= port <= 65535:
        raise ValueError("--listen port %d is out of range" % port)
    return host, port


def main(argv=None):
    """CLI entry point; returns the exit status."""
    parser = argparse.ArgumentParser(prog="python3 -m standins", description="Run a loopback stand-in of an outside service.")
    parser.add_argument("service", choices=sorted(SERVICES))
    parser.add_argument("--listen", required=True, metavar="HOST:PORT", help="loopback address to bind (127.0.0.0/8 or [::1])")
    parser.add_argument("--state-dir", metavar="DIR", help="persist the service's state in DIR")
    parser.add_argument("--config", metavar="FILE", help="JSON file with the service's credentials and settings")
    args = parser.parse_args(argv)

    try:
        host, port = parse_listen(args.listen)
        config = {}
        if args.config:
            with open(args.config, encoding="utf-8") as handle:
                config = json.load(handle)
        standin = load_service(args.service)(config=config, host=host, port=port, state_dir=args.state_dir)
        running = standin.serve_in_thread()
    except (OSError, ValueError, KeyError, TypeError) as exc:
        print("standins %s: %s" % (args.service, exc), file=sys.stderr)
        return 2

    stop = threading.Event()

    def on_signal(_signum, _frame):
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    print("%s listening on %s" % (args.service, running.url), flush=True)
    try:
        while not stop.wait(0.5):
            pass
    finally:
        running.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
