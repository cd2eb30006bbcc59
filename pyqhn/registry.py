"""Named factories: the one place a name given by a user becomes an object.

A :class:`Registry` maps a name (``"exact"``, ``"lbfgs"``) to an :class:`Entry`: a factory,
a one-line description and the capabilities callers ask about (``"noise"``,
``"gradient"`` …). The command line iterates a registry for its choices and help, and
looks a name up once, at its edge (:meth:`Registry.lookup`); below it only objects travel.

A factory may be given as ``"package.module:attribute"``: it is imported on first use,
so a registry of heavy modules (JAX, Julia) costs nothing to import and creates no import
edge (see :mod:`pyqhn.engines`). An entry whose ``requires`` returns a sentence is
unavailable here (Julia not installed …): :meth:`Entry.unavailable_reason` gives that
sentence (the tests skip such entries with it; ``pyqhn doctor`` explains it).

Adding a new engine or optimiser is one module plus one :meth:`Registry.register` line
(``docs/architecture.md``).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from .checks import InputError

__all__ = ["Entry", "Registry"]

T = TypeVar("T")


def _resolve(ref: str) -> Any:
    module, _, attr = ref.partition(":")
    obj = importlib.import_module(module)
    for part in attr.split("."):
        obj = getattr(obj, part)
    return obj


@dataclass(frozen=True)
class Entry(Generic[T]):
    """One registered name.

    Attributes:
        name: the name users type (``--engine exact``).
        factory: a callable returning the object, or ``"module:attribute"`` naming one
            (imported on first use).
        doc: one line for ``--help`` and the docs.
        capabilities: what callers may ask of the object (``"noise"``, ``"gradient"``,
            ``"julia"`` …; each registry documents its own).
        requires: ``() -> str | None``, or ``"module:attribute"`` naming one: ``None`` when
            the entry can be used here, else the reason it cannot and what to do.
    """

    name: str
    factory: Callable[..., T] | str
    doc: str
    capabilities: frozenset[str] = field(default_factory=frozenset)
    requires: Callable[[], str | None] | str | None = None

    def load(self) -> Callable[..., T]:
        """The factory itself (importing its module if it was given by reference)."""
        return _resolve(self.factory) if isinstance(self.factory, str) else self.factory

    def unavailable_reason(self) -> str | None:
        """``None`` when usable here, else why not (from :attr:`requires`)."""
        if self.requires is None:
            return None
        check = _resolve(self.requires) if isinstance(self.requires, str) else self.requires
        return check()

    def create(self, *args: Any, **kwargs: Any) -> T:
        """``factory(*args, **kwargs)``."""
        return self.load()(*args, **kwargs)


class Registry(Generic[T]):
    """Name → :class:`Entry`, in registration order.

    Iterating gives the names (so ``name in registry`` and ``", ".join(registry)`` work
    as on the tuple of names it replaces).

    Args:
        kind: what the entries are, for messages (``"engine"``).
        option: the command-line option that names one (``"--engine"``), for messages.
    """

    def __init__(self, kind: str, option: str) -> None:
        self.kind, self.option = kind, option
        self._entries: dict[str, Entry[T]] = {}

    def register(self, name: str, factory: Callable[..., T] | str, doc: str, *,
                 capabilities: tuple[str, ...] = (),
                 requires: Callable[[], str | None] | str | None = None) -> Entry[T]:
        """Add ``name``; a name registered twice is a programming error (ValueError)."""
        if name in self._entries:
            raise ValueError(f"{self.kind} {name!r} is registered twice")
        entry = Entry(name, factory, doc, frozenset(capabilities), requires)
        self._entries[name] = entry
        return entry

    def lookup(self, name: str) -> Entry[T]:
        """The entry called ``name``; an :class:`~pyqhn.checks.InputError` listing the
        choices when there is none."""
        if not isinstance(name, str) or name not in self._entries:
            raise InputError(f"unknown {self.kind} {name!r}; choose one of "
                             f"{', '.join(self._entries)} ({self.option}; "
                             f"`--help` describes each)")
        return self._entries[name]

    def create(self, name: str, *args: Any, **kwargs: Any) -> T:
        """``lookup(name).create(*args, **kwargs)``."""
        return self.lookup(name).create(*args, **kwargs)

    def names(self, *, having: str | None = None, lacking: str | None = None) -> tuple[str, ...]:
        """Registered names, optionally only those with (or without) a capability."""
        return tuple(e.name for e in self._entries.values()
                     if (having is None or having in e.capabilities)
                     and (lacking is None or lacking not in e.capabilities))

    def entries(self) -> tuple[Entry[T], ...]:
        """Every entry, in registration order."""
        return tuple(self._entries.values())

    def help(self, names: tuple[str, ...] | None = None) -> str:
        """``"name: doc; name: doc"`` for ``--help`` (all names, or the ones given)."""
        return "; ".join(f"{n}: {self._entries[n].doc}" for n in (names or self.names()))

    def __iter__(self) -> Iterator[str]:
        return iter(self._entries)

    def __contains__(self, name: object) -> bool:
        return name in self._entries

    def __len__(self) -> int:
        return len(self._entries)

    def __repr__(self) -> str:
        return f"Registry({self.kind!r}: {', '.join(self._entries)})"
