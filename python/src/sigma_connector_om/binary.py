"""Where the sigma-connector binary is, and how it is run."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
import threading
from collections import deque
from pathlib import Path
from typing import IO, Callable, Iterator, Optional

ENV_VAR = "SIGMA_CONNECTOR_BIN"
BINARY_NAME = "sigma-connector"


class BinaryNotFound(RuntimeError):
    """The binary is neither installed beside this module nor named by SIGMA_CONNECTOR_BIN."""


class BinaryRunError(RuntimeError):
    """The binary could not run to the end (it wrote no status)."""


def find_binary() -> str:
    """The binary: ``$SIGMA_CONNECTOR_BIN``, else the one the wheel installed (the
    environment's scripts folder, which holds this interpreter), else one beside this
    module, else the first on PATH."""
    named = os.environ.get(ENV_VAR)
    if named:
        path = Path(named)
        if path.is_file() and os.access(path, os.X_OK):
            return str(path)
        raise BinaryNotFound(f"{ENV_VAR}={named} is not an executable file; point it at a built sigma-connector binary")
    candidates = [
        Path(sysconfig.get_path("scripts")) / BINARY_NAME,
        Path(sys.executable).parent / BINARY_NAME,
        Path(__file__).resolve().parent / BINARY_NAME,
    ]
    for path in candidates:
        if path.is_file() and os.access(path, os.X_OK):
            return str(path)
    on_path = shutil.which(BINARY_NAME)
    if on_path:
        return on_path
    raise BinaryNotFound(
        f"the {BINARY_NAME} binary was not found (looked in {', '.join(str(c.parent) for c in candidates)} and PATH); "
        f"install the sigma-connector wheel in this environment, or set {ENV_VAR} to the binary"
    )


def _relay(stream: IO[str], log: Callable[[str, str], None], tail: deque) -> None:
    """Passes the binary's log lines (JSON, one per line) to `log(level, message)`."""
    for line in stream:
        line = line.rstrip("\n")
        if not line:
            continue
        try:
            # `--log-format json`: one flat object per event (tracing's flatten_event).
            event = json.loads(line)
            if not isinstance(event, dict):
                raise ValueError("not an event")
            level = str(event.pop("level", "INFO")).upper()
            message = str(event.pop("message", ""))
            for key in ("timestamp", "target", "span", "spans"):
                event.pop(key, None)
            extra = " ".join(f"{k}={v}" for k, v in event.items())
            text = f"{message} {extra}".strip()
        except ValueError:
            # The status table and other plain lines.
            level, text = "INFO", line
        tail.append(text)
        log(level, text)


class BinaryRun:
    """One ``sigma-connector ingest`` run: the workflow goes in on stdin (so no secret is
    written to disk), records come out on stdout as they are produced, the status is read
    from ``--status-file`` when the process has ended."""

    def __init__(self, binary: str, workflow: dict, status_file: Path, log: Callable[[str, str], None], log_level: str):
        self.status_file = status_file
        self._tail: deque = deque(maxlen=20)
        self._proc = subprocess.Popen(
            [
                binary,
                "--log-format",
                "json",
                "--log-level",
                log_level,
                "ingest",
                "--config",
                "-",
                "--output",
                "-",
                "--status-file",
                str(status_file),
                # OpenMetadata applies its own successThreshold to what we report.
                "--success-threshold",
                "0",
            ],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            encoding="utf-8",
        )
        self._stderr = threading.Thread(target=_relay, args=(self._proc.stderr, log, self._tail), daemon=True)
        self._stderr.start()
        assert self._proc.stdin is not None
        try:
            self._proc.stdin.write(json.dumps(workflow))
            self._proc.stdin.close()
        except BrokenPipeError:
            pass  # it exited at once; finish() reports why

    def records(self) -> Iterator[dict]:
        assert self._proc.stdout is not None
        for number, line in enumerate(self._proc.stdout, start=1):
            if not line.strip():
                continue
            try:
                yield json.loads(line)
            except ValueError as err:
                raise BinaryRunError(f"sigma-connector wrote a line that is not JSON (record {number}): {err}") from err

    def drain(self) -> int:
        """Reads and drops what is left on stdout (so the process can exit); how many lines."""
        assert self._proc.stdout is not None
        return sum(1 for line in self._proc.stdout if line.strip())

    def finish(self) -> dict:
        """Waits for the process and returns its status (docs/openmetadata-native.md lists
        the fields relied on)."""
        code = self._proc.wait()
        self._stderr.join(timeout=10)
        if not self.status_file.exists():
            last = "; ".join(self._tail) or "no output"
            raise BinaryRunError(f"sigma-connector ingest ended with exit code {code} and wrote no status: {last}")
        with self.status_file.open(encoding="utf-8") as handle:
            status = json.load(handle)
        status["exitCode"] = code
        return status

    def stop(self) -> None:
        if self._proc.poll() is None:
            self._proc.terminate()
            try:
                self._proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait()


def run_test_connection(binary: str, connection: dict, timeout_seconds: Optional[float]) -> dict:
    """``sigma-connector test-connection`` on a bare SigmaConnection; its JSON result."""
    timeout = min(max(float(timeout_seconds or 60), 1.0), 3600.0)
    proc = subprocess.run(
        [binary, "test-connection", "--config", "-", "--timeout", f"{timeout:g}"],
        input=json.dumps(connection),
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=timeout + 30,
        check=False,
    )
    try:
        return json.loads(proc.stdout)
    except ValueError as err:
        raise BinaryRunError(
            f"sigma-connector test-connection exited {proc.returncode} without a result: {proc.stderr.strip()[-500:]}"
        ) from err
