"""Module-level page handlers, bound to one application: a page family's router is declared
once at module level, and `bind` gives each application its copy, whose requests carry that
application's objects (its `PageAccess`, and whatever else the family keeps per application)."""

from __future__ import annotations

from collections.abc import Mapping

from fastapi import APIRouter, Depends, Request

from crisis.web.access import PageAccess

__all__ = ["bind", "page_access"]


class _Put:
    """A dependency that sets the bound objects on each request's state."""

    def __init__(self, values: Mapping[str, object]) -> None:
        self.values = dict(values)

    def __call__(self, request: Request) -> None:
        for name, value in self.values.items():
            setattr(request.state, name, value)


def bind(router: APIRouter, *, access: PageAccess, **values: object) -> APIRouter:
    """`router`'s routes for one application: `page_access(request)` answers `access`, and
    `request.state.<name>` each of `values`."""
    bound = APIRouter(
        include_in_schema=False, dependencies=[Depends(_Put({"page_access": access, **values}))]
    )
    bound.include_router(router)
    return bound


def page_access(request: Request) -> PageAccess:
    """The session, CSRF and role checks of the application that serves `request`."""
    access: PageAccess = request.state.page_access
    return access
