"""A strict mapping → frozen-dataclass converter used for rules and settings files.

Unknown keys, wrong types and bad values raise :class:`RulesError` naming the file, the key
path and the reason. Keys are kebab-case in files and snake_case in code.
"""

from __future__ import annotations

import dataclasses
import enum
import tomllib
import types
import typing
from pathlib import Path
from typing import Any, TypeVar, get_args, get_origin

T = TypeVar("T")


class RulesError(ValueError):
    """A rules or settings file is wrong. ``str()`` is one line for a person."""

    def __init__(self, source: str, path: str, reason: str) -> None:
        self.source = source
        self.path = path
        self.reason = reason
        super().__init__(f"{source}: {path or '(top)'}: {reason}")


def _kebab(name: str) -> str:
    return name.replace("_", "-")


def _typename(tp: Any) -> str:
    return getattr(tp, "__name__", str(tp))


def convert(tp: Any, value: Any, source: str, path: str) -> Any:
    origin = get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        args = [a for a in get_args(tp) if a is not type(None)]
        if value is None:
            return None
        return convert(args[0], value, source, path)
    if isinstance(tp, type) and dataclasses.is_dataclass(tp):
        if not isinstance(value, dict):
            raise RulesError(source, path, f"expected a table, got {type(value).__name__}")
        return build(tp, value, source, path)
    if origin in (tuple, list, frozenset):
        if not isinstance(value, list):
            raise RulesError(source, path, f"expected a list, got {type(value).__name__}")
        (item,) = get_args(tp)[:1]
        items = [convert(item, v, source, f"{path}[{i}]") for i, v in enumerate(value)]
        return frozenset(items) if origin is frozenset else tuple(items)
    if origin is dict or origin is typing.Mapping:
        if not isinstance(value, dict):
            raise RulesError(source, path, f"expected a table, got {type(value).__name__}")
        _k, vt = get_args(tp)
        return {k: convert(vt, v, source, f"{path}.{k}") for k, v in value.items()}
    if isinstance(tp, type) and issubclass(tp, enum.Enum):
        if not isinstance(value, str):
            raise RulesError(source, path, f"expected one of {_choices(tp)}")
        parse = getattr(tp, "parse", None)
        try:
            return parse(value) if parse else tp(value)
        except ValueError:
            raise RulesError(source, path, f"{value!r} is not one of {_choices(tp)}") from None
    if tp is bool:
        if not isinstance(value, bool):
            raise RulesError(source, path, f"expected true or false, got {value!r}")
        return value
    if tp is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise RulesError(source, path, f"expected an integer, got {value!r}")
        return value
    if tp is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise RulesError(source, path, f"expected a number, got {value!r}")
        return float(value)
    if tp is str:
        if not isinstance(value, str):
            raise RulesError(source, path, f"expected a string, got {value!r}")
        return value
    if tp is Any:
        return value
    raise RulesError(source, path, f"unsupported type {_typename(tp)}")


def _choices(tp: type[enum.Enum]) -> str:
    return ", ".join(
        str(getattr(m, "label", None) or m.value) for m in tp
    )


def build(cls: type[T], data: dict[str, Any], source: str, path: str = "") -> T:
    hints = typing.get_type_hints(cls)
    fields = {_kebab(f.name): f for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
    kwargs: dict[str, Any] = {}
    for key, value in data.items():
        sub = f"{path}.{key}" if path else key
        f = fields.get(key)
        if f is None:
            known = ", ".join(sorted(fields)) or "none"
            raise RulesError(source, sub, f"unknown key (known keys: {known})")
        kwargs[f.name] = convert(hints[f.name], value, source, sub)
    obj = cls(**kwargs)
    check = getattr(obj, "check", None)
    if check is not None:
        try:
            check()
        except ValueError as exc:
            raise RulesError(source, path, str(exc)) from None
    return obj


def read_toml(path: Path) -> dict[str, Any]:
    """Read a TOML file; any failure is a :class:`RulesError` naming the file."""
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except OSError as exc:
        raise RulesError(str(path), "", f"cannot read: {exc.strerror or exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise RulesError(str(path), "", f"not valid TOML: {exc}") from None


def deep_merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    """Tables merge key by key; any other value in ``over`` replaces the base value."""
    out = dict(base)
    for k, v in over.items():
        if isinstance(v, dict) and isinstance(out.get(k), dict):
            out[k] = deep_merge(out[k], v)
        else:
            out[k] = v
    return out
