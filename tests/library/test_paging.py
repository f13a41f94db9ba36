"""IdFirstPaginator gives exactly the pages Paginator gives, for every sort the lists offer."""
import pytest
from django.core.paginator import Paginator

from classifier import selectors
from classifier.paging import IdFirstPaginator
from tests.library.test_library_page import bulk_library

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("sort", list(selectors.LIBRARY_SORTS))
def test_id_first_pages_equal_plain_pages(user, sort):
    bulk_library(user, 128)
    tracks = selectors.library_tracks(user=user, sort=sort)
    plain, id_first = Paginator(tracks, 25, orphans=5), IdFirstPaginator(tracks, 25, orphans=5)
    assert id_first.num_pages == plain.num_pages == 5  # the last page takes the 3 orphans too
    for number in plain.page_range:
        page = id_first.page(number)
        assert [t.pk for t in page] == [t.pk for t in plain.page(number)]
        # Loaded with the list's joins and annotations: nothing more is queried per row.
        assert all(t.effective_genre == t.prediction.genre for t in page)
