"""deploy/kubernetes/: every manifest passes the Kubernetes schema (kubernetes-validate,
strict: no unknown field), and they fit together and with the service's settings."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.servers import REPO_ROOT

MANIFESTS = REPO_ROOT / "deploy" / "kubernetes"
# The oldest release the manifests are meant for, and the newest the validator knows.
KUBERNETES_VERSIONS = ("1.29.0", "1.37.0")


def validator() -> str:
    found = shutil.which("kubernetes-validate", path=str(Path(sys.executable).parent))
    assert found is not None, "kubernetes-validate is a dev dependency"
    return found


def validate(*files: Path, version: str) -> subprocess.CompletedProcess[str]:
    command = [validator(), "--strict", "--kubernetes-version", version, *map(str, files)]
    return subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)


def resources() -> dict[str, dict[str, Any]]:
    """Each object of the kustomization, by kind (and the Secrets by name)."""
    found: dict[str, dict[str, Any]] = {}
    for path in sorted(MANIFESTS.glob("*.yaml")):
        if path.name == "kustomization.yaml":
            continue
        for document in yaml.safe_load_all(path.read_text()):
            key = document["kind"]
            if key == "Secret":
                key = f"Secret/{document['metadata']['name']}"
            found[key] = document
    return found


@pytest.fixture(scope="module")
def manifests() -> dict[str, dict[str, Any]]:
    return resources()


def api_container(manifests: dict[str, dict[str, Any]]) -> dict[str, Any]:
    container: dict[str, Any] = manifests["Deployment"]["spec"]["template"]["spec"]["containers"][0]
    return container


@pytest.mark.parametrize("version", KUBERNETES_VERSIONS)
def test_every_manifest_passes_the_kubernetes_schema(version: str) -> None:
    files = sorted(p for p in MANIFESTS.glob("*.yaml") if p.name != "kustomization.yaml")
    result = validate(*files, version=version)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.count("passed for resource") == 8, result.stdout


def test_the_validator_rejects_a_field_kubernetes_does_not_know(tmp_path: Path) -> None:
    broken = yaml.safe_load((MANIFESTS / "deployment.yaml").read_text())
    broken["spec"]["template"]["spec"]["containers"][0]["livenesProbe"] = {}
    path = tmp_path / "deployment.yaml"
    path.write_text(yaml.safe_dump(broken))
    assert validate(path, version=KUBERNETES_VERSIONS[-1]).returncode != 0


def test_the_kustomization_lists_every_manifest() -> None:
    kustomization = yaml.safe_load((MANIFESTS / "kustomization.yaml").read_text())
    files = {p.name for p in MANIFESTS.glob("*.yaml")} - {"kustomization.yaml"}
    assert sorted(kustomization["resources"]) == sorted(files)


def test_pods_run_unprivileged_on_a_read_only_root(manifests: dict[str, dict[str, Any]]) -> None:
    for kind in ("Deployment", "Job"):
        pod = manifests[kind]["spec"]["template"]["spec"]
        assert pod["securityContext"]["runAsNonRoot"] is True
        assert pod["securityContext"]["runAsUser"] == 10001  # the image's user
        for container in pod["containers"]:
            assert container["securityContext"]["readOnlyRootFilesystem"] is True
            assert container["securityContext"]["allowPrivilegeEscalation"] is False
            assert container["resources"]["requests"]["cpu"]
            assert container["resources"]["limits"]["memory"]


def test_the_probes_use_the_health_endpoints(manifests: dict[str, dict[str, Any]]) -> None:
    container = api_container(manifests)
    assert container["livenessProbe"]["httpGet"]["path"] == "/health/live"
    assert container["readinessProbe"]["httpGet"]["path"] == "/health/ready"
    # `serve` waits up to DB_STARTUP_TIMEOUT for the database before it listens.
    startup = container["startupProbe"]
    config = manifests["ConfigMap"]["data"]
    allowed = startup["periodSeconds"] * startup["failureThreshold"]
    assert allowed > float(config["DB_STARTUP_TIMEOUT"])


def test_the_pod_drains_before_it_is_killed(manifests: dict[str, dict[str, Any]]) -> None:
    pod = manifests["Deployment"]["spec"]["template"]["spec"]
    pre_stop = api_container(manifests)["lifecycle"]["preStop"]["exec"]["command"]
    assert pre_stop[0] == "sleep"
    grace = int(manifests["ConfigMap"]["data"]["SHUTDOWN_GRACE_SECONDS"])
    assert pod["terminationGracePeriodSeconds"] > int(pre_stop[1]) + grace


def test_api_keys_come_from_a_secret_file(manifests: dict[str, dict[str, Any]]) -> None:
    pod = manifests["Deployment"]["spec"]["template"]["spec"]
    keys_file = Path(manifests["ConfigMap"]["data"]["API_KEYS_FILE"])
    mount = next(
        m
        for m in api_container(manifests)["volumeMounts"]
        if m["mountPath"] == str(keys_file.parent)
    )
    volume = next(v for v in pod["volumes"] if v["name"] == mount["name"])
    secret = manifests[f"Secret/{volume['secret']['secretName']}"]
    assert keys_file.name in secret["stringData"]


def test_the_migration_runs_as_a_job_and_the_pods_only_serve(
    manifests: dict[str, dict[str, Any]],
) -> None:
    job = manifests["Job"]["spec"]["template"]["spec"]
    assert job["containers"][0]["command"] == ["python", "-m", "service", "migrate"]
    assert job["restartPolicy"] == "Never"
    assert api_container(manifests)["command"] == ["python", "-m", "service", "serve"]


def test_the_service_pdb_and_hpa_select_the_api_pods(manifests: dict[str, dict[str, Any]]) -> None:
    labels = manifests["Deployment"]["spec"]["template"]["metadata"]["labels"]
    assert manifests["Deployment"]["spec"]["selector"]["matchLabels"].items() <= labels.items()
    assert manifests["Service"]["spec"]["selector"].items() <= labels.items()
    assert (
        manifests["PodDisruptionBudget"]["spec"]["selector"]["matchLabels"].items()
        <= labels.items()
    )
    target = manifests["HorizontalPodAutoscaler"]["spec"]["scaleTargetRef"]
    assert (target["kind"], target["name"]) == (
        "Deployment",
        manifests["Deployment"]["metadata"]["name"],
    )


def test_the_pool_fits_the_database_at_the_most_replicas(
    manifests: dict[str, dict[str, Any]],
) -> None:
    """PostgreSQL's default max_connections is 100, 3 of them reserved for superusers; the
    migration Job needs 2 (its lock and Aerich's) while a rollout may add a surge pod."""
    spec = manifests["Deployment"]["spec"]
    most = manifests["HorizontalPodAutoscaler"]["spec"]["maxReplicas"]
    most += spec["strategy"]["rollingUpdate"]["maxSurge"]
    pool = int(manifests["ConfigMap"]["data"]["DB_POOL_MAX_SIZE"])
    assert most * pool + 2 <= 100 - 3


def test_prometheus_scrapes_metrics(manifests: dict[str, dict[str, Any]]) -> None:
    annotations = manifests["Deployment"]["spec"]["template"]["metadata"]["annotations"]
    assert annotations["prometheus.io/scrape"] == "true"
    assert annotations["prometheus.io/path"] == "/metrics"
    assert annotations["prometheus.io/port"] == manifests["ConfigMap"]["data"]["PORT"]
