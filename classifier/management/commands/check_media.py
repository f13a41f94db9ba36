"""`python manage.py check_media`: files in media storage no track uses, and tracks whose files are
gone. Exits 0 when all is well, 1 when problems were found (and not fixed with --fix)."""
import sys
from datetime import timedelta

from django.core.management.base import BaseCommand, CommandError

from classifier.services.media import DEFAULT_MIN_AGE, MISSING_AUDIO_REASON, media_audit, media_fix

SHOWN = 10


class Command(BaseCommand):
    help = ("Report files under tracks/ and spectrograms/ that no track references, and tracks whose "
            "audio or spectrogram is missing from storage. --fix removes the orphans, marks tracks "
            "without audio failed and forgets missing spectrograms.")

    def add_arguments(self, parser):
        parser.add_argument("--fix", action="store_true",
                            help="remove orphan files, mark tracks without audio failed, clear missing spectrograms")
        parser.add_argument("--verbose", action="store_true", help=f"list every name, not only the first {SHOWN}")
        parser.add_argument("--min-age-minutes", type=float, default=DEFAULT_MIN_AGE.total_seconds() / 60,
                            help="files changed more recently than this may belong to an upload in progress "
                                 "and are never called orphans (default %(default)g)")

    def handle(self, *args, fix, verbose, min_age_minutes, **options):
        if min_age_minutes < 0:
            raise CommandError("--min-age-minutes cannot be negative.")
        audit = media_audit(min_age=timedelta(minutes=min_age_minutes))
        limit = None if verbose else SHOWN

        self._section(f"{len(audit.orphans)} orphan file(s) that no track references", audit.orphans, limit)
        self._section(f"{len(audit.missing_audio)} track(s) whose audio file is missing",
                      [f"{m.track_id}  {m.name}" for m in audit.missing_audio], limit)
        self._section(f"{len(audit.missing_spectrograms)} track(s) whose spectrogram is missing",
                      [f"{m.track_id}  {m.name}" for m in audit.missing_spectrograms], limit)
        if audit.recent_skipped:
            self.stdout.write(f"{audit.recent_skipped} unreferenced file(s) newer than {min_age_minutes:g} "
                              "minutes were left alone (an upload may still be saving them).")
        if audit.already_failed:
            self.stdout.write(f"{audit.already_failed} track(s) were already marked failed for a missing file; "
                              "their owners can delete them or upload the file again.")

        if audit.clean:
            self.stdout.write(self.style.SUCCESS("Media storage is clean."))
            return
        if not fix:
            self.stdout.write(self.style.WARNING("Problems found; run with --fix to repair them."))
            self.stdout.flush()
            sys.exit(1)

        result = media_fix(audit)
        self.stdout.write(self.style.SUCCESS(
            f"Fixed: removed {result.removed} orphan file(s); marked {result.marked_failed} track(s) failed "
            f"(\"{MISSING_AUDIO_REASON}\"); cleared {result.spectrograms_cleared} missing spectrogram reference(s)."
        ))

    def _section(self, title: str, lines: list[str], limit: int | None) -> None:
        self.stdout.write(title + (":" if lines else "."))
        for line in lines[:limit]:
            self.stdout.write(f"  {line}")
        if limit is not None and len(lines) > limit:
            self.stdout.write(f"  ... and {len(lines) - limit} more (--verbose lists them all)")
