"""From OpenMetadata's CustomDashboardConnection to the binary's SigmaConnection.

A Custom Dashboard service carries its settings in ``connectionOptions``, a map of strings
that OpenMetadata stores in plain text. Each key is a SigmaConnection field; values are
converted to the field's type here. Write the secret as an environment reference, so the
secret itself is never stored in OpenMetadata; the reference is passed on unexpanded and the
binary expands it from its own environment:

- ``${SIGMA_CLIENT_SECRET}``: the binary's own syntax. Right for services created in the UI
  (OpenMetadata hands the stored value over as it is).
- ``env:SIGMA_CLIENT_SECRET``: the same, written so that ``metadata ingest -c FILE`` leaves it
  alone (that CLI expands ``$VAR`` and ``${VAR}`` in the whole file before reading it, and
  then stores the expanded secret with the service it creates).
"""

from __future__ import annotations

import json
import re
from typing import Any, Callable, Dict

REQUIRED = ("hostPort", "clientId", "clientSecret")


_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def _text(value: str) -> str:
    if value.startswith("env:"):
        name = value[len("env:") :]
        if not _ENV_NAME.fullmatch(name):
            raise ValueError(f"`env:` must be followed by an environment variable name, not `{name}`")
        # The binary expands it (docs/configuration.md: ${VAR} substitution).
        return "${" + name + "}"
    return value


def _integer(value: str) -> int:
    return int(value.strip())


def _number(value: str) -> float:
    return float(value.strip())


def _boolean(value: str) -> bool:
    lowered = value.strip().lower()
    if lowered in ("true", "yes", "1"):
        return True
    if lowered in ("false", "no", "0"):
        return False
    raise ValueError("expected true or false")


def _object(value: str) -> Dict[str, Any]:
    parsed = json.loads(value)
    if not isinstance(parsed, dict):
        raise ValueError("expected a JSON object")
    return parsed


#: Every SigmaConnection field connectionOptions may set, with its converter.
OPTIONS: Dict[str, Callable[[str], Any]] = {
    "hostPort": _text,
    "clientId": _text,
    "clientSecret": _text,
    "apiVersion": _text,
    "tokenUrl": _text,
    "pageSize": _integer,
    "maxConcurrency": _integer,
    "requestsPerSecond": _number,
    "requestTimeout": _integer,
    "connectTimeout": _integer,
    "maxRetries": _integer,
    "retryTimeout": _integer,
    "maxResponseBytes": _integer,
    "allowInsecureHttp": _boolean,
    "connectionServiceMap": _object,
}

FILTERS = ("dashboardFilterPattern", "chartFilterPattern", "dataModelFilterPattern", "projectFilterPattern")


class ConnectionOptionsError(ValueError):
    """connectionOptions cannot make a SigmaConnection; the message names the key."""


def sigma_connection(custom: Any) -> Dict[str, Any]:
    """The SigmaConnection (as the binary reads it) for a CustomDashboardConnection."""
    options = dict(custom.connectionOptions.root) if custom.connectionOptions else {}
    missing = [key for key in REQUIRED if not options.get(key)]
    if missing:
        raise ConnectionOptionsError(
            "connectionOptions must set "
            + ", ".join(missing)
            + " (hostPort: your Sigma API URL, e.g. https://aws-api.sigmacomputing.com; "
            "clientSecret as an environment reference such as ${SIGMA_CLIENT_SECRET})"
        )
    connection: Dict[str, Any] = {"type": "Sigma"}
    for key, value in options.items():
        convert = OPTIONS.get(key)
        if convert is None:
            raise ConnectionOptionsError(
                f"connectionOptions.{key} is not a Sigma connection setting; use one of: {', '.join(OPTIONS)}"
            )
        try:
            connection[key] = convert(value)
        except ValueError as err:
            # The value may be a secret: name the key, never echo the value.
            detail = str(err) if convert is _text else f"expected {convert.__name__.strip('_')}"
            raise ConnectionOptionsError(f"connectionOptions.{key} has a value of the wrong kind: {detail}") from None
    for key in FILTERS:
        pattern = getattr(custom, key, None)
        if pattern is not None:
            dumped = pattern.model_dump(exclude_none=True)
            if dumped:
                connection[key] = dumped
    return connection
