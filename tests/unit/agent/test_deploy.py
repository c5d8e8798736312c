"""The Kubernetes manifests are valid objects: every field is one the API knows (checked against
the official client's models, recursively), required fields are present, and the pieces fit
(the agent's Secret key, service account and volumes; the server's probes and volume)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import kubernetes.client
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[3]
MANIFESTS = sorted((ROOT / "deploy" / "kubernetes").glob("*.yaml"))
MODELS = {"Namespace": "V1Namespace", "Service": "V1Service", "StatefulSet": "V1StatefulSet", "DaemonSet": "V1DaemonSet",
          "ServiceAccount": "V1ServiceAccount", "ClusterRole": "V1ClusterRole", "ClusterRoleBinding": "V1ClusterRoleBinding"}


def objects() -> list[dict[str, Any]]:
    return [doc for path in MANIFESTS for doc in yaml.safe_load_all(path.read_text()) if doc]


def check(value: Any, kind: str, where: str) -> None:
    """Every key of `value` is a field of the model `kind`; descend into nested models."""
    kind = kind.strip()
    if kind.startswith("list["):
        assert isinstance(value, list), f"{where}: expected a list"
        for index, item in enumerate(value):
            check(item, kind[5:-1], f"{where}[{index}]")
        return
    if kind.startswith("dict("):
        assert isinstance(value, dict), f"{where}: expected a mapping"
        inner = kind[5:-1].split(",", 1)[1]
        for key, item in value.items():
            check(item, inner, f"{where}.{key}")
        return
    model = getattr(kubernetes.client.models, kind, None)
    if model is None:
        return  # a primitive (str, int, object)
    assert isinstance(value, dict), f"{where}: expected a {kind} mapping"
    by_json = {json_name: attribute for attribute, json_name in model.attribute_map.items()}
    for key, item in value.items():
        assert key in by_json, f"{where}: {key!r} is not a field of {kind} (fields: {sorted(by_json)})"
        check(item, model.openapi_types[by_json[key]], f"{where}.{key}")


@pytest.mark.parametrize("manifest", objects(), ids=lambda doc: f"{doc['kind']}/{doc['metadata']['name']}")
def test_every_object_is_valid_for_the_kubernetes_api(manifest: dict[str, Any]) -> None:
    kind = MODELS[manifest["kind"]]
    check(manifest, kind, manifest["kind"])
    client = kubernetes.client.ApiClient()
    built = client._ApiClient__deserialize(manifest, kind)  # the client's own constructor checks required fields
    assert built.metadata.name == manifest["metadata"]["name"]


def test_the_agent_daemonset_fits_the_rest() -> None:
    docs = {(doc["kind"], doc["metadata"]["name"]): doc for doc in objects()}
    daemonset = docs[("DaemonSet", "timberyard-agent")]["spec"]["template"]["spec"]
    assert ("ServiceAccount", daemonset["serviceAccountName"]) in docs
    binding = docs[("ClusterRoleBinding", "timberyard-agent")]
    assert binding["subjects"][0]["name"] == daemonset["serviceAccountName"]
    rules = docs[("ClusterRole", "timberyard-agent")]["rules"]
    assert any("pods" in rule["resources"] and "get" in rule["verbs"] for rule in rules)
    container = daemonset["containers"][0]
    env = {item["name"]: item for item in container["env"]}
    assert env["TIMBERYARD_INGESTION_KEY"]["valueFrom"]["secretKeyRef"] == {"name": "timberyard-agent", "key": "key"}
    assert env["TIMBERYARD_URL"]["value"].startswith("http://timberyard.timberyard.svc:")
    mounts = {mount["mountPath"]: mount for mount in container["volumeMounts"]}
    volumes = {volume["name"]: volume for volume in daemonset["volumes"]}
    assert volumes[mounts["/var/log"]["name"]]["hostPath"]["path"] == "/var/log"
    assert volumes[mounts[env["TIMBERYARD_AGENT_STATE_DIR"]["value"]]["name"]]["hostPath"]["path"] == "/var/lib/timberyard-agent"
    assert container["resources"]["limits"]["memory"] and container["resources"]["requests"]["cpu"]


def test_the_server_statefulset_fits_its_service() -> None:
    docs = {(doc["kind"], doc["metadata"]["name"]): doc for doc in objects()}
    statefulset = docs[("StatefulSet", "timberyard")]["spec"]
    service = docs[("Service", "timberyard")]["spec"]
    assert service["selector"] == statefulset["template"]["metadata"]["labels"]
    container = statefulset["template"]["spec"]["containers"][0]
    assert "0.0.0.0:7080" in container["args"] and container["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert statefulset["volumeClaimTemplates"][0]["metadata"]["name"] == container["volumeMounts"][0]["name"]


def test_the_agent_settings_in_the_daemonset_are_ones_the_agent_knows() -> None:
    from timberyard.agent.config import load

    daemonset = next(doc for doc in objects() if doc["kind"] == "DaemonSet")
    env = {item["name"]: item.get("value", "secret") for item in daemonset["spec"]["template"]["spec"]["containers"][0]["env"]}
    config = load(None, env=env, logdna_conf=Path("/nonexistent"))
    assert config.kubernetes and config.journald and config.key == "secret"
