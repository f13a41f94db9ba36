"""The site's main pages, for tests that walk all of them (response headers, the
Content-Security-Policy in a browser), and tracks to show on them, written straight to the
database so that every part of the track page appears without running the model."""
import hashlib

from django.core.files.base import ContentFile

from classifier.models import Prediction, Track
from classifier.services.catalogue import track_link_catalogue
from tests.audiogen import write_audio

# Pages a visitor sees before logging in.
ANONYMOUS_PAGES = {
    "landing": "/",
    "login": "/accounts/login/",
    "sign-up": "/signup/",
    "password reset": "/accounts/password_reset/",
    "admin login": "/admin/login/",
    "not found": "/no-such-page/",
}


def logged_in_pages(certain, uncertain) -> dict[str, str]:
    """The pages of a logged-in user who owns the two tracks (see add_classified_track; the
    first with an artist and an album)."""
    return {
        "library": "/library/",
        "upload": "/upload/",
        "dashboard": "/dashboard/",
        "track": f"/tracks/{certain.pk}/",
        "uncertain track": f"/tracks/{uncertain.pk}/",
        "playlists": "/playlists/",
        "playlist": f"/playlists/{certain.prediction.genre}/",
        "albums": "/albums/",
        "artists": "/artists/",
        "genres": "/genres/",
        "albums": "/albums/",
        "album": f"/albums/{certain.album_ref_id}/",
        "artists": "/artists/",
        "artist": f"/artists/{certain.artist_ref_id}/",
        "genres": "/genres/",
        "model": "/model/",
        "developer": "/developer/",
        "API docs": "/api/docs/",
        "password change": "/accounts/password_change/",
    }


def add_classified_track(owner, folder, title, probabilities, uncertain=False, seed=0, artist="", album=""):
    """A finished track with real audio and a prediction over `probabilities` (highest first),
    its timeline one segment for each of the top two genres (tracks of one owner need their own
    `seed`: the same audio twice is a duplicate). Stored directly, not through track_upload: that would
    queue it, and a worker left running by another test would replace the prediction."""
    path = write_audio(folder / f"{title}.wav", seconds=2.0, seed=seed)
    data = path.read_bytes()
    track = Track(owner=owner, original_name=path.name, title=title, sha256=hashlib.sha256(data).hexdigest(),
                  size=len(data), format="WAV", duration=2.0, artist=artist, album=album)
    track_link_catalogue(track=track)
    track.file.save(path.name, ContentFile(data), save=True)
    genres = list(probabilities)[:2]
    Prediction.objects.create(
        track=track, genre=genres[0], confidence=probabilities[genres[0]], probabilities=probabilities,
        uncertain=uncertain, tags={"guitar": 0.8, "slow": 0.3}, embedding=[1.0], model_version="t", device="cpu",
        seconds=0.1, timeline=[{"start": 0.0, "end": 1.0, "genre": genres[0], "confidence": 0.7},
                               {"start": 1.0, "end": 2.0, "genre": genres[1], "confidence": 0.6}])
    Track.objects.filter(pk=track.pk).update(status=Track.Status.DONE)
    track.refresh_from_db()
    return track
