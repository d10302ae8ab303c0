"""Paginating a SQLAlchemy select without N+1 queries."""
from __future__ import annotations

import math
from dataclasses import dataclass

from sqlalchemy import func, select

from ..errors import InvalidInput
from ..extensions import db

DEFAULT_PER_PAGE = 10
MAX_PER_PAGE = 50


@dataclass
class Page:
    items: list
    page: int
    per_page: int
    total: int

    @property
    def pages(self) -> int:
        return max(1, math.ceil(self.total / self.per_page))

    @property
    def has_next(self) -> bool:
        return self.page < self.pages

    @property
    def has_prev(self) -> bool:
        return self.page > 1


def page_args(page=None, per_page=None) -> tuple[int, int]:
    """Validate page numbers (1-based) and sizes (1..50, default 10)."""
    try:
        page = int(page or 1)
        per_page = int(per_page or DEFAULT_PER_PAGE)
    except (TypeError, ValueError):
        raise InvalidInput("page and per_page must be whole numbers", {"page": ["Whole number"]}) from None
    if page < 1:
        raise InvalidInput("page starts at 1", {"page": ["At least 1"]})
    if not 1 <= per_page <= MAX_PER_PAGE:
        raise InvalidInput(f"per_page must be 1 to {MAX_PER_PAGE}", {"per_page": [f"1 to {MAX_PER_PAGE}"]})
    return page, per_page


def paginate(query, page=None, per_page=None) -> Page:
    page, per_page = page_args(page, per_page)
    total = db.session.scalar(select(func.count()).select_from(query.order_by(None).subquery()))
    items = list(db.session.scalars(query.limit(per_page).offset((page - 1) * per_page)).unique())
    return Page(items, page, per_page, total)
