"""The deployment files agree with the code (docker is not available here, so they are checked
statically): Kubernetes manifests validate against the Kubernetes schemas; probes ask paths
the app serves (readiness from /health/ready, which is 503 while draining); ports, the drain
time and the grace period line up; every Secret and env var the files set is one dialflow
reads; the Dockerfile runs as non-root with a health check; compose wires dialflow to
PostgreSQL, Chroma and a Prometheus that scrapes /metrics."""

from __future__ import annotations

import json
import re
import shlex
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import kubernetes_validate
import pytest
import yaml
from sqlalchemy.engine import make_url

from engine.app.cli import build_parser
from engine.app.server.app import create_app

ROOT = Path(__file__).resolve().parents[2]
K8S = ROOT / "deploy" / "k8s"
SOURCE_DIRS = ("engine", "adapters", "tools", "knowledge", "flows", "states")
PRESTOP_MARGIN = 5  # seconds of grace beyond preStop + drain


def routes() -> set[str]:
    app = create_app(SimpleNamespace())  # type: ignore[arg-type]  # routes only, never served
    return {route.path for route in app.routes}


def serve_args(argv: list[str]) -> Any:
    assert argv[:2] == ["dialflow", "serve"], argv
    return build_parser().parse_args(argv[1:])


def code_reads(name: str) -> bool:
    """True when some source file names this environment variable (as a string literal)."""
    if name == "PROMETHEUS_MULTIPROC_DIR":
        return True  # read by prometheus_client itself (and by engine/app/server/metrics.py)
    pattern = re.compile(rf"[\"']{re.escape(name)}[\"']")
    return any(pattern.search(p.read_text(errors="replace"))
               for d in SOURCE_DIRS for p in (ROOT / d).rglob("*.py"))


def k8s_docs() -> list[dict]:
    docs = []
    for path in sorted(K8S.glob("*.yaml")):
        docs += [d for d in yaml.safe_load_all(path.read_text()) if d]
    return docs


def one(kind: str) -> dict:
    (doc,) = [d for d in k8s_docs() if d["kind"] == kind]
    return doc


@pytest.mark.parametrize("doc", [d for d in k8s_docs() if d["kind"] != "Kustomization"],
                         ids=lambda d: d["kind"])
def test_each_manifest_is_valid_kubernetes(doc: dict) -> None:
    kubernetes_validate.validate(doc, "1.30.0", strict=True)


def test_kustomization_lists_every_manifest() -> None:
    listed = set(yaml.safe_load((K8S / "kustomization.yaml").read_text())["resources"])
    assert listed == {p.name for p in K8S.glob("*.yaml")} - {"kustomization.yaml"}


def test_deployment_probes_ports_and_drain_match_the_server() -> None:
    pod = one("Deployment")["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    args = serve_args(container["args"])
    (port,) = container["ports"]
    assert port["containerPort"] == args.port and args.host == "0.0.0.0"
    served = routes()
    ready, live = container["readinessProbe"]["httpGet"], container["livenessProbe"]["httpGet"]
    assert ready["path"] == "/health/ready" and ready["path"] in served
    assert live["path"] == "/health/live" and live["path"] in served
    assert container["startupProbe"]["httpGet"]["path"] in served
    for probe in (ready, live, container["startupProbe"]["httpGet"]):
        assert probe["port"] in (port["name"], port["containerPort"])
    assert container["readinessProbe"]["failureThreshold"] == 1  # out at the first 503
    prestop = container["lifecycle"]["preStop"]["exec"]["command"]
    assert prestop[0] == "sleep"
    assert pod["terminationGracePeriodSeconds"] >= int(prestop[1]) + args.drain + PRESTOP_MARGIN
    assert args.workers >= 2
    labels = one("Deployment")["spec"]["template"]["metadata"]["labels"]
    assert one("Deployment")["spec"]["selector"]["matchLabels"].items() <= labels.items()
    annotations = one("Deployment")["spec"]["template"]["metadata"]["annotations"]
    assert annotations["prometheus.io/path"] == "/metrics" and "/metrics" in served
    assert int(annotations["prometheus.io/port"]) == args.port


def test_the_pod_runs_as_non_root_with_writable_dirs_mounted() -> None:
    pod = one("Deployment")["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["securityContext"]["runAsUser"] != 0
    assert container["securityContext"]["readOnlyRootFilesystem"] is True
    mounts = {m["mountPath"] for m in container["volumeMounts"]}
    config = one("ConfigMap")["data"]
    env = dockerfile_env()
    writable = [config["PROMETHEUS_MULTIPROC_DIR"], env["DIALFLOW_TTS_CACHE"],
                env["DIALFLOW_TRANSCRIPTS"], env["HOME"]]
    for path in writable:
        assert any(path == m or path.startswith(m + "/") for m in mounts), path


def test_pdb_and_service_select_the_pods_and_reach_the_container_port() -> None:
    labels = one("Deployment")["spec"]["template"]["metadata"]["labels"]
    pdb, service = one("PodDisruptionBudget"), one("Service")
    assert pdb["spec"]["selector"]["matchLabels"].items() <= labels.items()
    assert 1 <= pdb["spec"]["minAvailable"] < one("Deployment")["spec"]["replicas"]
    assert service["spec"]["selector"].items() <= labels.items()
    (container,) = one("Deployment")["spec"]["template"]["spec"]["containers"]
    names = {p["name"] for p in container["ports"]}
    assert all(p["targetPort"] in names for p in service["spec"]["ports"])
    backend = one("Ingress")["spec"]["rules"][0]["http"]["paths"][0]["backend"]["service"]
    assert backend["name"] == service["metadata"]["name"]
    assert backend["port"]["name"] in {p["name"] for p in service["spec"]["ports"]}
    annotations = one("Ingress")["metadata"]["annotations"]
    timeout = annotations["nginx.ingress.kubernetes.io/proxy-read-timeout"]
    assert int(timeout) >= 3600  # a media WebSocket lives as long as the call


def test_secrets_and_settings_are_ones_dialflow_reads() -> None:
    (container,) = one("Deployment")["spec"]["template"]["spec"]["containers"]
    sources = {s.get("secretRef", s.get("configMapRef"))["name"] for s in container["envFrom"]}
    assert sources == {one("Secret")["metadata"]["name"], one("ConfigMap")["metadata"]["name"]}
    secret, config = one("Secret")["stringData"], one("ConfigMap")["data"]
    for name in [*secret, *config]:
        assert code_reads(name), f"{name} is set but nothing in dialflow reads it"
    assert {"TWILIO_AUTH_TOKEN", "DIALFLOW_DATABASE_URL"} <= secret.keys()
    assert not {k for k in config if k.endswith(("_KEY", "_TOKEN", "_PASSWORD"))}
    assert make_url(secret["DIALFLOW_DATABASE_URL"]).get_backend_name() == "postgresql"
    assert config["DIALFLOW_PUBLIC_URL"].startswith("https://")
    host = one("Ingress")["spec"]["rules"][0]["host"]
    assert config["DIALFLOW_PUBLIC_URL"] == f"https://{host}"


# -- Dockerfile ---------------------------------------------------------------------------

def dockerfile() -> list[tuple[str, str]]:
    text = re.sub(r"\\\n", " ", (ROOT / "Dockerfile").read_text())
    lines = [ln.strip() for ln in text.splitlines()]
    lines = [ln for ln in lines if ln and not ln.startswith("#")]
    return [(ln.split(None, 1)[0].upper(), ln.split(None, 1)[1]) for ln in lines]


def dockerfile_env() -> dict[str, str]:
    env: dict[str, str] = {}
    for op, rest in dockerfile():
        if op == "ENV":
            env.update(dict(pair.split("=", 1) for pair in shlex.split(rest)))
    return env


def final_stage() -> list[tuple[str, str]]:
    steps = dockerfile()
    last_from = max(i for i, (op, _) in enumerate(steps) if op == "FROM")
    return steps[last_from:]


def test_dockerfile_is_slim_non_root_with_a_health_check_on_the_served_port() -> None:
    stage = final_stage()
    ops = dict(stage)
    assert "slim" in ops["FROM"]
    assert all("slim" in rest for op, rest in dockerfile() if op == "FROM")
    user = ops["USER"].split(":")[0]
    assert user.isdigit() and int(user) != 0
    cmd = serve_args(json.loads(ops["CMD"]))
    assert ops["EXPOSE"] == str(cmd.port)
    health = ops["HEALTHCHECK"]
    path = re.search(r"http://127\.0\.0\.1:(\d+)(/[\w/]+)", health)
    assert path and int(path.group(1)) == cmd.port and path.group(2) in routes()
    assert path.group(2) == "/health/live"  # a draining container is still healthy
    env = dockerfile_env()
    assert not [k for k in env if k.endswith(("_KEY", "_TOKEN", "_PASSWORD"))]
    for name in env:
        if name.startswith("DIALFLOW_"):
            assert code_reads(name), name


def test_dockerfile_copies_what_exists_and_loads_the_offline_models_at_build() -> None:
    for op, rest in dockerfile():
        if op == "COPY" and not rest.startswith("--from"):
            for source in rest.split()[:-1]:
                assert (ROOT / source).exists(), source
    build = " ".join(rest for op, rest in dockerfile() if op == "RUN")
    assert "whisper_model()" in build and "piper_voice()" in build
    assert "LocalMiniLMEmbedder().load()" in build


# -- compose ------------------------------------------------------------------------------

def compose() -> dict:
    return yaml.safe_load((ROOT / "compose.yaml").read_text())


def resolve(value: str) -> str:
    """${VAR:?msg} / ${VAR:-default} as compose would with VAR unset or set to 'x'."""
    return re.sub(r"\$\{(\w+)(:[?-][^}]*)?\}", "x", value)


def test_compose_wires_dialflow_to_postgres_chroma_and_prometheus() -> None:
    services = compose()["services"]
    assert {"dialflow", "postgres", "chroma", "prometheus"} <= services.keys()
    dialflow = services["dialflow"]
    args = serve_args(dialflow["command"])
    assert args.workers >= 2
    env = {k: resolve(str(v)) for k, v in dialflow["environment"].items()}
    for name in env:
        assert code_reads(name), name
    url = make_url(env["DIALFLOW_DATABASE_URL"])
    assert url.get_backend_name() == "postgresql" and url.host == "postgres"
    assert url.username == services["postgres"]["environment"]["POSTGRES_USER"]
    assert url.database == services["postgres"]["environment"]["POSTGRES_DB"]
    chroma = services["chroma"]["command"]
    assert env["DIALFLOW_CHROMA_HOST"] == "chroma" and chroma[:2] == ["chroma", "run"]
    assert chroma[chroma.index("--port") + 1] == env["DIALFLOW_CHROMA_PORT"]
    assert f"{args.port}:{args.port}" in dialflow["ports"]
    grace = int(str(dialflow["stop_grace_period"]).rstrip("s"))
    assert grace >= args.drain + PRESTOP_MARGIN
    assert dialflow["depends_on"]["postgres"]["condition"] == "service_healthy"
    assert "${" in str(dialflow["environment"]["TWILIO_AUTH_TOKEN"])  # from .env, not here


def test_prometheus_scrapes_dialflow_metrics() -> None:
    services = compose()["services"]
    (mount,) = services["prometheus"]["volumes"]
    config_file = ROOT / mount.split(":")[0]
    config = yaml.safe_load(config_file.read_text())
    (job,) = config["scrape_configs"]
    assert job["metrics_path"] == "/metrics" and "/metrics" in routes()
    port = serve_args(services["dialflow"]["command"]).port
    assert job["static_configs"][0]["targets"] == [f"dialflow:{port}"]
