"""The Kubernetes overlays, rendered: valid against the API's schemas, and holding the promises
deploy/README.md makes (probes, limits, non-root read-only pods, nothing of review or registry
reachable from outside except registry's read paths, no secret committed)."""

from __future__ import annotations

import kubernetes_validate
import pytest

from tests.deploy.support import (
    API_PORTS,
    OVERLAYS,
    REGISTRY_READ_PREFIXES,
    SECRET_VARIABLES,
    SERVICES,
    Document,
    containers,
    labels_match,
    of_kind,
    pod_spec,
    rendered,
)

KUBERNETES_VERSION = "1.30"
WORKLOADS = [f"{service}-{role}" for service in SERVICES for role in ("api", "worker")]


@pytest.fixture(params=OVERLAYS)
def overlay(request: pytest.FixtureRequest) -> str:
    name: str = request.param
    return name


@pytest.fixture
def documents(overlay: str) -> list[Document]:
    return rendered(overlay)


def test_every_object_is_valid_against_the_kubernetes_schemas(documents: list[Document]) -> None:
    problems = []
    for document in documents:
        try:
            # strict: an unknown field (a misspelt probe, say) is an error, not silently ignored.
            kubernetes_validate.validate(document, KUBERNETES_VERSION, strict=True)
        except kubernetes_validate.ValidationError as error:
            where = "/".join(str(part) for part in error.path)
            problems.append(
                f"{document['kind']} {document['metadata']['name']}: {where}: {error.message}"
            )
    assert not problems, "\n".join(problems)


def test_the_validation_does_catch_a_misspelt_field() -> None:
    deployment = of_kind(rendered("staging"), "Deployment")["intake-api"]
    container = pod_spec(deployment)["containers"][0]
    container["readinesProbe"] = container.pop("readinessProbe")
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(deployment, KUBERNETES_VERSION, strict=True)


def test_each_service_has_an_api_and_a_worker_deployment_and_a_migration_job(
    documents: list[Document],
) -> None:
    assert sorted(of_kind(documents, "Deployment")) == sorted(WORKLOADS)
    job = of_kind(documents, "Job")["conduct-migrate"]
    (migrate,) = containers(job)
    assert migrate["args"] == ["migrate"]
    assert pod_spec(job)["restartPolicy"] == "Never"


def test_each_deployment_runs_its_role_of_the_one_image(documents: list[Document]) -> None:
    images = set()
    for name, deployment in of_kind(documents, "Deployment").items():
        service, role = name.split("-")
        (container,) = containers(deployment)
        assert container["args"] == [role, service]
        images.add(container["image"])
    for job in of_kind(documents, "Job").values():
        images.update(container["image"] for container in containers(job))
    (image,) = images
    assert image.startswith("registry.conduct.invalid/conduct:"), "the overlay sets the image"
    assert not image.endswith(":latest")


def test_every_deployment_has_probes_and_resource_requests_and_limits(
    documents: list[Document],
) -> None:
    for name, deployment in of_kind(documents, "Deployment").items():
        for container in containers(deployment):
            assert "readinessProbe" in container, name
            assert "livenessProbe" in container, name
            for bound in ("requests", "limits"):
                assert {"cpu", "memory"} <= set(container["resources"][bound]), (name, bound)


def test_the_apis_probe_readyz_for_readiness_and_healthz_for_liveness(
    documents: list[Document],
) -> None:
    for service in SERVICES:
        deployment = of_kind(documents, "Deployment")[f"{service}-api"]
        (container,) = containers(deployment)
        assert container["ports"] == [
            {"name": "http", "containerPort": API_PORTS[service], "protocol": "TCP"}
        ]
        assert container["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": "http"}
        assert container["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": "http"}


def test_the_workers_probe_their_heartbeat(documents: list[Document]) -> None:
    for service in SERVICES:
        (container,) = containers(of_kind(documents, "Deployment")[f"{service}-worker"])
        for probe in ("readinessProbe", "livenessProbe"):
            command = container[probe]["exec"]["command"]
            assert command[:3] == ["/usr/local/bin/conduct-entrypoint", "probe", "heartbeat"]


def test_prometheus_may_scrape_every_api_and_worker(documents: list[Document]) -> None:
    deployments = of_kind(documents, "Deployment")
    for service in SERVICES:
        for role in ("api", "worker"):
            pod = deployments[f"{service}-{role}"]["spec"]["template"]
            annotations = pod["metadata"]["annotations"]
            assert annotations["prometheus.io/scrape"] == "true"
            (container,) = containers(deployments[f"{service}-{role}"])
            ports = {port["containerPort"] for port in container["ports"]}
            assert int(annotations["prometheus.io/port"]) in ports
        (worker,) = containers(deployments[f"{service}-worker"])
        env = {variable["name"]: variable.get("value") for variable in worker["env"]}
        assert env["WORKER_METRICS_PORT"] == "9100"
    policies = of_kind(documents, "NetworkPolicy")
    scraping = policies["metrics-from-monitoring"]["spec"]["ingress"][0]
    assert {port["port"] for port in scraping["ports"]} == {"http", "metrics"}


def test_every_pod_runs_as_non_root_on_a_read_only_root_with_a_tmp_volume(
    documents: list[Document],
) -> None:
    workloads = {**of_kind(documents, "Deployment"), **of_kind(documents, "Job")}
    for name, workload in workloads.items():
        spec = pod_spec(workload)
        assert spec["securityContext"]["runAsNonRoot"] is True, name
        assert spec["securityContext"]["runAsUser"] != 0, name
        assert spec["automountServiceAccountToken"] is False, name
        volumes = {volume["name"]: volume for volume in spec["volumes"]}
        for container in containers(workload):
            context = container["securityContext"]
            assert context["readOnlyRootFilesystem"] is True, name
            assert context["allowPrivilegeEscalation"] is False, name
            assert context["capabilities"]["drop"] == ["ALL"], name
            (tmp,) = [mount for mount in container["volumeMounts"] if mount["mountPath"] == "/tmp"]
            assert "emptyDir" in volumes[tmp["name"]], name


def test_every_deployment_has_an_autoscaler_and_a_disruption_budget(
    documents: list[Document],
) -> None:
    autoscalers = of_kind(documents, "HorizontalPodAutoscaler")
    budgets = of_kind(documents, "PodDisruptionBudget")
    for name, deployment in of_kind(documents, "Deployment").items():
        # The autoscaler owns the count: a count in the manifest would reset it on every apply.
        assert "replicas" not in deployment["spec"], name
        autoscaler = autoscalers[name]
        assert autoscaler["spec"]["scaleTargetRef"] == {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "name": name,
        }
        assert 1 <= autoscaler["spec"]["minReplicas"] <= autoscaler["spec"]["maxReplicas"]
        (metric,) = autoscaler["spec"]["metrics"]
        if name.endswith("-api"):
            assert metric["type"] == "Resource"
            assert metric["resource"]["name"] == "cpu"
        else:
            assert metric["type"] == "External"
            assert metric["external"]["metric"]["name"] == "conduct_queue_depth"
            assert metric["external"]["metric"]["selector"] == {
                "matchLabels": {"service": name.removesuffix("-worker")}
            }
        pod_labels = deployment["spec"]["template"]["metadata"]["labels"]
        budget = budgets[name]
        assert labels_match(budget["spec"]["selector"], pod_labels)
        assert budget["spec"]["maxUnavailable"] == 1


def test_production_runs_more_of_intake_than_staging() -> None:
    def minimum(overlay: str, name: str) -> int:
        autoscaler = of_kind(rendered(overlay), "HorizontalPodAutoscaler")[name]
        count: int = autoscaler["spec"]["minReplicas"]
        return count

    assert minimum("production", "intake-api") > minimum("staging", "intake-api")
    assert minimum("production", "intake-api") >= 2


def test_only_the_apis_have_services_and_none_is_exposed_by_itself(
    documents: list[Document],
) -> None:
    services = of_kind(documents, "Service")
    assert sorted(services) == sorted(f"{service}-api" for service in SERVICES)
    for service in services.values():
        assert service["spec"]["type"] == "ClusterIP"


def test_the_ingress_reaches_intake_and_only_registrys_read_paths(
    documents: list[Document],
) -> None:
    backends: dict[str, list[str]] = {}
    for ingress in of_kind(documents, "Ingress").values():
        hosts = set()
        for rule in ingress["spec"]["rules"]:
            hosts.add(rule["host"])
            for path in rule["http"]["paths"]:
                name = path["backend"]["service"]["name"]
                backends.setdefault(name, []).append(path["path"])
        assert hosts == {host for tls in ingress["spec"]["tls"] for host in tls["hosts"]}
        assert not any(host.endswith(".base.invalid") for host in hosts), "the overlay sets hosts"
    assert set(backends) == {"intake-api", "registry-api"}
    assert sorted(backends["registry-api"]) == sorted(REGISTRY_READ_PREFIXES)
    # intake's API only: its probes and /metrics stay inside the cluster.
    assert backends["intake-api"] == ["/v1"]


def test_network_policies_keep_review_and_registry_from_outside(
    documents: list[Document],
) -> None:
    policies = list(of_kind(documents, "NetworkPolicy").values())
    assert any(
        policy["spec"]["podSelector"] == {}
        and policy["spec"]["policyTypes"] == ["Ingress"]
        and not policy["spec"].get("ingress")
        for policy in policies
    ), "a default deny of all ingress"
    deployments = of_kind(documents, "Deployment")
    for name in ("review-api", "review-worker", "registry-api", "registry-worker"):
        pod_labels = deployments[name]["spec"]["template"]["metadata"]["labels"]
        for policy in policies:
            if not labels_match(policy["spec"]["podSelector"], pod_labels):
                continue
            for rule in policy["spec"].get("ingress", []):
                assert rule.get("from"), f"{policy['metadata']['name']} admits anyone to {name}"
                for peer in rule["from"]:
                    assert "ipBlock" not in peer, (policy["metadata"]["name"], name)
                    if "namespaceSelector" not in peer:
                        continue
                    namespace = peer["namespaceSelector"]["matchLabels"]
                    if namespace == {"kubernetes.io/metadata.name": "monitoring"}:
                        # Prometheus: only the metrics it scrapes.
                        ports = {port["port"] for port in rule["ports"]}
                        assert ports <= {"http", "metrics"}, (policy["metadata"]["name"], name)
                        continue
                    # Any other namespace: only the ingress controller, only to registry's API.
                    assert name == "registry-api", (policy["metadata"]["name"], name)
                    assert namespace == {"kubernetes.io/metadata.name": "ingress-nginx"}


def test_secrets_are_referenced_and_never_committed(documents: list[Document]) -> None:
    assert not of_kind(documents, "Secret")
    (config,) = of_kind(documents, "ConfigMap").values()
    assert not SECRET_VARIABLES & set(config["data"])
    workloads = {**of_kind(documents, "Deployment"), **of_kind(documents, "Job")}
    for name, workload in workloads.items():
        for container in containers(workload):
            assert container["envFrom"] == [{"configMapRef": {"name": "conduct-config"}}]
            for variable in container["env"]:
                if variable["name"] in SECRET_VARIABLES:
                    reference = variable["valueFrom"]["secretKeyRef"]
                    assert reference == {"name": "conduct-secrets", "key": variable["name"]}, name
            names = {variable["name"] for variable in container["env"]}
            assert "DATABASE_URL" in names, name


def test_the_registrys_processes_alone_get_the_signing_key(documents: list[Document]) -> None:
    workloads = {**of_kind(documents, "Deployment"), **of_kind(documents, "Job")}
    for name, workload in workloads.items():
        (container,) = containers(workload)
        names = {variable["name"] for variable in container["env"]}
        assert ("REGISTRY_CHECKPOINT_SIGNING_KEY" in names) == name.startswith("registry-")


def test_every_object_is_in_the_overlays_namespace(overlay: str, documents: list[Document]) -> None:
    namespaces = {document["metadata"]["namespace"] for document in documents}
    assert namespaces == {"conduct" if overlay == "production" else f"conduct-{overlay}"}


def test_the_proxy_headers_are_trusted_from_a_range_not_from_anyone(
    documents: list[Document],
) -> None:
    (config,) = of_kind(documents, "ConfigMap").values()
    assert config["data"]["FORWARDED_ALLOW_IPS"] not in ("*", "")


def test_the_migration_job_and_what_it_needs_are_applied_before_the_rollout(
    documents: list[Document],
) -> None:
    """deploy/README.md applies `-l conduct/apply-before-rollout=true` first and waits for the
    Job: whatever the Job refers to must come with it, or the first install never finishes."""
    first = {
        (document["kind"], document["metadata"]["name"])
        for document in documents
        if document["metadata"].get("labels", {}).get("conduct/apply-before-rollout") == "true"
    }
    job = of_kind(documents, "Job")["conduct-migrate"]
    needed = {("Job", "conduct-migrate"), ("ServiceAccount", pod_spec(job)["serviceAccountName"])}
    for container in containers(job):
        needed.update(
            ("ConfigMap", source["configMapRef"]["name"]) for source in container["envFrom"]
        )
    assert first == needed
