"""Start-up errors of `dialflow serve --workers N` are one clear line and exit code 1, never a
pile of worker logs: a port something else holds (SO_REUSEPORT would otherwise let the
workers share it silently) and a bad setting reported by the first worker."""

from __future__ import annotations

import os
import socket
import subprocess
import sys

from tests.deploy.serve_process import ROOT


def serve(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("DIALFLOW_")}
    full_env.update({"PYTHONPATH": str(ROOT), **env})
    return subprocess.run([sys.executable, "-m", "engine.app.cli", "serve", "--workers", "2",
                           *args],
                          cwd=ROOT, env=full_env, capture_output=True, text=True, timeout=120,
                          check=False)


def test_a_port_already_in_use_is_refused_before_any_worker_starts() -> None:
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        done = serve("--port", str(port))
    assert done.returncode == 1
    assert done.stderr == f"dialflow serve: 127.0.0.1:{port} is already in use\n"


def test_a_bad_setting_is_the_workers_one_line() -> None:
    done = serve("--port", "1", DIALFLOW_MAX_CALLS="-3")
    assert done.returncode == 1
    assert done.stderr.count("\n") == 1 and "DIALFLOW_MAX_CALLS" in done.stderr


def test_zero_workers_is_refused() -> None:
    done = subprocess.run([sys.executable, "-m", "engine.app.cli", "serve", "--workers", "0"],
                          cwd=ROOT, capture_output=True, text=True, timeout=60, check=False,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert done.returncode == 2 and "--workers must be at least 1" in done.stderr


def test_one_worker_with_the_containers_metrics_dir_set_serves_metrics(tmp_path) -> None:
    """The Kubernetes ConfigMap sets PROMETHEUS_MULTIPROC_DIR; `--workers 1` must make it."""
    from tests.deploy.serve_process import ServeProcess

    metrics_dir = tmp_path / "not" / "there" / "yet"
    serve = ServeProcess(tmp_path / "one", workers=1,
                         extra_env={"PROMETHEUS_MULTIPROC_DIR": str(metrics_dir)}).start()
    try:
        health = serve.wait_for(lambda h: h["ready"], "one worker serving")
        assert health["capacity"]["workers"] == 1 and "workers" not in health
        assert serve.metric("dialflow_active_calls") == 0
        assert list(metrics_dir.glob("*.db"))
    finally:
        assert serve.stop() is not None
