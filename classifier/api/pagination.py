from rest_framework.pagination import PageNumberPagination


class Pagination(PageNumberPagination):
    """`?page=N`, and `?page_size=` up to 200 so scripts can page through big libraries faster."""

    page_size_query_param = "page_size"
    max_page_size = 200
