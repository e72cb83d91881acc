# Copyright (c) 2026, clawd.ops contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Loopback HTTP stand-ins for the outside services the collection talks to.

    from standins import load_service
    with load_service("telegram")(config={"tokens": [...]}).serve_in_thread() as running:
        ...  # talk to running.url

Command line: ``PYTHONPATH=lab python3 -m standins <service> --listen 127.0.0.1:PORT``.
"""

import importlib

from .framework import MASK, Fault, Request, Response, RunningStandIn, StandIn, check_loopback, json_response, route

# Service name -> "module:class" (imported on demand).
SERVICES = {
    "coolify": "coolify:CoolifyStandIn",
    "telegram": "telegram:TelegramStandIn",
    "twilio": "twilio:TwilioStandIn",
}

__all__ = [
    "MASK", "SERVICES", "Fault", "Request", "Response", "RunningStandIn", "StandIn",
    "check_loopback", "json_response", "load_service", "route",
]


def load_service(name):
    """The StandIn subclass for a service name; KeyError for an unknown one."""
    module_name, class_name = SERVICES[name].split(":")
    module = importlib.import_module("." + module_name, __name__)
    return getattr(module, class_name)
