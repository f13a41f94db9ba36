"""docker-compose.yml and the Dockerfile, checked by reading them (no Docker engine in CI)."""
import re
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
APP_SERVICES = ("migrate", "web", "worker", "gpu-worker")


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
    gpu = services["gpu-worker"]["environment"]
    for key in ("DATABASE_URL", "REDIS_URL", "SECRET_KEY", "ALLOWED_HOSTS", "MEDIA_ROOT", "STORAGE_URL",
                "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "CLASSIFY_QUEUE", "SITE_URL"):
        assert web[key] == worker[key] == gpu[key] == services["migrate"]["environment"][key], key
    assert re.fullmatch(r"postgres://genreweb:.+@postgres:5432/genreweb", web["DATABASE_URL"])
    assert web["REDIS_URL"].startswith("redis://redis:6379/")
    # Throttle counts are shared through Redis, in a database apart from the queue's.
    assert web["CACHE_URL"].startswith("redis://redis:6379/") and web["CACHE_URL"] != web["REDIS_URL"]
    assert web["SECRET_KEY"].startswith("${SECRET_KEY")  # from .env, never a value in the repo
    assert worker["INFERENCE_DEVICE"] in ("auto", "${INFERENCE_DEVICE:-auto}")

    media = f"media:{web['MEDIA_ROOT']}"
    assert all(media in services[name]["volumes"] for name in ("web", "worker", "gpu-worker"))
    # A web process killed mid-upload leaves its temp file where the workers' sweep can remove it.
    assert all("uploadtmp:/app/var/tmp" in services[name]["volumes"] for name in ("web", "worker", "beat"))
    # The worker's counters reach the web server's /metrics through one shared folder.
    metrics_dir = web["PROMETHEUS_MULTIPROC_DIR"]
    assert all(services[name]["environment"]["PROMETHEUS_MULTIPROC_DIR"] == metrics_dir
               and f"metrics:{metrics_dir}" in services[name]["volumes"] for name in ("web", "worker", "gpu-worker"))
    assert f"find {metrics_dir} -name '*.db' -delete && " in command(services["migrate"])


def test_named_volumes_are_declared(compose, services):
    declared = set(compose["volumes"])
    assert {"media", "uploadtmp", "metrics"} <= declared
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


def test_cpu_worker_takes_the_default_queue_and_reserves_no_gpu(services):
    worker = services["worker"]
    assert "profiles" not in worker  # always started
    assert "-Q" not in worker["command"]  # CELERY_QUEUE, the default queue
    assert "deploy" not in worker and "deploy" not in services["web"]  # the web server never runs the model
    # Classification goes to the default queue unless .env says otherwise.
    assert worker["environment"]["CLASSIFY_QUEUE"] == "${CLASSIFY_QUEUE:-}"


def test_gpu_worker_is_optional_and_takes_the_gpu_queue_one_process_at_a_time(services):
    gpu = services["gpu-worker"]
    assert gpu["profiles"] == ["gpu"]
    assert re.search(r"\bcelery -A genreweb worker\b", command(gpu))
    assert re.search(r"-Q \$\{CLASSIFY_QUEUE:-gpu\}( |$)", command(gpu))
    assert re.search(r"--concurrency[ =]1\b", command(gpu)) and gpu["environment"]["CELERY_CONCURRENCY"] in (1, "1")
    assert gpu["environment"]["INFERENCE_DEVICE"] == "cuda"
    devices = gpu["deploy"]["resources"]["reservations"]["devices"]
    assert any(d["driver"] == "nvidia" and "gpu" in d["capabilities"] for d in devices)
    assert gpu["depends_on"] == services["worker"]["depends_on"]
    assert gpu["stop_grace_period"] == services["worker"]["stop_grace_period"]


def test_minio_is_optional_private_and_wired_to_web_and_workers(compose, services):
    minio, init = services["minio"], services["minio-init"]
    assert minio["profiles"] == init["profiles"] == ["s3"]
    assert minio["image"].startswith("minio/minio:RELEASE.") and init["image"] == minio["image"]
    assert "ports" not in minio  # only the app reaches it; browsers get media through the app
    assert "mc ready local" in healthcheck(minio)
    assert "miniodata:/data" in minio["volumes"] and "miniodata" in compose["volumes"]
    assert init["restart"] == "no" and init["depends_on"]["minio"]["condition"] == "service_healthy"
    assert "mc mb --ignore-existing" in " ".join(init["entrypoint"])
    for name in ("web", "worker", "gpu-worker"):
        wait = services[name]["depends_on"]["minio-init"]
        assert wait == {"condition": "service_completed_successfully", "required": False}, name
    # The app signs in with the keys MinIO is started with.
    app = services["web"]["environment"]
    assert app["AWS_ACCESS_KEY_ID"] == minio["environment"]["MINIO_ROOT_USER"] == init["environment"]["MINIO_ROOT_USER"]
    assert app["AWS_SECRET_ACCESS_KEY"] == minio["environment"]["MINIO_ROOT_PASSWORD"]
    assert app["STORAGE_URL"] == "${STORAGE_URL:-}"  # local media unless .env names a bucket

    # The STORAGE_URL the file suggests names the bucket minio-init creates, on the minio service.
    [example] = set(re.findall(r"s3://\S+minio\S*", (ROOT / "docker-compose.yml").read_text()))
    url = urlsplit(example)
    assert init["environment"]["S3_BUCKET"] == f"${{S3_BUCKET:-{url.hostname}}}"
    endpoint = urlsplit(parse_qs(url.query)["endpoint_url"][0])
    assert endpoint.hostname in services and endpoint.port == 9000


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
