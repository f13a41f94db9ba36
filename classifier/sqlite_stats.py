"""Query-planner statistics for SQLite, which keeps none unless asked.

Without them SQLite guesses that "owner_id = ?" picks a handful of rows, and loads a page of a
100,000-track library by walking the owner's index instead of the 50 primary keys (80 ms
instead of 13). PostgreSQL's autovacuum keeps its statistics; SQLite's documentation asks
applications to run ``PRAGMA optimize`` on their connections, which analyses the tables those
connections queried once they were never analysed or have grown many times over. Each web
request ends with it (0.1 ms when there is nothing to do), and ``analysis_limit`` bounds an
analysis to a sample, a few milliseconds at any size.
"""
import logging

from django.core.signals import request_finished
from django.db import DatabaseError, connections
from django.db.backends.signals import connection_created
from django.dispatch import receiver

log = logging.getLogger(__name__)

ANALYSIS_LIMIT = 1000  # rows sampled per index: SQLite's suggested range is 100-1000


@receiver(connection_created)
def limit_analysis(sender, connection, **kwargs):
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute(f"PRAGMA analysis_limit = {ANALYSIS_LIMIT}")


@receiver(request_finished)
def optimize_after_request(sender, **kwargs):
    for connection in connections.all(initialized_only=True):
        # Skipped inside a transaction (a test's), and where the request closed the connection.
        if connection.vendor != "sqlite" or connection.connection is None or connection.in_atomic_block:
            continue
        try:
            with connection.cursor() as cursor:
                cursor.execute("PRAGMA optimize")
        except DatabaseError as err:  # only statistics: the next request tries again
            log.warning("PRAGMA optimize failed: %s", err)
