import classifier.audio_storage
import classifier.models
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('classifier', '0006_listed_genre'),
    ]

    operations = [
        migrations.AlterField(
            model_name='track',
            name='file',
            field=models.FileField(max_length=255, storage=classifier.audio_storage.audio_storage, upload_to=classifier.models.track_upload_to),
        ),
    ]
