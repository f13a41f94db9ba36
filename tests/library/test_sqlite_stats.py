"""SQLite keeps query-planner statistics only when asked: web requests ask (classifier.sqlite_stats).

Run in a fresh interpreter on a SQLite file of its own, outside any test transaction (whatever
database the suite uses), because the statistics are written by a request's own connection."""
import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

SCRIPT = """
import json
import django
django.setup()
from django.core.management import call_command
call_command("migrate", verbosity=0)
from django.contrib.auth import get_user_model
from django.db import connection
from django.test import Client
from classifier.models import Track

def analysed():
    # Tables with statistics (sqlite_stat1 only exists once something was analysed).
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM sqlite_master WHERE name = 'sqlite_stat1'")
        if cursor.fetchone() is None:
            return []
        cursor.execute("SELECT DISTINCT tbl FROM sqlite_stat1")
        return sorted(row[0] for row in cursor.fetchall())

user = get_user_model().objects.create_user("stats")
Track.objects.bulk_create([
    Track(owner=user, original_name=f"t{i}.mp3", file=f"tracks/{user.pk}/{i}.mp3", sha256=f"{i:064d}", size=1,
          format="MP3", title=f"Track {i}", status=Track.Status.DONE)
    for i in range(500)])
before = analysed()
client = Client(HTTP_HOST="127.0.0.1")
client.force_login(user)
status = client.get("/library/").status_code
with connection.cursor() as cursor:
    cursor.execute("PRAGMA analysis_limit")
    limit = cursor.fetchone()[0]
print(json.dumps({"before": before, "after": analysed(), "status": status, "limit": limit}))
"""


def test_a_web_request_leaves_statistics_for_the_tables_it_queried(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL"}}
    env.update(DJANGO_SETTINGS_MODULE="genreweb.settings", GENREWEB_VAR_DIR=str(tmp_path / "var"),
               DATABASE_URL=f"sqlite:///{tmp_path / 'stats.sqlite3'}", MEDIA_ROOT=str(tmp_path / "media"))
    result = subprocess.run([sys.executable, "-c", SCRIPT], cwd=ROOT, env=env, capture_output=True, text=True,
                            timeout=300)
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout.strip().splitlines()[-1])
    assert out["status"] == 200
    assert "classifier_track" not in out["before"]  # bulk inserts and migrations analyse nothing
    assert "classifier_track" in out["after"]
    assert out["limit"] == 1000  # an analysis samples, so it stays cheap at any library size
