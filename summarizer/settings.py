"""The one settings layer: typed dataclasses whose field docstrings are the help text.

Every entry point reads settings through here: the CLI's flags, the web demo's controls and the API's schema are
generated from the dataclasses (`add_arguments`, `webapp.setting_controls`, `pydantic_model`), YAML files hold
only the differences from the defaults, dotted overrides (`--train.lr 3e-4`) change one field, and every problem
is reported at once in one message.

A field's bounds are written once, on its annotation: `Annotated[int, Range(1, 8)]` (inclusive), or a
`Literal["short", "long"]` for a choice. `build` and `field_problems` enforce them; the CLI's help, the API's schema
(minimum/maximum, enum) and the web controls (minimum/maximum, a dropdown) show them, with no code per field.
"""

from __future__ import annotations

import argparse
import ast
import functools
import inspect
import math
import re
import types
import typing
from dataclasses import MISSING, dataclass, fields, is_dataclass

from .errors import ConfigError


@dataclass(frozen=True)
class Range:
    """Inclusive bounds of a numeric setting, written on its annotation: `Annotated[int, Range(1, 8)]`."""

    low: int | float
    high: int | float

    def __contains__(self, value) -> bool:
        return self.low <= value <= self.high

    def __str__(self) -> str:
        return f"from {self.low} to {self.high}"


@dataclass(frozen=True)
class FieldInfo:
    name: str
    type: object
    """The field's type, without its Annotated bounds."""
    default: object
    doc: str
    range: Range | None = None
    choices: tuple | None = None
    """The allowed values of a Literal field."""


def field_docs(cls) -> dict[str, str]:
    """Attribute docstrings (the string literal under each field) by field name, base classes included."""
    docs: dict[str, str] = {}
    for klass in reversed(cls.__mro__):
        if not is_dataclass(klass):
            continue
        try:
            tree = ast.parse(inspect.getsource(klass))
        except (OSError, TypeError, IndentationError):
            continue
        body = tree.body[0].body
        for node, nxt in zip(body, body[1:]):
            if isinstance(node, ast.AnnAssign) and isinstance(nxt, ast.Expr) and isinstance(nxt.value, ast.Constant):
                docs[node.target.id] = " ".join(str(nxt.value.value).split())
    return docs


@functools.lru_cache(maxsize=None)
def _typed_fields(cls) -> tuple[tuple[str, object, Range | None, tuple | None], ...]:
    """(name, type without its Annotated bounds, Range, Literal choices) per field; cached: build runs it on
    every API request, and the class does not change."""
    hints = typing.get_type_hints(cls, include_extras=True)
    out = []
    for f in fields(cls):
        kind, extras = hints[f.name], ()
        if typing.get_origin(kind) is typing.Annotated:
            kind, *extras = typing.get_args(kind)
        bounds = next((e for e in extras if isinstance(e, Range)), None)
        choices = typing.get_args(kind) if typing.get_origin(kind) is typing.Literal else None
        out.append((f.name, kind, bounds, choices))
    return tuple(out)


def describe(cls) -> list[FieldInfo]:
    """The fields of a settings dataclass, with resolved types, bounds, defaults and docstrings."""
    docs = field_docs(cls)
    out = []
    for f, (name, kind, bounds, choices) in zip(fields(cls), _typed_fields(cls)):
        if f.default is not MISSING:
            default = f.default
        elif f.default_factory is not MISSING:
            default = f.default_factory()
        else:
            default = None
        out.append(FieldInfo(name, kind, default, docs.get(name, ""), bounds, choices))
    return out


_PLAIN = re.compile(r"[\w.+-]{1,40}", re.ASCII)


def shown(value) -> str:
    """A user's value as an error message may quote it: numbers and short plain words as given, anything else
    described by its type and size, so that a message never carries markup or megabytes back to its sender."""
    if isinstance(value, int) and not isinstance(value, bool) and value.bit_length() > 64:
        return f"[an integer of about {int(value.bit_length() * math.log10(2)) + 1:,} digits]"
    if value is None or isinstance(value, (bool, int, float)):
        return repr(value)
    if isinstance(value, str):
        return repr(value) if _PLAIN.fullmatch(value) else f"[a text of {len(value):,} characters]"
    return f"[a {type(value).__name__}]"


def field_problems(obj) -> list[str]:
    """Every field of the dataclass `obj` whose value has the wrong type or is outside its Range/choices."""
    errors = []
    for name, kind, bounds, _ in _typed_fields(type(obj)):
        value = getattr(obj, name)
        if not check_type(value, kind):
            errors.append(f"{name} must be {type_name(kind)}, got {shown(value)}")
        elif bounds is not None and value is not None and value not in bounds:
            errors.append(f"{name} must be {bounds}, got {shown(value)}")
    return errors


def check_type(value, annotation) -> bool:
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return check_type(value, typing.get_args(annotation)[0])
    if origin is typing.Literal:
        return any(value == choice and type(value) is type(choice) for choice in typing.get_args(annotation))
    if origin in (typing.Union, types.UnionType):
        return any(check_type(value, a) for a in typing.get_args(annotation))
    if annotation is type(None):
        return value is None
    if origin is list:
        (inner,) = typing.get_args(annotation)
        return isinstance(value, list) and all(check_type(v, inner) for v in value)
    if origin is dict:
        key, inner = typing.get_args(annotation)
        return isinstance(value, dict) and all(check_type(k, key) and check_type(v, inner) for k, v in value.items())
    if annotation is float:
        # NaN and infinities are never a meaningful setting.
        return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
    if annotation is int:
        return isinstance(value, int) and not isinstance(value, bool)
    return isinstance(value, annotation)


def type_name(annotation) -> str:
    if typing.get_origin(annotation) is typing.Literal:
        return "one of " + ", ".join(str(choice) for choice in typing.get_args(annotation))
    return getattr(annotation, "__name__", None) or str(annotation).replace("typing.", "")


def yaml_float(value):
    """YAML 1.1 reads "3e-4" (no dot) as a string: read such a string as the number it spells."""
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            pass
    return value


def merge(obj, values: dict, prefix: str, errors: list[str]) -> None:
    """Set `values` onto the dataclass `obj` (nested dataclasses recursively), collecting every problem."""
    hints = typing.get_type_hints(type(obj))
    known = {f.name for f in fields(obj)}
    for key, value in values.items():
        name = f"{prefix}{key}"
        if key not in known:
            errors.append(f"unknown key {shown(name)} (known: {', '.join(sorted(known))})")
            continue
        current = getattr(obj, key)
        if hints[key] is float:
            value = yaml_float(value)
        if is_dataclass(current):
            if not isinstance(value, dict):
                errors.append(f"{name} must be a mapping, got {type(value).__name__}")
            else:
                merge(current, value, f"{name}.", errors)
        elif not check_type(value, hints[key]):
            errors.append(f"{name} must be {type_name(hints[key])}, got {shown(value)}")
        else:
            setattr(obj, key, float(value) if hints[key] is float else value)


def build(cls, values: dict | None, *, what: str = "setting"):
    """An instance of `cls` from user values: unknown names, wrong types, values outside their bounds and the
    class's own `problems()` (relations between fields) raise one ConfigError naming each."""
    if values is not None and not isinstance(values, dict):
        raise ConfigError(f"{what}s must be a mapping of names to values")
    obj = cls()
    errors: list[str] = []
    merge(obj, dict(values or {}), "", errors)
    errors = [e.replace("unknown key", f"unknown {what}") for e in errors]
    # A value of the wrong type was not set, so the object holds only well-typed values here. A class's
    # problems() may itself call field_problems (a direct caller then gets every check): each is reported once.
    errors += field_problems(obj) + list(getattr(obj, "problems", list)())
    if errors:
        raise ConfigError("; ".join(dict.fromkeys(errors)))
    return mark_explicit(obj, values or {})


def mark_explicit(obj, names):
    """Record which fields of `obj` a caller set (read by explicit_values); returns `obj`."""
    object.__setattr__(obj, "_explicit", frozenset(names))
    return obj


def explicit_values(obj) -> dict:
    """The fields a caller set: the names given to `build` (the CLI passes only flags used, the API only fields
    present), or, for an object constructed directly, those that differ from the defaults."""
    names = getattr(obj, "_explicit", None)
    if names is None:
        defaults = type(obj)()
        names = [f.name for f in fields(obj) if getattr(obj, f.name) != getattr(defaults, f.name)]
    return {name: getattr(obj, name) for name in names}


# --- entry points generated from the dataclass -------------------------------------------------------------
def flag(name: str) -> str:
    return "--" + name.replace("_", "-")


def add_arguments(parser: argparse.ArgumentParser, cls, *, aliases: dict[str, tuple[str, ...]] | None = None,
                  group_title: str | None = None) -> None:
    """One flag per field (`max_new_tokens` -> `--max-new-tokens`), help from the docstring. Flags default to
    None, so `values_from_args` returns only what the user set and the dataclass keeps its defaults."""
    group = parser.add_argument_group(group_title) if group_title else parser
    for info in describe(cls):
        names = [flag(info.name), *(aliases or {}).get(info.name, ())]
        bounds = f"; {info.range}" if info.range is not None else ""
        help_text = f"{info.doc} (default: {info.default}{bounds})".replace("%", "%%")  # argparse formats with %
        if info.type is bool:
            group.add_argument(*names, dest=info.name, action=argparse.BooleanOptionalAction, default=None,
                               help=help_text)
        elif info.choices:
            group.add_argument(*names, dest=info.name, type=type(info.choices[0]), choices=info.choices,
                               default=None, help=help_text)
        elif info.type in (int, float, str):
            group.add_argument(*names, dest=info.name, type=_cli_type(info.type), default=None, help=help_text,
                               metavar=info.type.__name__.upper())


def _cli_type(kind):
    if kind is float:
        def parse_float(text: str) -> float:
            value = float(text)
            if not math.isfinite(value):
                raise argparse.ArgumentTypeError(f"{text!r} is not a finite number")
            return value

        return parse_float
    return kind


def values_from_args(args: argparse.Namespace, cls) -> dict:
    return {info.name: getattr(args, info.name) for info in describe(cls)
            if getattr(args, info.name, None) is not None}


def pydantic_model(cls, *, extra_fields: dict | None = None, name: str | None = None):
    """A pydantic model with the dataclass's fields, all optional (absent = the default), docs as descriptions;
    unknown names are refused. Used for the API's request schema."""
    from pydantic import ConfigDict, Field, create_model

    spec = {}
    for info in describe(cls):
        bounds = {"ge": info.range.low, "le": info.range.high} if info.range is not None else {}
        spec[info.name] = (info.type | None, Field(None, description=f"{info.doc} (default: {info.default})",
                                                   **bounds))
    spec.update(extra_fields or {})
    return create_model(name or cls.__name__ + "Fields",
                        __config__=ConfigDict(extra="forbid", strict=True, allow_inf_nan=False), **spec)
