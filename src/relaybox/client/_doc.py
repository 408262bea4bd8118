"""Client methods share their call builder's docstring (client/calls.py says it once)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

F = TypeVar("F", bound=Callable)


def doc_from(builder: Callable) -> Callable[[F], F]:
    def apply(method: F) -> F:
        method.__doc__ = builder.__doc__
        return method

    return apply
