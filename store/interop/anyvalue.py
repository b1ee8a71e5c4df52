"""OTLP typed values (AnyValue) to plain JSON values and back.

Encoding: str -> stringValue, bool -> boolValue, int -> intValue (a decimal string; outside the
int64 range it becomes a stringValue), float -> doubleValue (NaN and infinities as the strings
proto3 JSON uses), None -> an empty AnyValue, dict -> kvlistValue, list -> arrayValue. Nested
objects are kvlistValue rather than JSON strings so that types survive a round trip.

Decoding is the inverse; bytesValue decodes to its base64 text, and the caller keeps the original
AnyValue so that the type is not lost (see `has_bytes`).
"""

from __future__ import annotations

import binascii
import math
import re
from collections.abc import Callable
from typing import Any

from .errors import Invalid

INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1
_NONFINITE = {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf}
_INTEGER = re.compile(r"-?[0-9]+")


def encode_value(value: Any) -> dict[str, Any]:
    """One JSON value as an OTLP AnyValue."""
    kind = type(value)
    if kind is str:
        return {"stringValue": value}
    if kind is bool:
        return {"boolValue": value}
    if kind is int:
        if INT64_MIN <= value <= INT64_MAX:
            return {"intValue": str(value)}
        return {"stringValue": str(value)}
    if kind is float:
        if math.isfinite(value):
            return {"doubleValue": value}
        text = "NaN" if value != value else ("Infinity" if value > 0 else "-Infinity")
        return {"doubleValue": text}
    if value is None:
        return {}
    if isinstance(value, dict):
        return {"kvlistValue": {"values": encode_attributes(value)}}
    if isinstance(value, list | tuple):
        return {"arrayValue": {"values": [encode_value(v) for v in value]}}
    return {"stringValue": str(value)}


def encode_attributes(values: dict[str, Any]) -> list[dict[str, Any]]:
    """A JSON object as an OTLP KeyValue list, in its own order."""
    return [{"key": str(k), "value": encode_value(v)} for k, v in values.items()]


def decode_value(value: Any) -> Any:
    """An OTLP AnyValue as a JSON value; raises Invalid naming what is wrong."""
    if type(value) is not dict:
        raise Invalid("is not an AnyValue object")
    if not value:
        return None
    if len(value) != 1:
        raise Invalid(f"has several values ({', '.join(map(str, value))})")
    ((kind, inner),) = value.items()
    decoder = _DECODERS.get(kind)
    if decoder is None:
        raise Invalid(f"has unknown value type {kind!r}")
    try:
        return decoder(inner)
    except Invalid as exc:
        raise exc.at(kind) from None


def decode_attributes(
    items: Any, track: bool = True
) -> tuple[dict[str, Any], dict[str, Any] | None]:
    """An OTLP KeyValue list as a JSON object, and the raw AnyValues whose type decoding loses.

    `track=False` skips looking for bytesValue (nested lists are covered by their top level).
    """
    if items is None:
        return {}, None
    if type(items) is not list:
        raise Invalid("is not a list")
    out: dict[str, Any] = {}
    raw: dict[str, Any] | None = None
    for index, item in enumerate(items):
        if type(item) is not dict:
            raise Invalid("is not a key/value object", index)
        key = item.get("key")
        if type(key) is not str:
            raise Invalid("is missing or not a string", index, "key")
        value = item.get("value")
        if value is None:
            out[key] = None
            continue
        if type(value) is dict and len(value) == 1:
            ((kind, inner),) = value.items()
            scalar = _scalar(kind, inner)
            if scalar is not _NOT_SCALAR:
                out[key] = scalar
                continue
        try:
            out[key] = decode_value(value)
        except Invalid as exc:
            raise exc.at(index, "value") from None
        if track and has_bytes(value):
            if raw is None:
                raw = {}
            raw[key] = value
    return out, raw


_NOT_SCALAR = object()


def _scalar(kind: str, inner: Any) -> Any:
    """The common well-formed scalar values, decoded without the general path's checks (which
    handle everything else, and say what is wrong)."""
    kind_of = type(inner)
    if kind == "stringValue" and kind_of is str:
        return inner
    if kind == "intValue" and kind_of is str and inner.isdigit() and inner.isascii():
        number = int(inner)
        return number if number <= INT64_MAX else _NOT_SCALAR
    if kind == "boolValue" and kind_of is bool:
        return inner
    if kind == "doubleValue" and kind_of is float:
        return inner
    return _NOT_SCALAR


def check_attributes(items: Any) -> None:
    """Validate a KeyValue list kept verbatim (events, links, resources, scopes)."""
    decode_attributes(items, track=False)


def has_bytes(value: dict[str, Any]) -> bool:
    """Whether an AnyValue holds a bytesValue anywhere, which decoding turns into text."""
    if "bytesValue" in value:
        return True
    if "arrayValue" in value:
        return any(has_bytes(v) for v in (value["arrayValue"] or {}).get("values") or ())
    if "kvlistValue" in value:
        return any(
            has_bytes(kv.get("value") or {})
            for kv in (value["kvlistValue"] or {}).get("values") or ()
        )
    return False


def _string(value: Any) -> str:
    if type(value) is not str:
        raise Invalid("is not a string")
    return value


def _bool(value: Any) -> bool:
    if type(value) is not bool:
        raise Invalid("is not true or false")
    return value


def _int(value: Any) -> int:
    if type(value) is int:
        number = value
    elif type(value) is str and _INTEGER.fullmatch(value):
        number = int(value)
    else:
        raise Invalid(f"is not an integer ({value!r:.40})")
    if not INT64_MIN <= number <= INT64_MAX:
        raise Invalid("is outside the 64-bit integer range")
    return number


def _double(value: Any) -> float:
    if type(value) is float or type(value) is int:
        return float(value)
    if type(value) is str:
        if value in _NONFINITE:
            return _NONFINITE[value]
        try:
            return float(value)
        except ValueError:
            pass
    raise Invalid(f"is not a number ({value!r:.40})")


def _bytes(value: Any) -> str:
    if type(value) is not str:
        raise Invalid("is not a base64 string")
    try:
        binascii.a2b_base64(value, strict_mode=True)
    except binascii.Error:
        raise Invalid("is not valid base64") from None
    return value


def _array(value: Any) -> list[Any]:
    if type(value) is not dict:
        raise Invalid("is not an object")
    items = value.get("values")
    if items is None:
        return []
    if type(items) is not list:
        raise Invalid("is not a list", "values")
    out = []
    for index, item in enumerate(items):
        try:
            out.append(decode_value(item))
        except Invalid as exc:
            raise exc.at("values", index) from None
    return out


def _kvlist(value: Any) -> dict[str, Any]:
    if type(value) is not dict:
        raise Invalid("is not an object")
    try:
        return decode_attributes(value.get("values"), track=False)[0]
    except Invalid as exc:
        raise exc.at("values") from None


_DECODERS: dict[str, Callable[[Any], Any]] = {
    "stringValue": _string,
    "boolValue": _bool,
    "intValue": _int,
    "doubleValue": _double,
    "bytesValue": _bytes,
    "arrayValue": _array,
    "kvlistValue": _kvlist,
}
