"""The storage quota through the API: a clear 413 in the one error format, nothing stored."""
import pytest

from classifier.models import Track
from tests.api.conftest import assert_error
from tests.api.test_tracks import upload
from tests.conftest import stored_files

pytestmark = pytest.mark.django_db


@pytest.fixture
def media_dir(tmp_path, settings):
    settings.MEDIA_ROOT = str(tmp_path / "media")
    return tmp_path / "media"


def test_an_upload_over_the_quota_is_413_quota_exceeded_and_stores_nothing(api, user, settings, audio_file,
                                                                          media_dir):
    first, second = audio_file("first.wav", seconds=1, seed=1), audio_file("second.wav", seconds=1, seed=2)
    settings.USER_QUOTA_BYTES = first.stat().st_size + 10
    assert upload(api, first).status_code == 202
    files_before = stored_files(media_dir)

    error = assert_error(upload(api, second), 413, "quota_exceeded")

    assert "second.wav" in error["message"] and "does not fit in your storage" in error["message"]
    assert error["details"] == {"file": "second.wav"}
    assert Track.objects.filter(owner=user).count() == 1
    assert stored_files(media_dir) == files_before


def test_several_files_list_the_ones_over_the_quota(api, user, settings, audio_file):
    clips = [audio_file(f"c{i}.wav", seconds=1, seed=20 + i) for i in range(3)]
    settings.USER_QUOTA_BYTES = clips[0].stat().st_size + clips[1].stat().st_size

    response = upload(api, *clips)

    assert response.status_code == 202
    body = response.json()
    assert len(body["tracks"]) == 2
    assert [(e["file"], e["code"]) for e in body["errors"]] == [("c2.wav", "quota_exceeded")]
    assert Track.objects.filter(owner=user).count() == 2


def test_when_no_file_fits_the_batch_is_413(api, settings, audio_file):
    clips = [audio_file(f"d{i}.wav", seconds=1, seed=30 + i) for i in range(2)]
    settings.USER_QUOTA_BYTES = 1000
    error = assert_error(upload(api, *clips), 413, "upload_rejected")
    assert {e["code"] for e in error["details"]["errors"]} == {"quota_exceeded"}
