from django.apps import AppConfig


class ClassifierConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "classifier"
    verbose_name = "Genre classifier"

    def ready(self):
        # Connects the receivers that remove a deleted track's files and its emptied album and
        # artist, however it was deleted.
        from classifier.services import catalogue, tracks  # noqa: F401
        # SQLite's query-planner statistics, kept up to date by the web requests.
        from classifier import sqlite_stats  # noqa: F401
