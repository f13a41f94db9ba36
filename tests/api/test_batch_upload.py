"""A catalogue through the API: several files in one request, and one result per file in the
order sent (created / duplicate / rejected with the reason), so a script can loop over folders."""
import pytest

from classifier.models import Track
from tests.api.test_tracks import upload

pytestmark = pytest.mark.django_db


def test_each_file_of_a_batch_gets_its_own_result_in_order(api, user, audio_file, tmp_path, settings):
    settings.UPLOAD_MAX_BYTES = 600_000
    known = audio_file("known.flac", seconds=2, seed=1)
    first = upload(api, known).json()
    notes = tmp_path / "notes.mp3"
    notes.write_text("these are not sounds")
    new_a, new_b = audio_file("a.mp3", seconds=2, seed=2), audio_file("b.wav", seconds=2, seed=3)
    big = audio_file("big.wav", seconds=6, seed=4)  # about 1 MB of PCM: over the limit
    same_as_a = tmp_path / "copy of a.mp3"
    same_as_a.write_bytes(new_a.read_bytes())

    response = upload(api, new_a, known, notes, new_b, same_as_a, big)

    assert response.status_code == 202, response.content
    results = response.json()["results"]
    assert [(r["file"], r["outcome"]) for r in results] == [
        ("a.mp3", "created"), ("known.flac", "duplicate"), ("notes.mp3", "rejected"), ("b.wav", "created"),
        ("copy of a.mp3", "duplicate"), ("big.wav", "rejected"),  # refused while streaming: listed last
    ]
    created = {r["file"]: r["track_id"] for r in results if r["outcome"] == "created"}
    tracks = {str(t.pk): t for t in Track.objects.filter(owner=user)}
    assert set(tracks) == {first["id"], *created.values()}  # nothing stored twice, nothing rejected stored
    assert {tracks[i].original_name for i in created.values()} == {"a.mp3", "b.wav"}
    assert all(tracks[i].status == Track.Status.QUEUED for i in created.values())
    assert results[1]["track_id"] == first["id"] and results[4]["track_id"] == created["a.mp3"]
    assert results[2]["code"] == "invalid_audio" and "notes.mp3" in results[2]["message"]
    assert results[5]["code"] == "file_too_large" and results[5]["track_id"] is None
    assert all(r["code"] == r["message"] == "" for r in results if r["outcome"] != "rejected")
