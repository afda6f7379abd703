"""docker-compose.yml: the whole system (Kafka 4 in KRaft mode, PostgreSQL, S3Proxy, the five
services from one image, the SMTP sink, the PMO receiver, Prometheus and Grafana), consistent
with the services' settings and with deploy/; ``docker compose config`` where the compose tool
exists."""

import importlib
import re
import shutil
import subprocess
from typing import Any
from urllib.parse import urlsplit

import pytest
from pydantic import AliasChoices

from gecc.stack.config import DEFAULT_SERVICE_PORTS
from shared.settings import (
    DEFAULT_S3_ACCESS_KEY,
    DEFAULT_S3_BUCKET,
    DEFAULT_S3_PORT,
    DEFAULT_S3_SECRET_KEY,
    ObjectStorageSettings,
    ServiceSettings,
)
from shared.topics import SERVICES
from tests.unit.test_deploy_tools import REPO, load_yaml

COMPOSE_FILE = REPO / "docker-compose.yml"
PORTAL_CLIENT_SECRET = "GECC_PORTAL_CLIENT_SECRET"
EXPECTED = {
    "kafka",
    "postgres",
    "s3",
    "bootstrap",
    "mailsink",
    "pmo-receiver",
    *SERVICES,
    "prometheus",
    "grafana",
}


def compose() -> dict[str, Any]:
    loaded: dict[str, Any] = load_yaml(COMPOSE_FILE.read_text(encoding="utf-8"))
    return loaded


def services() -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = compose()["services"]
    return found


def environment(name: str) -> dict[str, str]:
    env = services()[name].get("environment", {})
    assert isinstance(env, dict), f"{name}: environment as a mapping, please"
    return {key: str(value) for key, value in env.items()}


def settings_class(name: str) -> type[ServiceSettings]:
    module = importlib.import_module(f"services.{name}.settings")
    found: type[ServiceSettings] = getattr(module, f"{name.capitalize()}Settings")
    return found


def variables(name: str) -> set[str]:
    """Every environment variable the service's settings read."""
    cls = settings_class(name)
    prefix = cls.model_config.get("env_prefix", "")
    names = set()
    for field, info in cls.model_fields.items():
        alias = info.validation_alias
        if isinstance(alias, AliasChoices):
            names |= {choice for choice in alias.choices if isinstance(choice, str)}
        else:
            names.add(f"{prefix}{field}".upper())
    return names


def container_port(service: str, published: int) -> int:
    """The container side of the service's ``published:container`` port."""
    for mapping in services()[service].get("ports", []):
        host, _, inside = str(mapping).rpartition(":")
        if int(host) == published:
            return int(inside)
    raise AssertionError(f"{service} does not publish {published}")


def test_every_part_of_the_system_is_there() -> None:
    assert set(services()) == EXPECTED
    kafka = services()["kafka"]
    assert re.fullmatch(r"apache/kafka:4\.[0-9.]+", kafka["image"])
    assert kafka["environment"]["KAFKA_PROCESS_ROLES"] == "broker,controller"  # KRaft
    assert not any("ZOOKEEPER" in key for key in kafka["environment"])
    assert services()["postgres"]["image"].startswith("postgres:")
    assert services()["prometheus"]["image"].startswith("prom/prometheus:")
    assert services()["grafana"]["image"].startswith("grafana/grafana:")


def test_depends_on_names_services_and_volumes_are_declared() -> None:
    declared = set(compose()["volumes"])
    for name, service in services().items():
        depends = service.get("depends_on", {})
        assert set(depends) <= set(services()), name
        for volume in service.get("volumes", []):
            source = str(volume).split(":")[0]
            if source.startswith("."):
                assert (REPO / source).exists(), f"{name} mounts {source}, which is missing"
            else:
                assert source in declared, f"{name}: volume {source} is not declared"


def test_every_built_service_uses_the_one_dockerfile() -> None:
    builds = {name: s["build"] for name, s in services().items() if "build" in s}
    assert set(builds) == {"bootstrap", "mailsink", "pmo-receiver", *SERVICES}
    assert set(map(str, builds.values())) == {"."}
    assert (REPO / "Dockerfile").is_file()
    for name, service in services().items():
        assert ("build" in service) != ("image" in service), name


def test_the_services_settings_match_the_compose_environment() -> None:
    kafka_listener = services()["kafka"]["environment"]["KAFKA_ADVERTISED_LISTENERS"]
    for name in SERVICES:
        service = services()[name]
        env = environment(name)
        prefix = f"GECC_{name.upper()}_"
        assert service["command"] == ["python", "-m", f"services.{name}"]
        unknown = set(env) - variables(name)
        assert not unknown, f"{name} sets {unknown}"
        assert kafka_listener.endswith(f"//{env['GECC_KAFKA_BOOTSTRAP']}")
        database = urlsplit(env[f"{prefix}DATABASE_URL"])
        assert (database.username, database.hostname, database.path) == (name, "postgres", "/gecc")
        assert env[f"{prefix}HTTP_HOST"] == "0.0.0.0"
        port = int(env[f"{prefix}HTTP_PORT"])
        assert f"127.0.0.1:{port}/health" in " ".join(service["healthcheck"]["test"])
        # Published on the host at the local stack's port, so the documented URLs hold for both.
        assert container_port(name, DEFAULT_SERVICE_PORTS[name]) == port
        assert "bootstrap" in service["depends_on"]
    notifier, export = environment("notifier"), environment("export")
    mailsink = services()["mailsink"]["command"]
    assert notifier["GECC_NOTIFIER_SMTP_HOST"] == "mailsink"
    assert notifier["GECC_NOTIFIER_SMTP_PORT"] == mailsink[mailsink.index("--port") + 1]
    receiver = services()["pmo-receiver"]["command"]
    pmo_url = urlsplit(export["GECC_EXPORT_PMO_URL"])
    assert (pmo_url.hostname, str(pmo_url.port)) == (
        "pmo-receiver",
        receiver[receiver.index("--port") + 1],
    )
    exports_dir = export["GECC_EXPORT_EXPORTS_DIR"]
    assert f"export-data:{exports_dir}" in services()["export"]["volumes"]
    # The image's gecc user owns the directory the volume starts from.
    assert exports_dir in (REPO / "Dockerfile").read_text(encoding="utf-8")


def test_the_portal_starts_after_intake_reaches_it_and_shares_its_secret() -> None:
    portal, intake = environment("portal"), environment("intake")
    assert services()["portal"]["depends_on"]["intake"] == {"condition": "service_healthy"}
    intake_url = urlsplit(portal["GECC_PORTAL_INTAKE_URL"])
    assert (intake_url.hostname, intake_url.port) == (
        "intake",
        int(intake["GECC_INTAKE_HTTP_PORT"]),
    )
    public = portal["GECC_PORTAL_PUBLIC_URL"]
    assert (
        public == f"${{GECC_PORTAL_PUBLIC_URL:-http://localhost:{DEFAULT_SERVICE_PORTS['portal']}}}"
    )
    # From the environment, else the same local default the settings have.
    default = settings_class("portal").model_fields["client_secret"].default
    assert portal[PORTAL_CLIENT_SECRET] == f"${{{PORTAL_CLIENT_SECRET}:-{default}}}"
    assert intake[PORTAL_CLIENT_SECRET] == portal[PORTAL_CLIENT_SECRET]
    # The notifier's sign-in links lead where the portal says it is.
    assert environment("notifier")["GECC_NOTIFIER_PORTAL_URL"] == public
    assert PORTAL_CLIENT_SECRET in variables("portal")
    for name in set(SERVICES) - {"intake", "portal"}:
        assert PORTAL_CLIENT_SECRET not in environment(name), name


def test_intake_export_and_bootstrap_reach_the_s3_server_with_the_pair_it_accepts() -> None:
    s3 = environment("s3")
    assert re.fullmatch(r"andrewgaul/s3proxy:[0-9.]+", services()["s3"]["image"])
    assert (s3["S3PROXY_AUTHORIZATION"], s3["JCLOUDS_PROVIDER"]) == ("aws-v2-or-v4", "filesystem")
    listens = urlsplit(s3["S3PROXY_ENDPOINT"])
    assert f"s3-data:{s3['JCLOUDS_FILESYSTEM_BASEDIR']}" in services()["s3"]["volumes"]
    # From the environment, else the same local defaults the settings and the stack have.
    assert s3["S3PROXY_IDENTITY"] == f"${{GECC_S3_ACCESS_KEY:-{DEFAULT_S3_ACCESS_KEY}}}"
    assert s3["S3PROXY_CREDENTIAL"] == f"${{GECC_S3_SECRET_KEY:-{DEFAULT_S3_SECRET_KEY}}}"
    assert container_port("s3", DEFAULT_S3_PORT) == listens.port
    users = {"intake", "export", "bootstrap"}
    for name in users:
        env = environment(name)
        endpoint = urlsplit(env["GECC_S3_ENDPOINT"])
        assert (endpoint.hostname, endpoint.port) == ("s3", listens.port), name
        assert env["GECC_S3_BUCKET"] == DEFAULT_S3_BUCKET, name
        assert (env["GECC_S3_ACCESS_KEY"], env["GECC_S3_SECRET_KEY"]) == (
            s3["S3PROXY_IDENTITY"],
            s3["S3PROXY_CREDENTIAL"],
        ), name
    for name in ("intake", "export"):
        assert issubclass(settings_class(name), ObjectStorageSettings), name
    assert services()["bootstrap"]["depends_on"]["s3"] == {"condition": "service_healthy"}
    for name in set(SERVICES) - users:
        assert not any(key.startswith("GECC_S3_") for key in environment(name)), name


def test_prometheus_scrapes_the_compose_services_and_grafana_reads_prometheus() -> None:
    prometheus = services()["prometheus"]
    assert "./deploy/prometheus:/etc/prometheus:ro" in prometheus["volumes"]
    assert "--config.file=/etc/prometheus/prometheus.yml" in prometheus["command"]
    scrape = load_yaml((REPO / "deploy/prometheus/prometheus.yml").read_text(encoding="utf-8"))
    for job in scrape["scrape_configs"]:
        for config in job["static_configs"]:
            for target in config["targets"]:
                host, _, port = target.partition(":")
                assert host == job["job_name"] and host in services(), target
                assert environment(host)[f"GECC_{host.upper()}_HTTP_PORT"] == port, target
    grafana = services()["grafana"]
    assert grafana["depends_on"] == {"prometheus": {"condition": "service_healthy"}}
    assert set(grafana["volumes"]) >= {
        "./deploy/grafana/provisioning:/etc/grafana/provisioning:ro",
        "./deploy/grafana/dashboards:/etc/grafana/dashboards:ro",
    }
    home = grafana["environment"]["GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH"]
    assert (REPO / "deploy/grafana/dashboards" / home.rpartition("/")[2]).is_file()
    assert container_port("prometheus", 9090) == 9090


def compose_tool() -> list[str] | None:
    docker = shutil.which("docker")
    if docker is None:
        return None
    probe = subprocess.run(
        [docker, "compose", "version"], capture_output=True, timeout=30, check=False
    )
    return [docker, "compose"] if probe.returncode == 0 else None


def test_docker_compose_accepts_the_file() -> None:
    tool = compose_tool()
    if tool is None:
        pytest.skip(
            "`docker compose version` fails here (no docker CLI, or no compose plugin): "
            "the file's structure is checked by the other tests of this module"
        )
    result = subprocess.run(
        [*tool, "--file", str(COMPOSE_FILE), "config", "--quiet"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
