"""docker-compose.yaml is valid, production-shaped and keeps its secrets in .env."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

# needs the docker-compose binary (make setup installs it), not a pure unit test
pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
AIRFLOW_COMPONENTS = {
    "airflow-apiserver", "airflow-scheduler", "airflow-dag-processor", "airflow-worker",
    "airflow-triggerer", "airflow-init",
}


@pytest.fixture(scope="module")
def compose() -> dict:
    if not shutil.which("docker-compose"):
        pytest.fail("docker-compose is not installed (scripts/install-system-packages.sh)")
    rendered = subprocess.run(
        ["docker-compose", "--env-file", str(ROOT / ".env.example"), "-f",
         str(ROOT / "docker-compose.yaml"), "config"],
        check=True, capture_output=True, text=True, cwd=ROOT,
    ).stdout
    return yaml.safe_load(rendered)


def test_has_every_production_component(compose):
    services = set(compose["services"])
    assert AIRFLOW_COMPONENTS | {"postgres", "redis", "mongo", "minio", "minio-init"} <= services
    assert compose["services"]["mongo"]["image"].startswith("mongo:7.")
    worker = compose["services"]["airflow-worker"]
    assert "container_name" not in worker, "workers must be scalable"
    assert "celery worker" in " ".join(worker["command"]) if isinstance(
        worker["command"], list) else "celery worker" in worker["command"]


def test_airflow_components_share_jwt_secret_and_execution_api(compose):
    envs = {name: compose["services"][name]["environment"] for name in AIRFLOW_COMPONENTS}
    secrets = {env["AIRFLOW__API_AUTH__JWT_SECRET"] for env in envs.values()}
    urls = {env["AIRFLOW__CORE__EXECUTION_API_SERVER_URL"] for env in envs.values()}
    assert len(secrets) == 1 and "" not in secrets
    assert urls == {"http://airflow-apiserver:8080/execution/"}
    for env in envs.values():
        assert env["AIRFLOW__CORE__EXECUTOR"] == "CeleryExecutor"
        assert env["AIRFLOW_CONN_MONGO_DEFAULT"].startswith("mongo://")
        assert env["FOOTY_STORAGE_URL"].startswith("s3://")


def test_project_code_is_mounted(compose):
    for name in AIRFLOW_COMPONENTS:
        targets = {v["target"] if isinstance(v, dict) else v.split(":")[1]
                   for v in compose["services"][name]["volumes"]}
        assert {"/opt/airflow/dags", "/opt/airflow/plugins", "/opt/airflow/include"} <= targets


def test_no_secret_is_written_in_the_compose_file():
    raw = yaml.safe_load((ROOT / "docker-compose.yaml").read_text())
    secret_name = re.compile(r"(PASSWORD|SECRET|FERNET_KEY|TOKEN)$")
    checked = 0
    for service in raw["services"].values():
        env = service.get("environment") or {}
        for name, value in env.items():
            if secret_name.search(name):
                assert "${" in str(value), f"{name} is written in the file"
                checked += 1
            if name.startswith("AIRFLOW_CONN_") and "password" in str(value):
                assert re.search(r'"password": "\$\{', str(value)), name
                checked += 1
    assert checked >= 8


@pytest.mark.parametrize("secret", ["AIRFLOW_JWT_SECRET", "AIRFLOW_FERNET_KEY"])
def test_a_missing_secret_is_refused(tmp_path, secret):
    env = tmp_path / ".env"
    env.write_text("\n".join(line for line in (ROOT / ".env.example").read_text().splitlines()
                             if not line.startswith(secret)))
    result = subprocess.run(
        ["docker-compose", "--env-file", str(env), "-f", str(ROOT / "docker-compose.yaml"),
         "config"], capture_output=True, text=True, cwd=ROOT,
    )
    assert result.returncode != 0 and secret in result.stderr

def test_every_image_is_pinned(compose):
    for name, service in compose["services"].items():
        image = service["image"]
        tag = image.rsplit(":", 1)[1] if ":" in image else ""
        assert tag and tag != "latest" and re.search(r"\d+\.\d+|RELEASE\.", tag), (name, image)


def test_airflow_settings_come_from_the_shared_file(compose):
    """deploy/airflow.env is what the local distributed stack reads too (scripts/service)."""
    shared = dict(line.split("=", 1) for line in (ROOT / "deploy" / "airflow.env").read_text()
                  .splitlines() if line and not line.startswith("#"))
    assert shared["AIRFLOW__CORE__EXECUTOR"] == "CeleryExecutor"
    for name in AIRFLOW_COMPONENTS | {"flower"}:
        env = compose["services"][name]["environment"]
        assert {key: env.get(key) for key in shared} == shared, name
    worker = compose["services"]["airflow-worker"]["command"]
    assert "downloads" in (worker if isinstance(worker, str) else " ".join(worker))


def test_flower_is_an_opt_in_profile(compose):
    assert compose["services"]["flower"]["profiles"] == ["flower"]

