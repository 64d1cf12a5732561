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
import os
import re
import types
import typing
from dataclasses import MISSING, dataclass, field, fields, is_dataclass

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
    metadata: typing.Mapping = field(default_factory=dict)
    """The field's metadata: `choices` (a callable giving the allowed values, read when they are checked, so a
    registry can grow), `env` (an environment variable that replaces the default; see environment_values) and
    `default_text` (what the default means, for help texts; see default_note)."""
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
        out.append(FieldInfo(name, kind, default, docs.get(name, ""), f.metadata, bounds, choices))
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
                  group_title: str | None = None, defaults: dict | None = None, notes: dict | None = None) -> None:
    """One flag per field (`max_new_tokens` -> `--max-new-tokens`), help from the docstring. Flags default to
    None, so `values_from_args` returns only what the user set and the dataclass keeps its defaults; `defaults`
    gives one command its own defaults instead, `notes` adds a sentence to a field's help."""
    group = parser.add_argument_group(group_title) if group_title else parser
    for info in describe(cls):
        names = [flag(info.name), *(aliases or {}).get(info.name, ())]
        default = (defaults or {}).get(info.name)
        help_text = " ".join(filter(None, (info.doc, (notes or {}).get(info.name),
                                           default_note(info, info.default if default is None else default))))
        options = dict(dest=info.name, default=default, help=help_text.replace("%", "%%"))  # argparse formats help
        if info.type is bool:
            group.add_argument(*names, action=argparse.BooleanOptionalAction, **options)
        elif info.choices:
            group.add_argument(*names, type=type(info.choices[0]), choices=info.choices, **options)
        elif info.type in (int, float, str):
            choices = info.metadata.get("choices")
            if choices:
                options["choices"] = LiveChoices(choices)
            else:
                options["metavar"] = info.type.__name__.upper()
            group.add_argument(*names, type=_cli_type(info.type), **options)


def default_note(info: FieldInfo, default) -> str:
    """'(default: X)', X in the words of the field's `default_text` metadata where the default stands for something
    else (an empty text or a 0 that means "automatic"), with the environment variable that replaces it; nothing for
    an empty text without such words (its docstring says what empty means)."""
    shown = info.metadata.get("default_text", default) if default == info.default else default
    bounds = f"; {info.range}" if info.range is not None else ""
    if info.metadata.get("env"):
        return f"(default: {shown} or ${info.metadata['env']}{bounds})"
    return f"({info.range})" if shown == "" and bounds else "" if shown == "" else f"(default: {shown}{bounds})"


class LiveChoices:
    """argparse choices read from a registry each time they are used (checking a value, listing them in help or an
    error), so that an entry registered after the parser was built is accepted."""

    def __init__(self, names):
        self.names = names

    def __contains__(self, value) -> bool:
        return value in self.names()

    def __iter__(self):
        return iter(self.names())


def environment_values(cls, environ: typing.Mapping[str, str] | None = None) -> dict:
    """The fields whose metadata names an environment variable that is set, read from it: defaults a deployment
    sets once (values given to `build` after these win). A value of the wrong type is a ConfigError naming the
    variable."""
    environ = os.environ if environ is None else environ
    values, errors = {}, []
    for info in describe(cls):
        name = info.metadata.get("env")
        if not name or not environ.get(name):
            continue
        try:
            values[info.name] = _cli_type(info.type)(environ[name]) if info.type in (int, float) else environ[name]
        except (ValueError, argparse.ArgumentTypeError):
            errors.append(f"${name} must be {type_name(info.type)}, got {environ[name]!r}")
    if errors:
        raise ConfigError("; ".join(errors))
    return values


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
        description = " ".join(filter(None, (info.doc, default_note(info, info.default))))
        spec[info.name] = (info.type | None, Field(None, description=description, **bounds))
    spec.update(extra_fields or {})
    return create_model(name or cls.__name__ + "Fields",
                        __config__=ConfigDict(extra="forbid", strict=True, allow_inf_nan=False), **spec)


# --- layered configs: defaults, then a YAML file, then dotted overrides ------------------------------------
# (training configs: summarizer.finetune.config; a section is a nested settings dataclass)
def parse_overrides(args: list[str]) -> dict:
    """['--train.lr', '3e-4', '--model.lora=false'] -> {'train': {'lr': 0.0003}, 'model': {'lora': False}}."""
    import yaml

    out: dict = {}
    errors = []
    i = 0
    while i < len(args):
        arg = args[i]
        if not arg.startswith("--") or arg == "--":
            errors.append(f"unexpected argument {arg!r} (overrides look like --train.lr 3e-4)")
            i += 1
            continue
        if "=" in arg:
            key, raw = arg[2:].split("=", 1)
            i += 1
        elif i + 1 < len(args):
            key, raw = arg[2:], args[i + 1]
            i += 2
        else:
            errors.append(f"{arg} needs a value")
            break
        node = out
        *parents, leaf = key.split(".")
        for part in parents:
            node = node.setdefault(part, {})
            if not isinstance(node, dict):
                errors.append(f"{arg}: {part} is given a value and sections at once")
                break
        else:
            try:
                node[leaf] = yaml_float(yaml.safe_load(raw))
            except yaml.YAMLError:
                errors.append(f"{arg}: {raw!r} is not a YAML value")
    if errors:
        raise ConfigError("; ".join(errors))
    return out


def read_mapping(path) -> dict:
    """The top-level mapping of a YAML file; a ConfigError naming the file when it is missing or not one."""
    from pathlib import Path

    import yaml

    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"config file {path} does not exist")
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (yaml.YAMLError, UnicodeDecodeError, OSError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ConfigError(f"{path}: invalid YAML: {first}") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected a mapping at the top level")
    return data


def all_problems(obj, prefix: str = "") -> list[str]:
    """`obj.problems()` and every nested section's, each named by its dotted path (`train.warmup_steps ...`)."""
    own = obj.problems() if hasattr(obj, "problems") else []
    out = [f"{prefix}{problem}" for problem in own]
    for f in fields(obj):
        value = getattr(obj, f.name)
        if is_dataclass(value):
            out += all_problems(value, f"{prefix}{f.name}.")
    return out


def load_layered(cls, path=None, overrides: list[str] | None = None, *, upgrade=None, checks=None):
    """`cls()`, then the YAML file at `path`, then dotted `overrides`; every problem (unknown names, wrong types,
    each section's `problems()`, then `checks(obj)`) in one ConfigError naming the file. `upgrade(dict) -> dict`
    maps the keys of an older layout onto this one."""
    obj = cls()
    errors: list[str] = []
    layers = [read_mapping(path)] if path is not None else []
    if overrides:
        layers.append(parse_overrides(overrides))
    for values in layers:
        merge(obj, upgrade(values) if upgrade else values, "", errors)
    errors += all_problems(obj)
    if checks is not None:
        errors += checks(obj)
    if errors:
        where = f"{path}: " if path is not None else ""
        raise ConfigError(where + f"{len(errors)} problem(s): " + "; ".join(errors))
    return obj


def dotted_help(cls) -> str:
    """Every field of every section of `cls` as a dotted override with its default and docstring."""
    lines = ["Settings (YAML keys or --section.key VALUE overrides):"]
    root = cls()
    for section in fields(cls):
        value = getattr(root, section.name)
        docs = field_docs(type(value))
        for f in fields(value):
            lines.append(f"  --{section.name}.{f.name} (default {getattr(value, f.name)!r}): {docs.get(f.name, '')}")
    return "\n".join(lines)


# --- the server's own settings (here, not in service.py, so that building the CLI's parser stays light) ----------
from .fetch import FetchSettings  # noqa: E402  (light: no HTTP client is imported until a page is fetched)

MAX_WAITING = 16


@dataclass
class ServeSettings(FetchSettings):
    """The server (`summarizer serve`, `python app.py`): where it listens, how many requests may wait, and how it
    fetches a page a request names by its `url` (FetchSettings: the server's own loopback and private network are
    refused unless it is started with --allow-private)."""

    host: str = field(default="127.0.0.1", metadata={"env": "SUMMARIZER_HOST"})
    """Address to listen on."""
    port: int = field(default=7860, metadata={"env": "SUMMARIZER_PORT"})
    """Port to listen on."""
    max_waiting: int = MAX_WAITING
    """Requests that may wait while the engine works on others; beyond that a request is told the server is busy
    (HTTP 503)."""
    feedback_dir: str = ""
    """Folder where editors' chosen or edited headlines and summaries are saved (feedback.jsonl: training data
    for `summarizer train`'s data.feedback); empty: nothing is saved."""

    def problems(self) -> list[str]:
        errors = super().problems() + ([] if self.host.strip() else ["host must not be empty"])
        if "\x00" in self.feedback_dir:
            errors.append("feedback_dir must be a folder path (it holds a NUL character)")
        if not 1 <= self.port <= 65535:
            errors.append(f"port must be from 1 to 65535, got {self.port}")
        if self.max_waiting < 1:
            errors.append(f"max_waiting must be a positive integer, got {self.max_waiting}")
        return errors

    @classmethod
    def from_values(cls, values: dict) -> "ServeSettings":
        """`values` (the flags given) over the environment ($SUMMARIZER_HOST, $SUMMARIZER_PORT) over the defaults: the
        one place the server reads its environment."""
        return build(cls, {**environment_values(cls), **values})
