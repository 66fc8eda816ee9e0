"""Page-number paging, shared by the list operations of both APIs."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from aiohttp import web

T = TypeVar("T")


@dataclass(frozen=True)
class Page(Generic[T]):
    """One page of a list.

    Attributes:
        items: The entries on this page.
        total: How many entries the whole list has.
        next_page: Number of the next page, or None on the last page.
        previous_page: Number of the previous page, or None on the first.
    """

    items: list[T]
    total: int
    next_page: int | None
    previous_page: int | None


def paginate(items: Sequence[T], page: int, page_size: int) -> Page[T]:
    """Cut `items` into pages of `page_size` and return page `page` (1-based).

    A page past the end is empty, with a link back to the previous page.
    """
    start = (page - 1) * page_size
    chunk = list(items[start : start + page_size])
    return Page(
        items=chunk,
        total=len(items),
        next_page=page + 1 if start + page_size < len(items) else None,
        previous_page=page - 1 if page > 1 else None,
    )


def page_url(request: web.Request, page: int | None, page_size: int) -> str | None:
    """Return the request's full URL for another page (other parameters kept), or None."""
    if page is None:
        return None
    return str(request.url.update_query(page=str(page), page_size=str(page_size)))


def page_fields(request: web.Request, page: Page[Any], page_size: int) -> dict[str, Any]:
    """The fields of every paged LiveAvatar list: ``count``, ``next``, ``previous``, ``results``."""
    return {
        "count": page.total,
        "next": page_url(request, page.next_page, page_size),
        "previous": page_url(request, page.previous_page, page_size),
        "results": page.items,
    }
