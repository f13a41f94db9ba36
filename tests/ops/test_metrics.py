"""/metrics: off by default, behind a bearer token when one is set, and the counters move when a
track is really classified (the installed model, in-process), fails, or a page is served."""
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from prometheus_client import CollectorRegistry, multiprocess
from prometheus_client.metrics import MetricWrapperBase
from prometheus_client.parser import text_string_to_metric_families

from classifier import metrics
from classifier.models import Track
from classifier.services import classification
from classifier.services.uploads import track_upload

ROOT = Path(__file__).resolve().parents[2]
ALERTS = ROOT / "ops" / "prometheus-alerts.yml"
pytestmark = pytest.mark.django_db

METRIC_NAMES = [
    "genreweb_http_request_seconds", "genreweb_classifications", "genreweb_classification_failures",
    "genreweb_classification_seconds", "genreweb_task_seconds", "genreweb_upload_bytes", "genreweb_tracks",
]


@pytest.fixture
def metrics_on(settings):
    settings.METRICS_ENABLED = True
    settings.METRICS_TOKEN = ""
    return settings


def parse(text: str) -> dict[tuple, float]:
    """Prometheus text → {(sample name, sorted labels): value}."""
    samples = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


def scrape(client, **headers) -> dict[tuple, float]:
    """GET /metrics, parsed."""
    response = client.get("/metrics", headers=headers)
    assert response.status_code == 200, response.content
    assert response["Content-Type"].startswith("text/plain")
    return parse(response.content.decode())


def value(samples, name, **labels) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def upload(user, path):
    return track_upload(owner=user, upload=SimpleUploadedFile(path.name, path.read_bytes())).track


def test_metrics_are_off_by_default(client, settings):
    settings.METRICS_ENABLED = False
    assert client.get("/metrics").status_code == 404


def test_enabled_without_a_token_anyone_may_scrape(client, metrics_on):
    response = client.get("/metrics")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain")
    text = response.content.decode()
    for name in METRIC_NAMES:
        assert f"# HELP {name}" in text
    # The queue depth is there from the start, zero included, so an alert can compare against it.
    assert 'genreweb_tracks{status="queued"} 0.0' in text


def test_a_token_is_required_when_one_is_set(client, metrics_on):
    metrics_on.METRICS_TOKEN = "s3cret-token"
    assert client.get("/metrics").status_code == 401
    assert client.get("/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 401
    assert client.get("/metrics", headers={"Authorization": "Basic s3cret-token"}).status_code == 401
    assert "genreweb_tracks" in client.get("/metrics", headers={"Authorization": "Bearer s3cret-token"}).content.decode()


def test_a_classification_moves_the_counters(client, metrics_on, user, audio_file):
    version = classification.classifier().version
    before = scrape(client)
    path = audio_file("tune.wav", seconds=4)
    track = upload(user, path)
    queued = scrape(client)
    assert value(queued, "genreweb_tracks", status="queued") == value(before, "genreweb_tracks", status="queued") + 1
    assert value(queued, "genreweb_upload_bytes_total") == value(before, "genreweb_upload_bytes_total") + path.stat().st_size

    classification.track_classify(track_id=track.pk)

    after = scrape(client)
    assert Track.objects.get(pk=track.pk).status == Track.Status.DONE
    done = {"outcome": "done", "model_version": version}
    assert value(after, "genreweb_classifications_total", **done) == value(before, "genreweb_classifications_total", **done) + 1
    assert value(after, "genreweb_classification_seconds_count") == value(before, "genreweb_classification_seconds_count") + 1
    assert value(after, "genreweb_classification_seconds_sum") > value(before, "genreweb_classification_seconds_sum")
    assert value(after, "genreweb_tracks", status="done") == value(before, "genreweb_tracks", status="done") + 1
    assert value(after, "genreweb_tracks", status="queued") == value(before, "genreweb_tracks", status="queued")


def test_undecodable_audio_counts_as_a_failure_with_its_reason(client, metrics_on, user, audio_file):
    version = classification.classifier().version
    track = upload(user, audio_file("broken.wav", seconds=2))
    Path(track.file.path).write_bytes(b"this is not audio any more\n" * 100)  # damaged after the upload
    before = scrape(client)

    classification.track_classify(track_id=track.pk)

    after = scrape(client)
    assert Track.objects.get(pk=track.pk).status == Track.Status.FAILED
    reason = {"reason": "undecodable"}
    assert value(after, "genreweb_classification_failures_total", **reason) == \
        value(before, "genreweb_classification_failures_total", **reason) + 1
    failed = {"outcome": "failed", "model_version": version}
    assert value(after, "genreweb_classifications_total", **failed) == \
        value(before, "genreweb_classifications_total", **failed) + 1


def test_a_broker_outage_counts_as_broker_down(client, metrics_on, user, audio_file, monkeypatch,
                                               django_capture_on_commit_callbacks):
    def broker_down(track_id):
        raise ConnectionError("broker unreachable")

    monkeypatch.setattr(classification.queue, "queue_classification", broker_down)
    before = scrape(client)
    with django_capture_on_commit_callbacks(execute=True):
        track = upload(user, audio_file("queued.wav", seconds=1))
    after = scrape(client)
    assert Track.objects.get(pk=track.pk).status == Track.Status.FAILED
    assert value(after, "genreweb_classification_failures_total", reason="broker_down") == \
        value(before, "genreweb_classification_failures_total", reason="broker_down") + 1
    assert value(after, "genreweb_classifications_total", outcome="failed", model_version="none") == \
        value(before, "genreweb_classifications_total", outcome="failed", model_version="none") + 1


def test_failure_reasons_are_fixed_codes():
    with pytest.raises(ValueError):
        metrics.record_failure("The audio could not be decoded: whatever")


def test_a_page_view_is_timed_by_view_name(client, metrics_on):
    labels = {"view": "landing", "method": "GET", "status": "2xx"}
    before = scrape(client)
    assert client.get(reverse("landing")).status_code == 200
    after = scrape(client)
    assert value(after, "genreweb_http_request_seconds_count", **labels) == \
        value(before, "genreweb_http_request_seconds_count", **labels) + 1
    # Unknown paths share one label instead of one series per path.
    client.get("/no/such/page/")
    assert value(scrape(client), "genreweb_http_request_seconds_count",
                 view="unresolved", method="GET", status="4xx") >= 1


def _exported_names() -> set[str]:
    """Every sample name classifier.metrics can export."""
    suffixes = {"counter": ["_total", "_created"], "histogram": ["_bucket", "_count", "_sum", "_created"]}
    families = [family for obj in vars(metrics).values() if isinstance(obj, MetricWrapperBase)
                for family in obj.describe()]
    families += list(metrics.TrackStatusCollector().collect())
    return {family.name + suffix for family in families for suffix in suffixes.get(family.type, [""])}


def test_the_example_alert_rules_use_metrics_that_exist():
    rules = [rule for group in yaml.safe_load(ALERTS.read_text())["groups"] for rule in group["rules"]]
    assert {rule["alert"] for rule in rules} == {"GenreWebQueueStuck", "GenreWebClassificationFailureRate"}
    exported = _exported_names()
    assert {"genreweb_tracks", "genreweb_classifications_total", "genreweb_classification_failures_total"} <= exported
    for rule in rules:
        used = set(re.findall(r"\bgenreweb_[a-z_]+\b", rule["expr"] + " ".join(rule.get("annotations", {}).values())))
        assert used, rule["alert"]
        assert used <= exported, f"{rule['alert']} uses unknown metrics {used - exported}"


def test_processes_sharing_the_multiprocess_folder_write_files_named_by_host_and_pid(tmp_path):
    """Containers sharing the folder (docker-compose) each number their processes from 1: the host
    name keeps their files apart, and the web server's collector still adds them up."""
    code = ("import os, socket, django; django.setup(); from classifier import metrics; "
            "metrics.record_classification('done', 'v1'); print(socket.gethostname(), os.getpid())")
    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(tmp_path), "DJANGO_SETTINGS_MODULE": "genreweb.settings"}
    runs = [subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True,
                           check=True, timeout=120).stdout.split() for _ in range(2)]

    assert sorted(p.name for p in tmp_path.glob("counter_*.db")) == sorted(f"counter_{host}-{pid}.db" for host, pid in runs)
    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry, path=str(tmp_path))
    assert registry.get_sample_value("genreweb_classifications_total", {"outcome": "done", "model_version": "v1"}) == 2
