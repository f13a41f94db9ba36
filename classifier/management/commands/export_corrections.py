"""Export a user's own genres as a training set for `python -m ml.train --data DIR/labels.csv`."""
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from classifier.services.corrections import corrections_export


class Command(BaseCommand):
    help = "Write DIR/labels.csv (file,genre) and DIR/audio/ from the genres a user set by hand."

    def add_arguments(self, parser):
        parser.add_argument("--user", required=True, help="username whose corrections to export")
        parser.add_argument("--out", required=True, help="output folder (created if missing)")
        parser.add_argument("--link", action="store_true",
                            help="hard-link the audio instead of copying it (same file system only)")

    def handle(self, *args, user, out, link, **options):
        owner = get_user_model().objects.filter(username=user).first()
        if owner is None:
            raise CommandError(f"No user named {user!r}.")
        result = corrections_export(user=owner, out_dir=out, link=link)
        if result.rows == 0:
            self.stderr.write(self.style.WARNING(f"{user} has not set any genre yet; {result.csv_path} has no rows."))
        self.stdout.write(f"Wrote {result.rows} track(s) to {result.csv_path}")
