"""Import a folder of audio into a user's library and queue it for classification."""
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from classifier.services.imports import (
    DUPLICATE,
    NEW,
    REJECTED,
    ImportTally,
    dry_run_file,
    find_audio_files,
    import_file,
    in_place_name,
    owner_checksums,
)
from classifier.services.quota import StorageBudget


class Command(BaseCommand):
    help = (
        "Import audio files (folders are searched recursively for supported formats) into a "
        "user's library. Files already there (same checksum) are skipped, so an interrupted run "
        "can simply be started again."
    )

    def add_arguments(self, parser):
        parser.add_argument("paths", nargs="+", metavar="PATH", help="audio files or folders")
        parser.add_argument("--user", help="username whose library the files go into (required)")
        parser.add_argument("--dry-run", action="store_true",
                            help="only count new / duplicate / rejected files; store nothing")
        parser.add_argument("--in-place", action="store_true",
                            help="leave the files where they are (inside MUSIC_DIRECTORY) instead of copying "
                                 "them into the media storage; deleting a track never deletes such a file")

    def handle(self, *args, paths, user, dry_run, in_place, **options):
        if not user:
            raise CommandError("--user NAME is required: whose library should the files go into?")
        owner = get_user_model().objects.filter(username=user).first()
        if owner is None:
            raise CommandError(f"No user named {user!r}.")
        try:
            files = find_audio_files(paths)
        except FileNotFoundError as err:
            raise CommandError(f"No such file or folder: {err}") from err
        if in_place:
            try:
                for path in paths:
                    in_place_name(path)
            except ValueError as err:
                raise CommandError(str(err)) from err

        tally = ImportTally()
        known = owner_checksums(owner)  # one query for the run's duplicate checks
        budget = StorageBudget(user=owner)  # the owner's storage, counted once for the run
        # tqdm redraws its line with "\r"; OutputWrapper.write would add a newline to each update.
        progress = tqdm(files, desc="dry run" if dry_run else "importing", unit="file",
                        file=getattr(self.stderr, "_out", self.stderr), dynamic_ncols=True)
        try:
            for path in progress:
                if dry_run:
                    result = dry_run_file(path=path, known=known, budget=budget, in_place=in_place)
                else:
                    # One transaction per file (inside track_upload): an interrupt loses at most
                    # the file in hand, and a re-run finds the others as duplicates.
                    result = import_file(owner=owner, path=path, budget=budget, in_place=in_place, known=known)
                tally.add(result)
                progress.set_postfix({"new": tally.counts[NEW], "duplicate": tally.counts[DUPLICATE],
                                      "rejected": tally.counts[REJECTED]}, refresh=False)
        finally:
            progress.close()

        verb = "would import" if dry_run else "imported"
        self.stdout.write(
            f"{len(files)} file(s): {tally.counts[NEW]} {verb}, {tally.counts[DUPLICATE]} duplicate, "
            f"{tally.counts[REJECTED]} rejected."
            + ("" if dry_run else " New tracks are queued for classification.")
            + (" The files stay where they are." if in_place and not dry_run else "")
        )
        if tally.rejected:
            self.stdout.write(self.style.WARNING(f"Rejected {len(tally.rejected)} file(s):"))
            for result in tally.rejected:
                self.stdout.write(f"  {result.path}: {result.message} [{result.code}]")
