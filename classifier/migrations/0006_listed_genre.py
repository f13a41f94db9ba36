from django.conf import settings
from django.db import migrations, models
from django.db.models import Case, OuterRef, Q, Subquery, Value, When
from django.db.models.functions import Coalesce, NullIf


def fill_listed_genre(apps, schema_editor):
    """Existing tracks get the genre they show (as services.tracks.tracks_store_listed_genre
    stores it from now on)."""
    Track = apps.get_model("classifier", "Track")
    Prediction = apps.get_model("classifier", "Prediction")
    prediction = Prediction.objects.filter(track=OuterRef("pk"))
    Track.objects.update(
        listed_genre=Coalesce(NullIf("user_genre", Value("")), Subquery(prediction.values("genre"))),
        listed_uncertain=Case(When(Q(user_genre=""), then=Coalesce(Subquery(prediction.values("uncertain")),
                                                                     Value(False))), default=Value(False)),
    )


class Migration(migrations.Migration):

    dependencies = [
        ('classifier', '0005_albums_artists_covers'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name='track',
            name='listed_genre',
            field=models.CharField(blank=True, editable=False, max_length=64, null=True),
        ),
        migrations.AddField(
            model_name='track',
            name='listed_uncertain',
            field=models.BooleanField(default=False, editable=False),
        ),
        migrations.AddIndex(
            model_name='track',
            index=models.Index(fields=['owner', 'listed_genre', 'listed_uncertain'], name='classifier__owner_i_04d245_idx'),
        ),
        migrations.RunPython(fill_listed_genre, migrations.RunPython.noop),
    ]
