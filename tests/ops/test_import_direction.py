"""One seam for queueing: services send work through classifier.queue by task name;
classifier.tasks imports services, never the other way round."""
import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SERVICES = sorted((ROOT / "classifier" / "services").rglob("*.py"))
QUEUE = ROOT / "classifier" / "queue.py"


def imported_modules(path: Path, root: Path = ROOT) -> set[str]:
    """Every module a file imports, anywhere in it (lazy imports inside functions too),
    with relative imports resolved and `from pkg import mod` counted as pkg.mod."""
    package = ".".join(path.relative_to(root).with_suffix("").parts[:-1])
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                parts = package.split(".")
                base = ".".join(parts[: len(parts) - node.level + 1])
                module = f"{base}.{node.module}" if node.module else base
            else:
                module = node.module
            found.add(module)
            found.update(f"{module}.{alias.name}" for alias in node.names)
    return found


def imports_of(path: Path, target: str, root: Path = ROOT) -> set[str]:
    return {name for name in imported_modules(path, root) if name == target or name.startswith(target + ".")}


@pytest.mark.parametrize("source", [
    "import classifier.tasks\n",
    "from classifier.tasks import classify_track\n",
    "from classifier import tasks\n",
    "def later():\n    from ..tasks import classify_track\n",
    "def later():\n    from .. import tasks\n",
])
def test_the_check_sees_every_way_of_importing_tasks(tmp_path, source):
    module = tmp_path / "classifier" / "services" / "sneaky.py"
    module.parent.mkdir(parents=True)
    module.write_text(source)
    assert imports_of(module, "classifier.tasks", root=tmp_path)


@pytest.mark.parametrize("path", SERVICES, ids=lambda path: path.name)
def test_services_never_import_tasks(path):
    assert not imports_of(path, "classifier.tasks"), f"{path.name} imports classifier.tasks; use classifier.queue"


def test_the_queue_module_imports_neither_tasks_nor_services():
    assert not imports_of(QUEUE, "classifier.tasks")
    assert not imports_of(QUEUE, "classifier.services")


def test_tasks_import_services_and_take_their_names_from_the_queue_module():
    imported = imported_modules(ROOT / "classifier" / "tasks.py")
    assert "classifier.services.classification" in imported
    assert "classifier.queue" in imported


def test_every_queued_name_is_a_registered_celery_task():
    import classifier.tasks as tasks
    from classifier import queue
    from genreweb import celery_app

    assert queue.TASK_NAMES
    for name in queue.TASK_NAMES:
        assert name in celery_app.tasks, f"{name} is queued but no task is registered under it"
    assert tasks.classify_track.name == queue.CLASSIFY_TRACK
    assert tasks.deliver_webhook.name == queue.DELIVER_WEBHOOK


def test_jobs_carry_ids_only_and_go_to_the_configured_queue(monkeypatch, settings):
    import uuid

    from classifier import queue
    from genreweb import celery_app

    sent = []
    monkeypatch.setattr(celery_app, "send_task", lambda name, **options: sent.append((name, options)))
    track_id = uuid.uuid4()
    queue.queue_classification(track_id)
    queue.queue_webhook_delivery(7)
    assert [(name, options["args"]) for name, options in sent] == [
        (queue.CLASSIFY_TRACK, [str(track_id)]),
        (queue.DELIVER_WEBHOOK, [7]),
    ]
    assert {options["queue"] for _, options in sent} == {settings.CELERY_TASK_DEFAULT_QUEUE}
    assert all(options["ignore_result"] is True for _, options in sent)
