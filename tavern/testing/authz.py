"""The authorization matrix's machinery (tavern/tests/test_authorization_matrix.py).

What the URL conf and the socket routing serve is read here, not listed by hand,
so a new endpoint without a row in the matrix fails the suite by name. The rows
themselves (who gets what) live in the test; this module knows nothing of any app.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from functools import cache
from typing import Any

import pytest
from django.urls import URLPattern, URLResolver, get_resolver
from django.views.generic import RedirectView

# Methods every view answers the same way (Django and DRF derive them); never a row of their own.
_DERIVED_METHODS = frozenset({"HEAD", "OPTIONS"})
# A function view with no declared methods reads a form on POST and shows it on GET.
_UNDECLARED_METHODS = frozenset({"GET", "POST"})
_PARAMETER = re.compile(r"<(?:\w+:)?(\w+)>|\(\?P<(\w+)>")

SOCKET = "WS"
ACTORS = ("owner", "other", "moderator", "adult", "anonymous")


@dataclass(frozen=True)
class Endpoint:
    """One method of one route: `route` is the URL name (namespaced), or the pattern of a socket."""

    route: str
    method: str
    pattern: str

    @property
    def parameters(self) -> tuple[str, ...]:
        return tuple(a or b for a, b in _PARAMETER.findall(self.pattern))

    @property
    def label(self) -> str:
        return f"{self.method} {self.route} (/{self.pattern})"

    def path(self, values: Mapping[str, object]) -> str:
        """The pattern with its parameters filled in (sockets have no `reverse`)."""
        return "/" + _PARAMETER.sub(lambda match: str(values[match.group(1) or match.group(2)]), self.pattern)


def accepted_methods(callback: Callable[..., Any]) -> frozenset[str]:
    """The methods a view answers, read from the view itself.

    Class-based views (Django's and DRF's) by their handler methods; function
    views by what `require_http_methods` (require_GET, require_POST) or the
    OpenAI endpoint decorator closed over; an undecorated function view reads a
    form, so GET and POST. A redirect answers every method alike: GET stands for all.
    """
    view_class = getattr(callback, "view_class", None)
    if view_class is not None:
        if issubclass(view_class, RedirectView):
            return frozenset({"GET"})
        return (
            frozenset(name.upper() for name in view_class.http_method_names if hasattr(view_class, name))
            - _DERIVED_METHODS
        )
    declared = _declared_methods(callback)
    return declared if declared is not None else _UNDECLARED_METHODS


def _declared_methods(callback: Callable[..., Any]) -> frozenset[str] | None:
    function: Any = callback
    while function is not None:
        code, closure = getattr(function, "__code__", None), getattr(function, "__closure__", None)
        if code is not None and closure:
            cells = {name: cell.cell_contents for name, cell in zip(code.co_freevars, closure, strict=True)}
            # django.views.decorators.http.require_http_methods
            if isinstance(cells.get("request_method_list"), list | tuple):
                return frozenset(cells["request_method_list"]) - _DERIVED_METHODS
            # chats.openai_compat.views.openai_endpoint(method)
            if isinstance(cells.get("method"), str) and cells["method"].isupper():
                return frozenset({cells["method"]})
        function = getattr(function, "__wrapped__", None)
    return None


def _walk(patterns: Iterable[URLPattern | URLResolver], prefix: str, namespace: str) -> Iterable[Endpoint]:
    for entry in patterns:
        pattern = prefix + str(entry.pattern)
        if isinstance(entry, URLResolver):
            inner = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
            yield from _walk(entry.url_patterns, pattern, inner)
            continue
        route = f"{namespace}{entry.name}" if entry.name else pattern
        for method in sorted(accepted_methods(entry.callback)):
            yield Endpoint(route=route, method=method, pattern=pattern)


@cache
def http_endpoints(excluded: tuple[str, ...]) -> tuple[Endpoint, ...]:
    """Every (route, method) of the root URL conf, but those under an `excluded` path prefix."""
    return tuple(
        endpoint
        for endpoint in _walk(get_resolver().url_patterns, "", "")
        if not endpoint.pattern.startswith(excluded)
    )


def socket_endpoints(patterns: Iterable[URLPattern]) -> tuple[Endpoint, ...]:
    return tuple(Endpoint(route=str(p.pattern), method=SOCKET, pattern=str(p.pattern)) for p in patterns)


# ---------------------------------------------------------------- expectations


@dataclass(frozen=True)
class Outcome:
    """What one actor gets.

    `status` is the HTTP status (a tuple when the endpoint's answer depends on
    something else than the caller, e.g. readiness), or for a socket 101
    (accepted) or the close code. `login`: a redirect to the login page (any
    other redirect must go elsewhere). `sees`: whether the row's marker text is
    in the body (another user's objects in a list, a secret in a shared one).
    `hole`: a known open hole another change is closing; the case is a strict
    xfail until then, so it turns red the day the hole is closed and the row
    must drop its mark.
    """

    status: int | tuple[int, ...]
    login: bool = False
    sees: bool | None = None
    hole: str = ""

    @property
    def statuses(self) -> tuple[int, ...]:
        return self.status if isinstance(self.status, tuple) else (self.status,)

    def but(self, **changes: Any) -> Outcome:
        return Outcome(**{**self.__dict__, **changes})


@dataclass(frozen=True)
class Row:
    """One case of one endpoint: the objects it acts on and what each actor gets.

    `objects` names, per URL parameter, which of the world's objects fills it
    (the default is the parameter's own: `chat_id` is the owner's chat).
    `builds` names objects that must exist though no URL names them (what a
    list should or should not show). `data` and `query` are the body and the
    query string, or a function of the world giving them. `commits`: the
    owner's call runs a generation, which reaches the database from other
    threads, so those cases commit for real (a transactional database).
    `settings` are overridden for the case and `headers` (WSGI names, `HTTP_...`) sent
    with it: an endpoint whose callers are told apart by configuration, not by account
    (`/metrics`: a token, an allowed address).
    """

    route: str
    method: str
    expect: Mapping[str, Outcome]
    case: str = ""
    objects: Mapping[str, str] = field(default_factory=dict)
    builds: tuple[str, ...] = ()
    data: Any = None
    query: Any = None
    format: str = "json"
    commits: bool = False
    settings: Mapping[str, Any] = field(default_factory=dict)
    headers: Mapping[str, str] = field(default_factory=dict)

    @property
    def key(self) -> tuple[str, str]:
        return (self.route, self.method)

    @property
    def label(self) -> str:
        return f"{self.method} {self.route}" + (f" [{self.case}]" if self.case else "")


def matrix_params(rows: Iterable[Row]) -> list[Any]:
    """One pytest param per (row, actor), its id reading as the case; known holes as strict xfails."""
    params = []
    for row in rows:
        for actor in ACTORS:
            outcome = row.expect.get(actor)
            if outcome is None:
                continue
            marks: list[Any] = []
            if outcome.hole:
                marks.append(pytest.mark.xfail(strict=True, reason=outcome.hole))
            if row.commits and any(200 <= status < 300 for status in outcome.statuses):
                marks.append(pytest.mark.django_db(transaction=True))
            params.append(pytest.param(row, actor, id=f"{row.label} as {actor}", marks=marks))
    return params


def endpoints_without_rows(endpoints: Iterable[Endpoint], rows: Iterable[Row]) -> list[str]:
    covered = {row.key for row in rows}
    return [endpoint.label for endpoint in endpoints if (endpoint.route, endpoint.method) not in covered]


def rows_without_endpoints(endpoints: Iterable[Endpoint], rows: Iterable[Row]) -> list[str]:
    served = {(endpoint.route, endpoint.method) for endpoint in endpoints}
    return sorted({row.label for row in rows if row.key not in served})


def rows_missing_an_actor(rows: Iterable[Row], required: Iterable[str]) -> list[str]:
    needed = set(required)
    return [row.label for row in rows if not needed <= set(row.expect)]
