"""Querysets compiled to SQL once per process, then run with new parameter values.

Building the SQL of a small query costs Django more CPU than PostgreSQL spends
answering it: a turn's read of its chat (the chat, its owner, persona, connection
and preset joined, and the participants' cards) spent ~70% of its time in
`SQLCompiler.as_sql`. A chat turn makes the same few queries with other ids every
time, so the hot path compiles each one once:

    _CHAT = CompiledQuery(lambda p: Chat.objects.select_related("owner").filter(pk=p.chat_id)[:1])
    chat = _CHAT.first(chat_id=7)

`p.<name>` stands for a value given at each call. The queryset is compiled with a
stand-in value for each name (an int far from any real id, or a marked string), twice
with different stand-ins that must give the same SQL, and the stand-ins are found
again in the compiled parameters. A name the compiled SQL does not pass as given
(`__icontains` or `__startswith` wrap it in `%`), or whose condition depends on its
value, is refused on first use, loudly, never silently. Rows are made
into instances by the compiler that built the SQL (select_related, only/defer and
the fields' converters included), exactly as the ORM does; `values_list` querysets
give tuples. Not supported, and refused: prefetch_related, extra selects and
annotations (compile those the usual way).

Queries go through the connection's cursor like any other, so transactions,
`assertNumQueries` and query instrumentation see them. The SQL is kept per database
alias; the alias is the router's read database for the model at each call.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from itertools import count
from typing import Any, Generic, TypeVar

from django.core.exceptions import EmptyResultSet, FullResultSet
from django.db import DEFAULT_DB_ALIAS, connections, router
from django.db.models import Model, QuerySet
from django.db.models.query import ModelIterable, ValuesListIterable, get_related_populators

_M = TypeVar("_M", bound=Model)

# Two sets of stand-ins, positive (PositiveIntegerField's range starts at 0): one near the
# top of PostgreSQL's int4, one inside int2. The queryset is compiled with each and the
# two must agree: a lookup whose condition depends on the value (Django drops one on a
# field whose range the value is out of, e.g. a SmallIntegerField) is refused.
_STAND_IN_SETS = ((2_147_480_000, "\x00compiled-query-a:"), (30_001, "\x00compiled-query-b:"))


class CompiledQueryError(Exception):
    """The queryset cannot be compiled once and reused (see the module's docstring)."""


class _StandIns:
    """`p` in the builder: each attribute read is a name given at call time."""

    def __init__(self, strings: frozenset[str], first: int, mark: str) -> None:
        self._strings, self._mark = strings, mark
        self._next = count(first)
        self.values: dict[str, Any] = {}

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        if name not in self.values:
            number = next(self._next)
            self.values[name] = f"{self._mark}{name}:{number}" if name in self._strings else number
        return self.values[name]


class _Compiled:
    """One database's SQL, where each name's value goes in its parameters, and the
    compiler's description of the rows."""

    def __init__(self, queryset: QuerySet[Any], stand_ins: dict[str, Any], alias: str) -> None:
        if getattr(queryset, "_prefetch_related_lookups", ()):
            raise CompiledQueryError("prefetch_related is not supported: compile each query on its own.")
        if queryset.query.annotations or queryset.query.extra:
            raise CompiledQueryError("annotations and extra selects are not supported.")
        if queryset._iterable_class not in (ModelIterable, ValuesListIterable):
            raise CompiledQueryError("only model and values_list querysets are supported.")
        compiler = queryset.query.get_compiler(using=alias)
        try:
            self.sql, params = compiler.as_sql()
        except (EmptyResultSet, FullResultSet) as error:  # a condition the value decided
            raise CompiledQueryError(
                "a condition depends on the value (a lookup on a field whose range a value can be "
                "out of, such as a SmallIntegerField): compile it the usual way."
            ) from error
        self.params = list(params)
        by_value = {value: name for name, value in stand_ins.items()}
        self.slots = [
            (index, by_value[value])
            for index, value in enumerate(self.params)
            if isinstance(value, int | str) and not isinstance(value, bool) and value in by_value
        ]
        missing = set(stand_ins) - {name for _, name in self.slots}
        if missing:
            raise CompiledQueryError(
                f"{', '.join(sorted(missing))}: not passed to the SQL as given (a lookup that "
                "transforms its value, such as __icontains or __startswith, cannot be compiled once)."
            )
        self.columns = compiler.col_count
        selected = compiler.select[: compiler.col_count]
        self.converters = list(compiler.get_converters([column[0] for column in selected]).items())
        self.model_rows = queryset._iterable_class is ModelIterable
        if self.model_rows:
            self.select, self.klass_info = compiler.select, compiler.klass_info
            start, end = self.klass_info["select_fields"][0], self.klass_info["select_fields"][-1] + 1
            self.own_columns = slice(start, end)
            self.init_list = [column[0].target.attname for column in self.select[start:end]]

    def run(self, alias: str, values: dict[str, Any]) -> list[Any]:
        params = list(self.params)
        for index, name in self.slots:
            params[index] = values[name]
        connection = connections[alias]
        with connection.cursor() as cursor:
            cursor.execute(self.sql, params)
            rows: list[Any] = cursor.fetchall()
        if self.converters:  # as SQLCompiler.apply_converters, with this thread's connection
            converted = []
            for row in rows:
                row = list(row)
                for position, (functions, expression) in self.converters:
                    value = row[position]
                    for function in functions:
                        value = function(value, expression, connection)
                    row[position] = value
                converted.append(row)
            rows = converted
        if not self.model_rows:
            return [tuple(row[: self.columns]) for row in rows]
        model = self.klass_info["model"]
        # django-stubs describe Django 6's signature (a fetch_mode); this is Django 5.2's.
        populators = get_related_populators(self.klass_info, self.select, alias)  # type: ignore[call-arg]
        found = []
        for row in rows:
            instance = model.from_db(alias, self.init_list, row[self.own_columns])
            for populator in populators:
                populator.populate(row, instance)
            found.append(instance)
        return found


class CompiledQuery(Generic[_M]):
    """A queryset compiled once per process and database (see the module's docstring).

    `build(p)` returns the queryset; `p.<name>` is the value passed as `<name>=` to
    `all` / `first`: an int, or a string for the names listed in `strings`."""

    def __init__(self, build: Callable[[Any], QuerySet[_M]], *, strings: Iterable[str] = ()) -> None:
        self._build = build
        self._strings = frozenset(strings)
        self._by_alias: dict[str, _Compiled] = {}
        self._lock = threading.Lock()
        self._model: type[Model] | None = None
        self._names: frozenset[str] = frozenset()

    def _compiled(self, alias: str | None) -> tuple[str, _Compiled]:
        """The SQL for where the model's reads go (`alias` None: ask the router)."""
        if self._model is not None:
            alias = alias or router.db_for_read(self._model) or DEFAULT_DB_ALIAS
            compiled = self._by_alias.get(alias)
            if compiled is not None:
                return alias, compiled
        with self._lock:
            built = []
            for first, mark in _STAND_IN_SETS:
                stand_ins = _StandIns(self._strings, first, mark)
                built.append((self._build(stand_ins), stand_ins.values))
            queryset = built[0][0]
            self._model, self._names = queryset.model, frozenset(built[0][1])
            alias = alias or router.db_for_read(queryset.model) or DEFAULT_DB_ALIAS
            compiled = self._by_alias.get(alias)
            if compiled is None:
                compiled, other = (_Compiled(each, values, alias) for each, values in built)
                if (compiled.sql, compiled.slots) != (other.sql, other.slots):
                    raise CompiledQueryError(
                        "the SQL changes with the values (a lookup on a field whose range a value "
                        "can be out of, such as a SmallIntegerField): compile it the usual way."
                    )
                self._by_alias[alias] = compiled
            return alias, compiled

    def all(self, *, using: str | None = None, **values: Any) -> list[Any]:
        """The rows: model instances, or tuples for a values_list queryset."""
        alias, compiled = self._compiled(using)
        if set(values) != self._names:
            raise TypeError(f"expected the values {sorted(self._names)}, got {sorted(values)}")
        return compiled.run(alias, values)

    def first(self, *, using: str | None = None, **values: Any) -> Any | None:
        """The first row or None (give the queryset its order and `[:1]`)."""
        rows = self.all(using=using, **values)
        return rows[0] if rows else None
