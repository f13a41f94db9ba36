from rest_framework.pagination import PageNumberPagination

from classifier.paging import IdFirstPaginator


class Pagination(PageNumberPagination):
    """`?page=N`, and `?page_size=` up to 200 so scripts can page through big libraries faster."""

    django_paginator_class = IdFirstPaginator
    page_size_query_param = "page_size"
    max_page_size = 200
