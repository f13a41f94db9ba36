"""`python manage.py read_metadata`: read tags and covers from the stored files of tracks uploaded
before GenreWeb read them in full (album artist, track and disc numbers, year, the file's genre,
the cover), and file those tracks under their artists and albums. Safe to run again: a track is
read once unless --all is given."""
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from classifier.models import Track
from classifier.services.catalogue import track_read_metadata


class Command(BaseCommand):
    help = ("Fill title, artist, album artist, album, track/disc number, year, the file's genre tag and the "
            "cover of tracks uploaded before these were read, from their stored files.")

    def add_arguments(self, parser):
        parser.add_argument("--user", help="only this user's tracks (username)")
        parser.add_argument("--all", action="store_true",
                            help="read every track again; this replaces tags edited by their owners")

    def handle(self, *args, user=None, all=False, **options):
        tracks = Track.objects.order_by("created_at")
        if user:
            owner = get_user_model().objects.filter(username=user).first()
            if owner is None:
                raise CommandError(f"There is no user called “{user}”.")
            tracks = tracks.filter(owner=owner)
        if not all:
            tracks = tracks.filter(metadata_read_at__isnull=True)
        read = covers = missing = 0
        for track in tqdm(tracks.iterator(chunk_size=200), total=tracks.count(), unit="track",
                          disable=not options.get("verbosity")):
            try:
                track_read_metadata(track=track)
            except FileNotFoundError:
                missing += 1
                self.stderr.write(f"{track.pk}: the stored file {track.file.name} is missing; skipped "
                                  "(manage.py check_media reports such tracks).")
                continue
            read += 1
            covers += bool(track.cover)
        self.stdout.write(self.style.SUCCESS(
            f"Read the tags of {read} track(s), {covers} with a cover; {missing} skipped for a missing file."))
