"""docker-compose.yml and the Dockerfile, checked by reading them (no Docker engine in CI)."""
import re
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
APP_SERVICES = ("migrate", "web", "worker")


@pytest.fixture(scope="module")
def compose() -> dict:
    # safe_load resolves the `<<: *anchor` merge keys the file uses, as docker compose does.
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


@pytest.fixture(scope="module")
def services(compose) -> dict:
    return compose["services"]


def command(service: dict) -> str:
    cmd = service.get("command", "")
    return " ".join(cmd) if isinstance(cmd, list) else cmd


def healthcheck(service: dict) -> str:
    test = service["healthcheck"]["test"]
    return " ".join(test) if isinstance(test, list) else test


def test_services_and_images(services):
    assert set(services) >= {"web", "worker", "redis", "postgres", "migrate"}
    assert re.fullmatch(r"redis:7(\.\d+)*(-\w+)?", services["redis"]["image"])
    assert re.fullmatch(r"postgres:16(\.\d+)*(-\w+)?", services["postgres"]["image"])
    for name in APP_SERVICES:
        assert services[name]["build"] == ".", name
        assert services[name]["image"] == services["web"]["image"], name


def test_commands(services):
    assert re.search(r"\bgunicorn genreweb\.wsgi(:application)? .*--bind 0\.0\.0\.0:8000", command(services["web"]))
    assert re.search(r"\bcelery -A genreweb worker\b", command(services["worker"]))
    assert re.search(r"\bmanage\.py migrate\b", command(services["migrate"]))
    assert services["migrate"]["restart"] == "no"  # a one-shot job
    assert any(str(p).endswith(":8000") for p in services["web"]["ports"])


def test_web_and_worker_share_database_broker_secret_and_media(services):
    web, worker = services["web"]["environment"], services["worker"]["environment"]
    for key in ("DATABASE_URL", "REDIS_URL", "SECRET_KEY", "ALLOWED_HOSTS", "MEDIA_ROOT"):
        assert web[key] == worker[key] == services["migrate"]["environment"][key], key
    assert re.fullmatch(r"postgres://genreweb:.+@postgres:5432/genreweb", web["DATABASE_URL"])
    assert web["REDIS_URL"].startswith("redis://redis:6379/")
    # Throttle counts are shared through Redis, in a database apart from the queue's.
    assert web["CACHE_URL"].startswith("redis://redis:6379/") and web["CACHE_URL"] != web["REDIS_URL"]
    assert web["SECRET_KEY"].startswith("${SECRET_KEY")  # from .env, never a value in the repo
    assert worker["INFERENCE_DEVICE"] in ("auto", "${INFERENCE_DEVICE:-auto}")

    media = f"media:{web['MEDIA_ROOT']}"
    assert media in services["web"]["volumes"] and media in services["worker"]["volumes"]


def test_named_volumes_are_declared(compose, services):
    declared = set(compose["volumes"])
    assert "media" in declared
    pg_volume = next(v for v in services["postgres"]["volumes"] if v.endswith(":/var/lib/postgresql/data"))
    assert pg_volume.split(":")[0] in declared
    # The database user and password the app connects with are the ones postgres is created with.
    pg_env = services["postgres"]["environment"]
    assert f"postgres://{pg_env['POSTGRES_USER']}:{pg_env['POSTGRES_PASSWORD']}@" in services["web"]["environment"]["DATABASE_URL"]


def test_healthchecks(services):
    assert "redis-cli ping" in healthcheck(services["redis"])
    assert "pg_isready" in healthcheck(services["postgres"])
    assert "http://127.0.0.1:8000/api/v1/health/" in healthcheck(services["web"])
    assert "127.0.0.1" in services["web"]["environment"]["ALLOWED_HOSTS"]  # or the check gets a 400


def test_start_order_waits_for_healthy_services_and_migrations(services):
    for name in ("web", "worker"):
        depends = services[name]["depends_on"]
        assert depends["postgres"]["condition"] == "service_healthy", name
        assert depends["redis"]["condition"] == "service_healthy", name
        assert depends["migrate"]["condition"] == "service_completed_successfully", name
    assert services["migrate"]["depends_on"]["postgres"]["condition"] == "service_healthy"


def test_worker_reserves_an_nvidia_gpu(services):
    devices = services["worker"]["deploy"]["resources"]["reservations"]["devices"]
    assert any(d["driver"] == "nvidia" and "gpu" in d["capabilities"] for d in devices)
    assert "deploy" not in services["web"]  # the web server never runs the model
    text = (ROOT / "docker-compose.yml").read_text()
    assert re.search(r"#.*CPU-only hosts", text) and re.search(r"#.*delete this `deploy:` block", text)


def test_dockerfile():
    text = (ROOT / "Dockerfile").read_text()
    assert re.search(r"^FROM python:3\.11-slim\b", text, re.M)
    assert re.search(r"apt-get install .*ffmpeg", text)
    assert "pip install -r requirements.txt" in text
    assert re.search(r"^RUN .*manage\.py collectstatic", text, re.M)
    user = re.findall(r"^USER (\S+)", text, re.M)
    assert user and user[-1] not in ("root", "0")


def test_dockerignore_keeps_local_state_out_and_the_model_in():
    ignored = {line.strip() for line in (ROOT / ".dockerignore").read_text().splitlines()
               if line.strip() and not line.startswith("#")}
    assert {".git", ".venv", ".env", "var", "media"} <= ignored
    assert not any(entry.startswith("models") for entry in ignored)
