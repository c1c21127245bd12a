"""`dialflow serve --workers N`: N server processes sharing one port, each taking whole calls.

The supervisor (the process you started) loads nothing heavy: it checks the flow, reserves
nothing but a table of shared memory (`WorkerBoard`) and a metrics directory
(`PROMETHEUS_MULTIPROC_DIR`, a temp dir unless set) and a private runtime directory
(`DIALFLOW_RUNTIME_DIR`, a temp dir unless set; 0700) where the workers record which one
holds which call and answer each other on Unix sockets (call_owners.py, forwarding.py), so a
Twilio callback that lands on another worker than the call's still reaches it; then it
forks the workers. Each worker
builds its own services, warms its models, and only then binds its own `SO_REUSEPORT`
socket on the port, so the kernel spreads new connections over the workers that are ready
and never hands one to a worker that is warming up or gone. The first worker starts alone
(it may fill an empty embedded knowledge base); the others start once it serves.

Signals go to the supervisor (workers run in their own process group, so a terminal's
Ctrl-C reaches the supervisor only, and they get SIGTERM if it dies): SIGTERM/SIGINT is
forwarded to every worker, which drains (`--drain`); a second one stops them at once. SIGHUP
is forwarded (each worker reloads the flow). A worker that dies while serving loses only its
own calls: it is logged, its live metrics and its entries in the call registry are dropped
(callbacks for its calls get a goodbye from the others), and a replacement starts. A worker
that fails before it ever served (a start-up error) stops the whole server with its code.
Touches: processes it forks, its metrics and runtime directories, the listening port.
"""

from __future__ import annotations

import argparse
import contextlib
import ctypes
import errno
import logging
import os
import shutil
import signal
import socket
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from engine.app.server.board import WorkerBoard, WorkerSlot
from engine.app.server.call_owners import wipe
from engine.app.server.metrics import MULTIPROC_ENV, enable_multiprocess, worker_exited
from engine.environment import DIALFLOW_RUNTIME_DIR

log = logging.getLogger("dialflow.workers")
POLL_SECONDS = 0.1
QUICK_DEATH_SECONDS = 10.0  # a worker that dies sooner than this is restarted after a pause
RESTART_PAUSE = 5.0
PR_SET_PDEATHSIG = 1

#: Runs one worker: gets the parsed args and the worker's slot, returns its exit code.
WorkerMain = Callable[[argparse.Namespace, WorkerSlot], int]


def default_workers() -> int:
    """One worker per core this process may run on."""
    with contextlib.suppress(AttributeError, OSError):
        return max(1, len(os.sched_getaffinity(0)))
    return max(1, os.cpu_count() or 1)


def reuse_port_socket(host: str, port: int) -> socket.socket:
    """A listening TCP socket on (host, port) that other workers may bind too."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind((host, port))
    sock.listen(2048)
    return sock


def port_in_use(host: str, port: int) -> bool:
    """True when something already listens there (a plain bind, without SO_REUSEPORT, fails)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as exc:
            return exc.errno == errno.EADDRINUSE
    return False


def _die_with_parent() -> None:
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


class Supervisor:
    def __init__(self, args: argparse.Namespace, count: int, worker_main: WorkerMain) -> None:
        self.args = args
        self.count = count
        self.worker_main = worker_main
        self.board = WorkerBoard(count)
        self.pids: dict[int, int] = {}  # pid -> worker index
        self.started_at: dict[int, float] = {}
        self.served: set[int] = set()  # indexes whose current process has served
        self.restart_at: dict[int, float] = {}
        self.signals = 0
        self.started_rest = False
        self.result = 0
        self._own_metrics_dir: str | None = None
        self.runtime: Path | None = None
        self._own_runtime = False

    # -- processes ----------------------------------------------------------------------

    def _spawn(self, index: int) -> None:
        sys.stdout.flush()
        sys.stderr.flush()
        pid = os.fork()
        if pid == 0:
            self._become_worker(index)
        self.pids[pid] = index
        self.started_at[index] = time.monotonic()
        self.served.discard(index)
        log.debug("worker %d started (pid %d)", index, pid)

    def _become_worker(self, index: int) -> None:
        code = 1
        try:
            for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
                signal.signal(sig, signal.SIG_DFL)
            os.setpgid(0, 0)
            _die_with_parent()
            code = self.worker_main(self.args, WorkerSlot(self.board, index, self.runtime))
        except BaseException:  # the worker must never fall back into the supervisor's loop
            log.exception("worker %d crashed", index)
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(code)

    def _forward(self, sig: int) -> None:
        for pid in list(self.pids):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, sig)

    def _on_stop(self, sig: int, _frame: object) -> None:
        self.signals += 1
        if self.signals == 1:
            log.warning("signal %s: workers drain their calls (a second signal stops them now)",
                        signal.Signals(sig).name)
        self._forward(signal.SIGTERM)

    def _on_hup(self, _sig: int, _frame: object) -> None:
        self._forward(signal.SIGHUP)

    def _stop_all(self, code: int) -> None:
        self.result = self.result or code
        self.signals = max(self.signals, 1)
        self._forward(signal.SIGTERM)

    def _reap(self) -> None:
        while self.pids:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return
            index = self.pids.pop(pid, None)
            if index is None:
                continue
            worker_exited(pid)
            self.board.clear(index)
            if self.runtime is not None:
                wipe(self.runtime, index)  # its calls are no longer anyone's
            code = os.waitstatus_to_exitcode(status)
            how = f"signal {signal.Signals(-code).name}" if code < 0 else f"exit code {code}"
            if self.signals:
                log.info("worker %d (pid %d) stopped (%s)", index, pid, how)
            elif index not in self.served:
                # Exit code 1 is a start-up error the worker has already printed in one line.
                (log.debug if code == 1 else log.error)(
                    "worker %d (pid %d) failed to start (%s): stopping the server",
                    index, pid, how)
                self._stop_all(code if code > 0 else 1)
            else:
                lived = time.monotonic() - self.started_at.get(index, 0.0)
                pause = RESTART_PAUSE if lived < QUICK_DEATH_SECONDS else POLL_SECONDS
                log.error("worker %d (pid %d) died (%s): its calls are lost, the other workers "
                          "go on; a replacement starts in %.1f s", index, pid, how, pause)
                self.restart_at[index] = time.monotonic() + pause

    def _tend(self) -> None:
        for index in self.pids.values():
            if index not in self.served and self.board.read(index).serving:
                self.served.add(index)
                log.info("worker %d serves (pid %d)", index, self.board.read(index).pid)
                if index == 0 and not self.started_rest:
                    self.started_rest = True
                    log.warning("dialflow serve: %d workers on http://%s:%d (pid %d "
                                "supervises)", self.count, self.args.host, self.args.port,
                                os.getpid())
        running = set(self.pids.values())
        if 0 in self.served:  # the first worker is up: start the rest
            for index in range(1, self.count):
                if index not in running and index not in self.restart_at \
                        and index not in self.started_at:
                    self._spawn(index)
        now = time.monotonic()
        for index, at in list(self.restart_at.items()):
            if at <= now:
                del self.restart_at[index]
                self._spawn(index)

    # -- the supervisor's life ----------------------------------------------------------

    def _metrics_dir(self) -> None:
        directory = os.environ.get(MULTIPROC_ENV)
        if not directory:
            directory = self._own_metrics_dir = tempfile.mkdtemp(prefix="dialflow-metrics-")
        enable_multiprocess(Path(directory))

    def _runtime_dir(self) -> str:
        """Make (or check) the private runtime directory; '' or the one line that says why
        it cannot be used (a directory others may read is refused, never re-permissioned)."""
        given = os.environ.get(DIALFLOW_RUNTIME_DIR, "").strip()
        if not given:
            self.runtime, self._own_runtime = Path(tempfile.mkdtemp(prefix="dialflow-run-")), True
            return ""
        path = Path(given)
        try:
            path.mkdir(parents=True, exist_ok=True, mode=0o700)
            info = path.stat()
        except OSError as exc:
            return f"{DIALFLOW_RUNTIME_DIR} {given!r} cannot be made: {exc.strerror}"
        if info.st_uid != os.getuid() or info.st_mode & 0o077:
            return (f"{DIALFLOW_RUNTIME_DIR} {given!r} must be a directory of this user that "
                    "nobody else can read (chmod 700), or unset")
        for index in range(self.count):
            wipe(path, index)  # what an earlier run left
        self.runtime = path
        return ""

    def run(self) -> int:
        if port_in_use(self.args.host, self.args.port):
            print(f"dialflow serve: {self.args.host}:{self.args.port} is already in use",
                  file=sys.stderr)
            return 1
        problem = self._runtime_dir()
        if problem:
            print(f"dialflow serve: {problem}", file=sys.stderr)
            return 1
        self._metrics_dir()
        signal.signal(signal.SIGTERM, self._on_stop)
        signal.signal(signal.SIGINT, self._on_stop)
        signal.signal(signal.SIGHUP, self._on_hup)
        try:
            self._spawn(0)
            while self.pids or (self.restart_at and not self.signals):
                self._reap()
                if not self.signals:
                    self._tend()
                time.sleep(POLL_SECONDS)
        finally:
            self._forward(signal.SIGKILL)
            if self._own_metrics_dir:
                shutil.rmtree(self._own_metrics_dir, ignore_errors=True)
            if self.runtime is not None and self._own_runtime:
                shutil.rmtree(self.runtime, ignore_errors=True)
        return self.result
