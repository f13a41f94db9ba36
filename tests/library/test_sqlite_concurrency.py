"""Uploads at the same moment on the embedded SQLite database: each waits for the write lock,
none fails with "database is locked" (upload.js sends two at once; gunicorn runs several threads).

Run in a fresh interpreter on a SQLite file of its own, whatever database the suite uses, because
the uploads need real connections and transactions of their own."""
import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

SCRIPT = """
import json, sys, threading
from pathlib import Path
import django
django.setup()
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.db import connection
call_command("migrate", verbosity=0)
from django.contrib.auth import get_user_model
from classifier.models import Track
from classifier.services.uploads import track_upload
from tests.tagging import write_tagged

user = get_user_model().objects.create_user("together")
folder = Path(sys.argv[1])
# Each file names an artist and album of its own: filing them reads, then writes, in one transaction.
files = [write_tagged(folder / f"{i}.mp3", {"artist": f"Artist {i}", "album": f"Album {i}"}, seconds=1.0, seed=i)
         for i in range(12)]
barrier, errors = threading.Barrier(6), []

def upload(paths):
    try:
        for path in paths:
            barrier.wait(timeout=60)
            track_upload(owner=user, upload=SimpleUploadedFile(path.name, path.read_bytes()))
    except Exception as err:
        errors.append(f"{type(err).__name__}: {err}")
        barrier.abort()
    finally:
        connection.close()

threads = [threading.Thread(target=upload, args=(files[i::6],)) for i in range(6)]
for thread in threads:
    thread.start()
for thread in threads:
    thread.join()
print(json.dumps({"errors": errors, "tracks": Track.objects.count(),
                  "artists": sorted(Track.objects.values_list("artist_ref__name", flat=True))}))
"""


def test_uploads_at_the_same_moment_all_land(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL"}}
    env.update(DJANGO_SETTINGS_MODULE="genreweb.settings", GENREWEB_VAR_DIR=str(tmp_path / "var"),
               DATABASE_URL=f"sqlite:///{tmp_path / 'together.sqlite3'}", MEDIA_ROOT=str(tmp_path / "media"))
    result = subprocess.run([sys.executable, "-c", SCRIPT, str(tmp_path)], cwd=ROOT, env=env, capture_output=True,
                            text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout.strip().splitlines()[-1])
    assert out["errors"] == []
    assert out["tracks"] == 12
    assert out["artists"] == sorted(f"Artist {i}" for i in range(12))
