"""Pages of long track lists that cost the same on page 1 and page 2,000."""
from django.core.paginator import Paginator


class IdFirstPaginator(Paginator):
    """Takes a page's ids from the ordered queryset alone, then loads just those rows.

    OFFSET on the full query joins every skipped track to its prediction before throwing it
    away; the ids alone come from an index walk, and the joins (select_related, annotations)
    then run for the page's rows only. Same pages as Paginator, one query more.
    """

    def page(self, number):
        number = self.validate_number(number)
        bottom = (number - 1) * self.per_page
        top = bottom + self.per_page
        if top + self.orphans >= self.count:
            top = self.count
        ids = list(self.object_list.values_list("pk", flat=True)[bottom:top])
        rows = self.object_list.order_by().in_bulk(ids)
        # A row deleted between the two queries is left out rather than failing the page.
        return self._get_page([rows[pk] for pk in ids if pk in rows], number, self)
