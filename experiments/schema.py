"""One declarative schema for design files; keys that are parameter paths are checked by the parameter metadata.

The schema is data: a ``Table`` of named fields, each of which says what it allows (the words of
every error message) and reads a parsed TOML value. ``check`` walks a file against it and raises
one ``InputError`` naming the file, the key, the value and what is allowed; an unknown key gets the
closest allowed names. Tables keyed by parameter path (``[base]``, ``[vary]``) take their keys and
value checks from ``model/parameters.toml`` — the same checks as scenario files and ``--set``
(``model/parameters.py``). Size fields name their limit (``experiments/limits.py``), so a value
over it says so and how to raise it.

Rules that tie fields together (a range needs a range sampler, ``difference`` names two of the
regimes, the planned size) are in ``experiments/design.py``, after this check.
"""

from __future__ import annotations

import json
import math
import unicodedata
from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from experiments.limits import Limits
from model.parameters import PARAMETERS, InputError, Parameter, closest, flatten, show

SEED_MAX = 2**32 - 1


@dataclass(frozen=True)
class Context:
    """Where a check runs: the file (for messages) and the limits in force."""

    file: str
    limits: Limits

    def refuse(self, key: str, value: Any, allowed: str) -> InputError:
        """The one-line error for ``key = value``."""
        return InputError(f"{self.file}: {key} = {show(value)} is not allowed: expected {allowed}")


def key_path(parent: str, name: str) -> str:
    """A TOML key path for messages: ``sampler.n``, ``vary."firm.lock_in".range`` (``parent`` already written so)."""
    if name and all(c.isascii() and (c.isalnum() or c in "_-") for c in name):
        part = name
    else:
        quoted = json.dumps(str(name))
        part = quoted if len(quoted) <= 64 else quoted[:60] + '..."'
    return f"{parent}.{part}" if parent else part


class Field(ABC):
    """One value in a schema: what it allows, and how it is read (each kind of field defines both)."""

    @abstractmethod
    def allowed(self, ctx: Context) -> str:
        """What the field accepts, in words."""

    @abstractmethod
    def read(self, value: Any, key: str, ctx: Context, parameter: Parameter | None = None) -> Any:
        """The value, checked (and converted where a kind asks for it).

        Raises:
            InputError: naming ``key``, the value and ``allowed``.
        """


@dataclass(frozen=True)
class Whole(Field):
    """A whole number (never a bool or a float such as 1.7) within bounds; ``limit`` names a size limit."""

    lo: int
    hi: int | None = None
    limit: str | None = None
    power_of_two: bool = False
    even: bool = False

    def top(self, ctx: Context) -> int:
        """The largest value allowed."""
        return ctx.limits.value(self.limit)[0] if self.limit else self.hi

    def allowed(self, ctx: Context) -> str:
        """What the field accepts, in words."""
        kind = " that is a power of two" if self.power_of_two else " that is even" if self.even else ""
        return f"a whole number from {self.lo:,} to {self.top(ctx):,}{kind}"

    def read(self, value, key, ctx, parameter=None):
        """The whole number, checked."""
        if isinstance(value, bool) or not isinstance(value, int) or value < self.lo:
            raise ctx.refuse(key, value, self.allowed(ctx))
        if self.limit:
            ctx.limits.check(self.limit, value, f"{ctx.file}: {key} = {show(value)}")
        elif value > self.hi:
            raise ctx.refuse(key, value, self.allowed(ctx))
        if (self.power_of_two and value & (value - 1)) or (self.even and value % 2):
            near = 2 ** round(math.log2(value)) if self.power_of_two else value + 1
            raise ctx.refuse(key, value, f"{self.allowed(ctx)} (e.g. {near:,})")
        return value


@dataclass(frozen=True)
class Text(Field):
    """Text of 1 to ``max_len`` characters."""

    what: str = "text"
    max_len: int = 200

    def allowed(self, ctx: Context) -> str:
        """What the field accepts, in words."""
        return f"{self.what} of 1 to {self.max_len} characters, on one line (no control characters)"

    def read(self, value, key, ctx, parameter=None):
        """The text, checked: it appears in messages and tables, so a line break or a control character is refused."""
        if not isinstance(value, str) or not value.strip() or len(value) > self.max_len or \
                any(unicodedata.category(c) in ("Cc", "Zl", "Zp") for c in value):
            raise ctx.refuse(key, value, self.allowed(ctx))
        return value


@dataclass(frozen=True)
class Choice(Field):
    """One name of a fixed set; a misspelt one gets the closest names."""

    options: tuple[str, ...]

    def allowed(self, ctx: Context) -> str:
        """What the field accepts, in words."""
        return "one of " + ", ".join(repr(o) for o in self.options)

    def read(self, value, key, ctx, parameter=None):
        """The name, checked."""
        if not isinstance(value, str) or value not in self.options:
            raise ctx.refuse(key, value, self.allowed(ctx) + (closest(value, self.options) if isinstance(value, str)
                                                             else ""))
        return value


@dataclass(frozen=True)
class List(Field):
    """A list of ``item`` values, ``min_len`` to ``max_len`` long (or up to a size limit), optionally distinct."""

    item: Field
    min_len: int = 1
    max_len: int | None = None
    limit: str | None = None
    distinct: bool = False
    what: str = ""

    def top(self, ctx: Context) -> int | None:
        """The longest list allowed (None: no stated length; the planned runs limit bounds it)."""
        return ctx.limits.value(self.limit)[0] if self.limit else self.max_len

    def allowed(self, ctx: Context) -> str:
        """What the field accepts, in words."""
        if self.what:
            return self.what
        top = self.top(ctx)
        size = (f"{self.min_len:,}" if top == self.min_len else
                f"{self.min_len:,} to {top:,}" if top else f"at least {self.min_len:,}")
        return f"a list of {size}{' distinct' if self.distinct else ''} values, each {self.item.allowed(ctx)}"

    def read(self, value, key, ctx, parameter=None):
        """The list, each item read by ``item``."""
        top = self.top(ctx)
        if not isinstance(value, list) or len(value) < self.min_len:
            raise ctx.refuse(key, value, self.allowed(ctx))
        if top is not None and len(value) > top:
            if self.limit:
                ctx.limits.check(self.limit, len(value), f"{ctx.file}: {key} with {len(value):,} entries")
            raise ctx.refuse(key, value, self.allowed(ctx))
        out = [self.item.read(v, f"{key}[{i}]", ctx, parameter) for i, v in enumerate(value)]
        if self.distinct and len({show(v) for v in out}) != len(out):
            raise ctx.refuse(key, value, self.allowed(ctx) + ": a value is given twice")
        return out


@dataclass(frozen=True)
class ParameterValue(Field):
    """A value of the parameter whose path is the key: kind and range from ``model/parameters.toml``."""

    def allowed(self, ctx: Context) -> str:
        """What the field accepts, in words."""
        return "a value of that parameter (see: ontschot params)"

    def read(self, value, key, ctx, parameter=None):
        """The value, coerced by the parameter's own check."""
        return parameter.coerce(value, f"{ctx.file} [{key.split('.')[0]}]")


@dataclass(frozen=True)
class Table(Field):
    """A table of named fields; unknown keys are refused with the closest allowed names."""

    fields: Mapping[str, Field]
    name: str = "a table"

    def allowed(self, ctx: Context) -> str:
        """What the field accepts, in words."""
        return f"{self.name} with keys from {', '.join(self.fields)}" if self.fields else self.name

    def read(self, value, key, ctx, parameter=None):
        """The table with each present field read; absent fields stay absent (defaults are the caller's)."""
        if not isinstance(value, dict):
            raise ctx.refuse(key, value, self.allowed(ctx))
        for name in value:
            if name not in self.fields:
                where = f" in [{key}]" if key else ""
                allowed = ", ".join(self.fields) if self.fields else "none"
                raise InputError(f"{ctx.file}: unknown key {show(name)}{where}{closest(name, self.fields)} "
                                 f"(allowed: {allowed})")
        return {name: self.fields[name].read(v, key_path(key, name), ctx, parameter)
                for name, v in value.items()}


@dataclass(frozen=True)
class Tagged(Field):
    """A table whose ``tag`` key picks which fields it may hold and needs (a sampler's method picks its settings)."""

    tag: str
    default: str
    variants: Mapping[str, Mapping[str, Field]]
    required: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

    def allowed(self, ctx: Context) -> str:
        """What the field accepts, in words."""
        return f"a table with {self.tag} = one of {', '.join(repr(v) for v in self.variants)}"

    def read(self, value, key, ctx, parameter=None):
        """The table, its keys checked against the fields of its variant."""
        if not isinstance(value, dict):
            raise ctx.refuse(key, value, self.allowed(ctx))
        variant = Choice(tuple(self.variants)).read(value.get(self.tag, self.default), key_path(key, self.tag), ctx)
        fields = self.variants[variant]
        for name in value:
            if name != self.tag and name not in fields:
                other = [v for v, f in self.variants.items() if name in f]
                hint = (f": it belongs to {', '.join(repr(o) for o in other)}" if other else closest(name, fields))
                allowed = ", ".join(fields) if fields else "none"
                raise InputError(f"{ctx.file}: key {show(name)} in [{key}] is not used by {self.tag} {variant!r}"
                                 f"{hint} (allowed with {variant!r}: {allowed})")
        for name in self.required.get(variant, ()):
            if name not in value:
                raise InputError(f"{ctx.file}: [{key}] {self.tag} {variant!r} needs {name} = N "
                                 f"({fields[name].allowed(ctx)})")
        out = {name: fields[name].read(v, key_path(key, name), ctx) for name, v in value.items() if name != self.tag}
        return {self.tag: variant, **out}


@dataclass(frozen=True)
class OneOf(Field):
    """A value read by the first form whose type matches (a list, or a table)."""

    forms: tuple[tuple[type, Field], ...]

    def allowed(self, ctx: Context) -> str:
        """What the field accepts, in words."""
        return " or ".join(f.allowed(ctx) for _, f in self.forms)

    def read(self, value, key, ctx, parameter=None):
        """The value, read by its form."""
        for kind, form in self.forms:
            if isinstance(value, kind):
                return form.read(value, key, ctx, parameter)
        raise ctx.refuse(key, value, self.allowed(ctx))


@dataclass(frozen=True)
class ParameterTable(Field):
    """A table keyed by parameter path; each value read by ``value`` with that parameter's metadata.

    ``nested`` tables (``[base] scenario.inhabitants = 1``) are flattened to paths, a path given twice
    is refused; ``reserved`` keys are fields of their own (``[base] scenario = "file.toml"``).
    """

    value: Field
    nested: bool = False
    reserved: Mapping[str, Field] = field(default_factory=dict)
    refuse_paths: Mapping[str, str] = field(default_factory=dict)

    def allowed(self, ctx: Context) -> str:
        """What the field accepts, in words."""
        return "a table keyed by parameter path (see: ontschot params)"

    def read(self, value, key, ctx, parameter=None):
        """The table: reserved fields by name, every other key a known parameter path with its value read."""
        if not isinstance(value, dict):
            raise ctx.refuse(key, value, self.allowed(ctx))
        out: dict[str, Any] = {}
        rest = dict(value)
        for name, spec in self.reserved.items():
            if name in rest and not isinstance(rest[name], dict):
                out[name] = spec.read(rest.pop(name), key_path(key, name), ctx)
        entries = flatten(rest, origin=f"{ctx.file} [{key}]") if self.nested else rest
        for path, v in entries.items():
            if path not in PARAMETERS:
                raise InputError(f"{ctx.file}: " + PARAMETERS.unknown_message(path, f"[{key}]"))
            if path in self.refuse_paths:
                raise InputError(f"{ctx.file}: {key_path(key, path)} is not allowed: {self.refuse_paths[path]}")
            out[path] = self.value.read(v, key_path(key, path), ctx, PARAMETERS.get(path))
        return out


def check(schema: Table, document: dict, ctx: Context) -> dict:
    """A parsed file checked against ``schema``; the first problem raises one InputError."""
    return schema.read(document, "", ctx)

