"""Artists, albums, covers and genres from the files' own tags: upload, pages, editing, the API,
and that nobody else ever reaches them."""
import zipfile
from io import BytesIO
from pathlib import Path

import mutagen
import pytest
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from PIL import Image

from classifier.models import Album, Artist, Prediction, Track
from classifier.services.catalogue import track_update_metadata
from classifier.services.metadata import Metadata, read_metadata
from classifier.services.tags import track_tagged_copy
from classifier.services.tracks import track_delete
from classifier.services.uploads import track_upload
from classifier.views.catalogue import ALBUMS_PER_PAGE
from tests.audiogen import ALL_FORMATS
from tests.library.conftest import prediction_fields
from tests.tagging import cover_image, write_tagged

pytestmark = pytest.mark.django_db


@pytest.fixture
def tagged_upload(tmp_path):
    """tagged_upload(owner, "a.flac", tags, cover, genre="jazz") → a Track uploaded through the
    upload service from a generated, tagged file, with a prediction written beside it."""
    counter = iter(range(1000))

    def make(owner, name="song.flac", tags=None, cover=None, genre="jazz", confidence=0.8):
        path = write_tagged(tmp_path / name, tags, cover, seed=next(counter))
        track = track_upload(owner=owner, upload=SimpleUploadedFile(name, path.read_bytes())).track
        if genre:
            Prediction.objects.create(track=track, **prediction_fields(genre, confidence))
            Track.objects.filter(pk=track.pk).update(status=Track.Status.DONE)
        return Track.objects.get(pk=track.pk)

    return make


def _in_album(make_track, owner, album, number=None, disc=None, artist="Ana Ray", **kwargs):
    track = make_track(owner, artist=artist, **kwargs)
    return track_update_metadata(track=track, album=album, track_number=number, disc_number=disc)


# --- Upload ------------------------------------------------------------------------------------


def test_upload_keeps_the_tags_links_artist_and_album_and_stores_covers(user, tagged_upload):
    tags = {"title": "Blue Tide", "artist": "Ana Ray", "album_artist": "The Harbour Band", "album": "Harbour",
            "genre": "Jazz", "track": "3", "disc": "1", "year": "2019"}
    track = tagged_upload(user, "tide.flac", tags, cover_image())
    assert (track.title, track.artist, track.album_artist, track.album) == ("Blue Tide", "Ana Ray",
                                                                            "The Harbour Band", "Harbour")
    assert (track.track_number, track.disc_number, track.year, track.file_genre) == (3, 1, 2019, "Jazz")
    assert track.metadata_note == "" and track.metadata_read_at is not None
    assert track.artist_ref.name == "Ana Ray"
    assert track.album_ref.title == "Harbour" and track.album_ref.artist.name == "The Harbour Band"
    for cover, edge in ((track.cover, 300), (track.cover_small, 96)):
        assert cover.name.startswith(f"covers/{user.pk}/") and default_storage.exists(cover.name)
        with default_storage.open(cover.name) as handle, Image.open(handle) as image:
            assert image.format == "JPEG" and max(image.size) == edge


def test_tracks_of_one_album_share_it_whatever_the_case_of_their_tags(user, tagged_upload):
    one = tagged_upload(user, "one.mp3", {"artist": "Ana Ray", "album": "Harbour"})
    two = tagged_upload(user, "two.ogg", {"artist": "ana  ray", "album": "HARBOUR"})
    assert one.album_ref_id == two.album_ref_id and one.artist_ref_id == two.artist_ref_id
    assert Album.objects.filter(owner=user).count() == Artist.objects.filter(owner=user).count() == 1


def test_damaged_tags_never_break_an_upload(user, tagged_upload, alice_client, tmp_path):
    path = write_tagged(tmp_path / "damaged.flac", {"title": "Lost", "artist": "Nobody"}, cover_image())
    data = bytearray(path.read_bytes())
    at = data.index(b"TITLE=")
    data[at - 4:at] = b"\xff\xff\xff\x7f"
    outcome = track_upload(owner=user, upload=SimpleUploadedFile("damaged.flac", bytes(data)))
    track = outcome.track
    assert outcome.created and track.status == Track.Status.QUEUED
    assert track.title == "" and track.artist_ref is None and not track.cover
    page = alice_client.get(reverse("track-detail", args=[track.pk])).content.decode()
    assert "The file&#x27;s tags could not be read (they look damaged)" in page


def test_a_huge_cover_is_skipped_with_a_message_and_the_upload_works(user, tagged_upload, alice_client):
    out = BytesIO()
    Image.new("1", (6000, 6000)).save(out, "PNG")  # 36 megapixels
    track = tagged_upload(user, "big.mp3", {"title": "Big Picture"}, out.getvalue())
    assert track.title == "Big Picture" and not track.cover and not track.cover_small
    page = alice_client.get(reverse("track-detail", args=[track.pk])).content.decode()
    assert "The embedded cover picture is 6,000 × 6,000 pixels, larger than the 20 megapixels" in page
    assert alice_client.get(reverse("track-cover", args=[track.pk])).status_code == 404


def test_deleting_a_track_removes_its_covers_and_its_emptied_album_and_artist(
        user, tagged_upload, django_capture_on_commit_callbacks):
    keep = tagged_upload(user, "keep.mp3", {"artist": "Ana Ray", "album": "Kept"})
    track = tagged_upload(user, "gone.flac", {"artist": "Ana Ray", "album": "Gone"}, cover_image())
    names = [track.cover.name, track.cover_small.name]
    assert all(default_storage.exists(name) for name in names)
    with django_capture_on_commit_callbacks(execute=True):
        track_delete(track=track)
    assert not any(default_storage.exists(name) for name in names)
    assert list(Album.objects.filter(owner=user).values_list("title", flat=True)) == ["Kept"]
    assert Artist.objects.filter(owner=user, name="Ana Ray").exists()  # still on the kept album
    with django_capture_on_commit_callbacks(execute=True):
        track_delete(track=keep)
    assert not Album.objects.filter(owner=user).exists() and not Artist.objects.filter(owner=user).exists()


@pytest.mark.parametrize("fmt", ALL_FORMATS)
def test_the_download_with_the_genre_written_in_keeps_the_cover(user, tagged_upload, fmt, tmp_path):
    track = tagged_upload(user, f"song.{fmt}", {"title": "Kept Cover", "genre": "Polka"},
                          cover_image(500, 500, colour=(20, 160, 60)), genre="jazz")
    copy = tmp_path / f"copy.{fmt}"
    with track_tagged_copy(track=track) as handle:
        copy.write_bytes(handle.read())
    metadata = read_metadata(copy)
    assert metadata.genre == "jazz" and metadata.title == "Kept Cover"
    assert metadata.covers is not None, "the cover was lost when the genre was written"
    with Image.open(BytesIO(metadata.covers.large)) as image:
        red, green, blue = image.convert("RGB").getpixel((5, 5))
    assert green > 120 and red < 80


def _copy(track, path):
    with track_tagged_copy(track=track) as handle:
        path.write_bytes(handle.read())
    return path


@pytest.mark.parametrize("fmt", ALL_FORMATS)
def test_the_download_carries_the_owners_corrections_and_keeps_the_rest(user, tagged_upload, fmt, tmp_path):
    tags = {"title": "Drum Loop", "artist": "Ana Ray", "album_artist": "Harbour Band", "album": "Test Album",
            "track": "3/12", "disc": "1", "year": "2011", "genre": "Polka"}
    track = tagged_upload(user, f"loop.{fmt}", tags, cover_image(300, 300), genre="hiphop")
    track_update_metadata(track=track, title="Drum Loop Ü ✓", album="Renamed Album", year=2019, track_number=4,
                          album_artist="")

    metadata = read_metadata(_copy(track, tmp_path / f"copy.{fmt}"))
    assert (metadata.title, metadata.album, metadata.year, metadata.track_number) == ("Drum Loop Ü ✓", "Renamed Album", 2019, 4)
    assert metadata.album_artist == ""  # cleared here, so gone from the file
    assert (metadata.artist, metadata.disc_number, metadata.genre) == ("Ana Ray", 1, "hiphop")
    assert metadata.covers is not None


def test_a_corrected_track_number_keeps_the_files_total(user, tagged_upload, tmp_path):
    for fmt, read_number in [("mp3", lambda f: f.tags["TRCK"].text[0]), ("flac", lambda f: f.tags["tracknumber"][0])]:
        track = tagged_upload(user, f"total.{fmt}", {"title": "T", "track": "3/12"})
        track_update_metadata(track=track, track_number=4)
        assert read_number(mutagen.File(_copy(track, tmp_path / f"total-copy.{fmt}"))) == "4/12"


def test_an_uncertain_genre_is_not_written_into_the_file(user, tagged_upload, tmp_path):
    track = tagged_upload(user, "unsure.flac", {"title": "Unsure", "genre": "Polka"}, genre="")
    Prediction.objects.create(track=track, **prediction_fields("electronic", 0.45, uncertain=True, runner_up="hiphop"))
    track = Track.objects.get(pk=track.pk)
    assert track.genre_uncertain

    assert read_metadata(_copy(track, tmp_path / "unsure-copy.flac")).genre == "Polka"  # the file's own, kept
    track.user_genre = "electronic"  # the owner decides: now it is stated, and written
    assert read_metadata(_copy(track, tmp_path / "sure-copy.flac")).genre == "electronic"


def _zip(response, tmp_path) -> dict[str, Metadata | str]:
    """The entries of a streamed ZIP answer: audio read back with read_metadata, text as text."""
    assert response.status_code == 200 and response.streaming and response["Content-Type"] == "application/zip"
    out = {}
    with zipfile.ZipFile(BytesIO(b"".join(response.streaming_content))) as archive:
        for info in archive.infolist():
            assert info.compress_type == zipfile.ZIP_STORED  # audio is compressed already
            if info.filename.endswith(".txt"):
                out[info.filename] = archive.read(info).decode()
            else:
                path = tmp_path / f"entry-{len(out)}{Path(info.filename).suffix}"
                path.write_bytes(archive.read(info))
                out[info.filename] = read_metadata(path)
    return out


def test_the_library_downloads_as_one_zip_filed_by_artist_and_album(user, tagged_upload, alice_client, tmp_path):
    album = {"artist": "Ana Ray", "album": "Harbour"}
    second = tagged_upload(user, "b.flac", {**album, "title": "Undertow", "track": "2"}, genre="rock")
    tagged_upload(user, "a.mp3", {**album, "title": "Opening", "track": "1"}, cover_image(), genre="jazz")
    loose = tagged_upload(user, "x.ogg", {"title": "Demo: take/2"}, genre="")
    twin = tagged_upload(user, "y.ogg", {"title": "Demo: take/2"}, genre="")
    gone = tagged_upload(user, "gone.wav", {"title": "Gone"}, genre="pop")
    track_update_metadata(track=second, title="Undertow (remix)")  # a correction the file gets
    gone.file.storage.delete(gone.file.name)

    entries = _zip(alice_client.get(reverse("library-export-zip")), tmp_path)

    assert list(entries) == ["Unknown artist/No album/Demo_ take_2.ogg", "Unknown artist/No album/Demo_ take_2 (2).ogg",
                             "Ana Ray/Harbour/01 Opening.mp3", "Ana Ray/Harbour/02 Undertow (remix).flac",
                             "MISSING.txt"]
    opening, undertow = entries["Ana Ray/Harbour/01 Opening.mp3"], entries["Ana Ray/Harbour/02 Undertow (remix).flac"]
    assert (opening.genre, opening.covers is not None) == ("jazz", True)
    assert (undertow.title, undertow.genre, undertow.track_number) == ("Undertow (remix)", "rock", 2)
    assert entries["MISSING.txt"] == "These tracks' audio files are missing from storage:\ngone.wav\n"
    assert {loose.pk, twin.pk} <= set(Track.objects.values_list("pk", flat=True))  # nothing touched


def test_an_album_downloads_as_a_zip_in_disc_and_track_order_from_the_page_and_the_api(
        user, tagged_upload, alice_client, login_client, tmp_path):
    tags = {"artist": "Ana Ray", "album": "Two Sides"}
    tagged_upload(user, "s2.flac", {**tags, "title": "Side B", "track": "1", "disc": "2"})
    first = tagged_upload(user, "s1.flac", {**tags, "title": "Side A", "track": "1", "disc": "1"})
    tagged_upload(user, "other.flac", {"artist": "Ana Ray", "album": "Other", "title": "Elsewhere"})
    expected = ["Ana Ray/Two Sides/1-01 Side A.flac", "Ana Ray/Two Sides/2-01 Side B.flac"]

    page = alice_client.get(reverse("album-detail", args=[first.album_ref_id])).content.decode()
    assert f'href="{reverse("album-download", args=[first.album_ref_id])}"' in page
    assert list(_zip(alice_client.get(reverse("album-download", args=[first.album_ref_id])), tmp_path)) == expected

    api = login_client(user)
    body = api.get(reverse("api:album-detail", kwargs={"pk": first.album_ref_id})).json()
    response = api.get(body["download_url"])
    assert response["Content-Disposition"] == 'attachment; filename="Two Sides.zip"'
    assert list(_zip(response, tmp_path)) == expected


# --- Pages -------------------------------------------------------------------------------------


def test_album_page_lists_tracks_in_disc_and_track_order_with_genres_and_mix(user, make_track, alice_client):
    _in_album(make_track, user, "Two Discs", number=1, disc=2, title="D2 T1", genre="rock")
    _in_album(make_track, user, "Two Discs", number=2, disc=1, title="D1 T2", genre="rock")
    _in_album(make_track, user, "Two Discs", title="Unnumbered", genre="jazz")
    last = _in_album(make_track, user, "Two Discs", number=1, disc=1, title="D1 T1", genre="rock")
    _in_album(make_track, user, "Another Album", number=1, title="Elsewhere")
    page = alice_client.get(reverse("album-detail", args=[last.album_ref_id]))
    assert page.status_code == 200
    html = page.content.decode()
    positions = [html.index(title) for title in ("D1 T1", "D1 T2", "D2 T1", "Unnumbered")]
    assert positions == sorted(positions)
    assert "Elsewhere" not in html
    assert "75% · 3" in html and "25% · 1" in html  # genre mix: 3 rock, 1 jazz
    assert '<span class="genre-pill">jazz</span>' in html


def test_numbering_the_disc_of_one_track_keeps_the_album_in_order(user, make_track, alice_client):
    tracks = [_in_album(make_track, user, "One Disc", number=n, title=f"Song {n}") for n in (1, 2, 3)]
    track_update_metadata(track=tracks[1], disc_number=1)  # only this one says "disc 1"
    html = alice_client.get(reverse("album-detail", args=[tracks[0].album_ref_id])).content.decode()
    positions = [html.index(f"Song {n}<") for n in (1, 2, 3)]
    assert positions == sorted(positions)


def test_artist_page_lists_albums_tracks_without_album_and_the_genre_mix(user, make_track, alice_client):
    _in_album(make_track, user, "First", number=1, genre="rock")
    _in_album(make_track, user, "Second", number=1, genre="metal")
    loose = make_track(user, title="Loose Single", genre="metal")
    loose = track_update_metadata(track=loose, artist="Ana Ray")
    make_track(user, title="Someone Else", artist="Other Person", genre="pop")
    html = alice_client.get(reverse("artist-detail", args=[loose.artist_ref_id])).content.decode()
    assert "First" in html and "Second" in html and "Loose Single" in html and "Someone Else" not in html
    assert "67% · 2<" in html and "33% · 1<" in html  # metal 2, rock 1
    unsure = make_track(user, title="Unsure Single", genre="rock", uncertain=True, runner_up="pop")
    track_update_metadata(track=unsure, artist="Ana Ray")
    html = alice_client.get(reverse("artist-detail", args=[loose.artist_ref_id])).content.decode()
    # Counted under the model's best guess, and said so.
    assert "50% · 2 <span" in html and "(1 unsure)" in html


def test_album_grid_shows_covers_and_a_placeholder_that_says_the_genre(user, tagged_upload, alice_client):
    with_cover = tagged_upload(user, "c.flac", {"album": "Covered", "artist": "Ana Ray"}, cover_image())
    tagged_upload(user, "n.mp3", {"album": "Bare", "artist": "Ana Ray"}, genre="reggae")
    html = alice_client.get(reverse("album-list")).content.decode()
    assert f'src="{reverse("track-cover", args=[with_cover.pk])}"' in html
    assert '<span class="cover-genre">reggae</span>' in html
    # On a track page: a guess the model was unsure of keeps its question mark; a failed track has none.
    unsure = tagged_upload(user, "u.mp3", {"title": "Unsure"}, genre="reggae")
    Prediction.objects.filter(track=unsure).update(uncertain=True)
    assert '<span class="cover-genre">reggae?</span>' in alice_client.get(
        reverse("track-detail", args=[unsure.pk])).content.decode()
    failed = tagged_upload(user, "f.mp3", {"title": "Broken"}, genre=None)
    Track.objects.filter(pk=failed.pk).update(status=Track.Status.FAILED, failure_reason="boom")
    page = alice_client.get(reverse("track-detail", args=[failed.pk])).content.decode()
    assert '<span class="cover-genre">no genre</span>' in page
    assert "The model has no genre for this track." in page and "Disagree with the model" not in page
    cover = alice_client.get(reverse("track-cover", args=[with_cover.pk]))
    assert cover.status_code == 200 and cover["Content-Type"] == "image/jpeg"
    assert b"".join(cover.streaming_content).startswith(b"\xff\xd8")
    assert "private" in cover["Cache-Control"]


def test_genres_page_counts_artists_albums_moods_and_plays(user, make_track, alice_client):
    _in_album(make_track, user, "Loud", number=1, genre="rock")
    _in_album(make_track, user, "Loud", number=2, genre="rock")
    _in_album(make_track, user, "Quiet", number=1, genre="jazz", artist="Joe Blue")
    make_track(user, title="Unsure", genre="rock", uncertain=True, runner_up="jazz")  # not counted
    html = alice_client.get(reverse("genres")).content.decode()
    rock = html[html.index('data-genre="rock"'):html.index('data-genre="jazz"')]
    assert "2 tracks" in rock and "Ana Ray" in rock and "Loud" in rock and "Joe Blue" not in rock
    assert 'sad <span class="tag-score">10%</span>' in rock  # the fixture's only mood tag
    assert f'data-player-src="{reverse("player-tracks")}?genre=rock"' in rock  # one click plays it
    assert f'href="{reverse("playlist-detail", args=["rock"])}">Playlist</a>' in rock
    jazz = html[html.index('data-genre="jazz"'):]
    assert "1 track" in jazz and "Joe Blue" in jazz and "Quiet" in jazz


def test_a_mood_hardly_heard_in_a_genre_is_not_listed(user, make_track, alice_client):
    track = make_track(user, title="Calm", genre="jazz")
    track.prediction.tags = {"sad": 0.004, "happy": 0.3, "jazz": 0.9}
    track.prediction.save()
    html = alice_client.get(reverse("genres")).content.decode()
    assert 'happy <span class="tag-score">30%</span>' in html and "sad <span" not in html


def test_library_search_finds_artists_and_albums(user, make_track, alice_client):
    _in_album(make_track, user, "Harbour Lights", number=1, title="Tide")
    html = alice_client.get(reverse("home"), {"q": "harbour"}).content.decode()
    album = Album.objects.get(owner=user)
    assert f'href="{reverse("album-detail", args=[album.pk])}"' in html
    html = alice_client.get(reverse("home"), {"q": "ana"}).content.decode()
    assert f'href="{reverse("artist-detail", args=[album.artist_id])}"' in html


# --- Editing -----------------------------------------------------------------------------------


def test_the_tag_form_moves_a_track_to_another_album(user, make_track, alice_client):
    track = _in_album(make_track, user, "Old Name", number=1)
    old_album = track.album_ref_id
    response = alice_client.post(reverse("track-metadata", args=[track.pk]), {
        "title": "New Title", "artist": "Ana Ray", "album_artist": "", "album": "New Name",
        "track_number": "4", "disc_number": "", "year": "2001"})
    assert response.status_code == 302
    track.refresh_from_db()
    assert (track.title, track.album, track.track_number, track.year) == ("New Title", "New Name", 4, 2001)
    assert track.album_ref.title == "New Name"
    assert alice_client.get(reverse("album-detail", args=[old_album])).status_code == 404  # emptied, gone


def test_the_tag_form_refuses_bad_numbers(user, make_track, alice_client):
    track = _in_album(make_track, user, "Album", number=1)
    response = alice_client.post(reverse("track-metadata", args=[track.pk]), {"album": "Album", "year": "99999"},
                                 follow=True)
    assert "Year: Ensure this value is less than or equal to 2999." in response.content.decode()
    track.refresh_from_db()
    assert track.year is None and track.album == "Album"


def test_api_patch_edits_tags_and_returns_cover_urls(user, tagged_upload, login_client):
    client = login_client(user)
    track = tagged_upload(user, "api.m4a", {"title": "Before", "album": "A"}, cover_image())
    url = reverse("api:track-detail", kwargs={"pk": track.pk})
    response = client.patch(url, {"title": "After", "album": "B", "track_number": 2}, content_type="application/json")
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["title"], body["album"], body["track_number"]) == ("After", "B", 2)
    assert body["album_id"] == Album.objects.get(owner=user, title="B").pk
    assert body["cover_url"].endswith(reverse("api:track-cover", kwargs={"pk": track.pk}))
    cover = client.get(body["cover_small_url"])
    assert cover.status_code == 200 and cover["Content-Type"] == "image/jpeg"
    bad = client.patch(url, {"year": 12}, content_type="application/json")
    assert bad.status_code == 400 and "year" in bad.content.decode()
    assert client.patch(url, {}, content_type="application/json").status_code == 400


def test_api_download_carries_the_genre_and_the_corrections(user, tagged_upload, login_client, tmp_path):
    client = login_client(user)
    track = tagged_upload(user, "api.flac", {"title": "Before", "artist": "Ana Ray"}, cover_image(), genre="jazz")
    url = reverse("api:track-detail", kwargs={"pk": track.pk})
    body = client.patch(url, {"title": "After", "year": 2001}, content_type="application/json").json()
    assert body["download_url"].endswith(reverse("api:track-download", kwargs={"pk": track.pk}))

    response = client.get(body["download_url"])
    assert response.status_code == 200 and response["Content-Type"] == "audio/flac"
    assert response["Content-Disposition"] == 'attachment; filename="api.flac"'
    copy = tmp_path / "downloaded.flac"
    copy.write_bytes(b"".join(response.streaming_content))
    metadata = read_metadata(copy)
    assert (metadata.title, metadata.year, metadata.artist, metadata.genre) == ("After", 2001, "Ana Ray", "jazz")
    assert metadata.covers is not None


def test_api_album_lists_tracks_in_order_with_its_mix(user, make_track, login_client):
    client = login_client(user)
    _in_album(make_track, user, "Ordered", number=2, title="Second")
    first = _in_album(make_track, user, "Ordered", number=1, title="First", genre="jazz")
    _in_album(make_track, user, "Ordered", number=3, title="Third", genre="jazz", uncertain=True, runner_up="blues")
    body = client.get(reverse("api:album-detail", kwargs={"pk": first.album_ref_id})).json()
    assert [t["title"] for t in body["tracks"]] == ["First", "Second", "Third"]
    assert body["artist"] == "Ana Ray" and body["cover_url"] is None
    assert body["genres"] == [{"genre": "jazz", "count": 2, "percent": 67, "uncertain": 1},
                              {"genre": "rock", "count": 1, "percent": 33, "uncertain": 0}]
    listed = client.get(reverse("api:album-list")).json()["results"]
    assert [album["title"] for album in listed] == ["Ordered"]
    artist = client.get(reverse("api:artist-detail", kwargs={"pk": first.artist_ref_id})).json()
    assert [album["title"] for album in artist["albums"]] == ["Ordered"]


# --- Isolation ---------------------------------------------------------------------------------


@pytest.fixture
def mallorys_covered_album(other_user, tagged_upload):
    return tagged_upload(other_user, "secret.flac", {"artist": "Secret Artist", "album": "Secret Album"},
                         cover_image())


def test_another_users_albums_artists_and_covers_are_404(user, alice_client, mallorys_covered_album):
    track = mallorys_covered_album
    urls = [reverse("album-detail", args=[track.album_ref_id]), reverse("artist-detail", args=[track.artist_ref_id]),
            reverse("track-cover", args=[track.pk]), reverse("track-cover-small", args=[track.pk]),
            reverse("api:album-detail", kwargs={"pk": track.album_ref_id}),
            reverse("api:artist-detail", kwargs={"pk": track.artist_ref_id}),
            reverse("api:track-cover", kwargs={"pk": track.pk}),
            reverse("api:track-cover-small", kwargs={"pk": track.pk})]
    for url in urls:
        assert alice_client.get(url).status_code == 404, url
    assert alice_client.post(reverse("track-metadata", args=[track.pk]), {"album": "Mine"}).status_code == 404
    for url in (reverse("album-list"), reverse("artist-list"), reverse("genres"), reverse("api:album-list"),
                reverse("api:artist-list")):
        assert "Secret" not in alice_client.get(url).content.decode(), url
    track.refresh_from_db()
    assert track.album == "Secret Album"


def test_anonymous_visitors_log_in_first(client, mallorys_covered_album):
    track = mallorys_covered_album
    for url in (reverse("album-list"), reverse("artist-list"), reverse("genres"),
                reverse("album-detail", args=[track.album_ref_id]), reverse("track-cover", args=[track.pk])):
        response = client.get(url)
        assert response.status_code == 302 and response["Location"].startswith(reverse("login")), url
    assert client.get(reverse("api:track-cover", kwargs={"pk": track.pk})).status_code in (401, 403)
    # Media are never public: the cover's storage name is not a URL anyone can fetch.
    assert client.get("/media/" + track.cover.name).status_code == 404


def test_the_player_plays_an_album_in_order_and_an_artist_with_covers(user, make_track, tagged_upload, alice_client,
                                                                     mallorys_covered_album):
    second = _in_album(make_track, user, "Ordered", number=2, title="Second")
    first = tagged_upload(user, "first.flac", {"artist": "Ana Ray", "album": "Ordered", "track": "1",
                                               "title": "First"}, cover_image())
    album_page = alice_client.get(reverse("album-detail", args=[first.album_ref_id])).content.decode()
    source = f'{reverse("player-tracks")}?album={first.album_ref_id}'
    assert f'data-player-src="{source}"' in album_page
    tracks = alice_client.get(source).json()["tracks"]
    assert [item["title"] for item in tracks] == ["First", "Second"]
    assert tracks[0]["cover_url"] == reverse("track-cover", args=[first.pk]) and tracks[1]["cover_url"] is None
    artist = alice_client.get(reverse("player-tracks"), {"artist": second.artist_ref_id}).json()["tracks"]
    assert [item["title"] for item in artist] == ["First", "Second"]
    theirs = mallorys_covered_album
    assert alice_client.get(reverse("player-tracks"), {"album": theirs.album_ref_id}).status_code == 404
    assert alice_client.get(reverse("player-tracks"), {"artist": theirs.artist_ref_id}).status_code == 404
    assert alice_client.get(reverse("player-tracks"), {"album": "x"}).status_code == 400


def test_api_track_list_filters_by_album_and_artist(user, other_user, make_track, login_client):
    client = login_client(user)
    on_album = _in_album(make_track, user, "Filtered", number=1, title="On It")
    _in_album(make_track, user, "Elsewhere", number=1, title="Not On It", artist="Joe Blue")
    theirs = _in_album(make_track, other_user, "Filtered", number=1, title="Theirs")
    url = reverse("api:track-list")
    assert [t["title"] for t in client.get(url, {"album_id": on_album.album_ref_id}).json()["results"]] == ["On It"]
    assert [t["title"] for t in client.get(url, {"artist_id": on_album.artist_ref_id}).json()["results"]] == ["On It"]
    assert client.get(url, {"album_id": theirs.album_ref_id}).json()["results"] == []
    assert client.get(url, {"album_id": "x"}).status_code == 400


def test_catalogue_pages_cost_the_same_queries_for_a_larger_library(user, make_track, alice_client):
    def library(size, start):
        # Half the tracks on one growing album of one artist, the rest on ever more albums and artists.
        for n in range(start, start + size):
            big = n % 2 == 0
            _in_album(make_track, user, "Big" if big else f"Album {n // 3}", number=n + 1, title=f"Song {n}",
                      artist="Ana Ray" if big else f"Artist {n // 4}", genre=["rock", "jazz", "pop"][n % 3])

    def costs():
        album, artist = Album.objects.get(owner=user, title="Big"), Artist.objects.get(owner=user, name="Ana Ray")
        urls = [reverse("album-list"), reverse("artist-list"), reverse("genres"),
                reverse("album-detail", args=[album.pk]), reverse("artist-detail", args=[artist.pk]),
                reverse("api:album-list"), reverse("api:album-detail", kwargs={"pk": album.pk})]
        counts = {}
        for url in urls:
            with CaptureQueriesContext(connection) as queries:
                assert alice_client.get(url).status_code == 200
            counts[url] = len(queries)
        return counts

    library(6, 0)
    small = costs()
    library(30, 6)
    assert costs() == small


def test_the_album_grid_comes_in_pages(user, make_track, alice_client):
    for n in range(ALBUMS_PER_PAGE + 2):
        _in_album(make_track, user, f"Album {n:03d}", number=1)
    first = alice_client.get(reverse("album-list")).content.decode()
    assert first.count('class="album-card"') == ALBUMS_PER_PAGE and "Page 1 of 2" in first
    second = alice_client.get(reverse("album-list"), {"page": 2}).content.decode()
    assert second.count('class="album-card"') == 2 and "Album 061" in second
    assert alice_client.get(reverse("album-list"), {"page": "abc"}).status_code == 200
