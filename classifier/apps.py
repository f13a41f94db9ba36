from django.apps import AppConfig


class ClassifierConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "classifier"
    verbose_name = "Genre classifier"

    def ready(self):
        # Connects the receiver that removes a deleted track's files, however it was deleted.
        from classifier.services import tracks  # noqa: F401
