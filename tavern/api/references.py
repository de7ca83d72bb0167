"""Objects a request body names by id.

A path that names another user's object answers 404 (it must look missing). An id in
the body is input: one the caller may not use is invalid input, a 400 that names
the field, so that the client knows which value to fix."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from django.http import Http404
from rest_framework import exceptions

T = TypeVar("T")


def body_reference(field: str, load: Callable[[], T]) -> T:
    try:
        return load()
    except Http404:
        raise exceptions.ValidationError(
            {field: ["There is nothing with this id that you can use."]}
        ) from None
