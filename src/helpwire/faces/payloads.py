"""Reading request bodies the way other products' clients actually send them.

Faces read the raw body themselves: their clients send headers and bodies that FastAPI's
own parsing would refuse (UCloud's documented ``Content-Type: content-type:
application/json``, CoCalc's documented JSON with shell line continuations inside it,
form bodies with ``info[user_agent]=...`` brackets or JSON strings in fields).
"""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import parse_qsl

MAX_FORM_DEPTH = 32
NUL_MESSAGE = "must not contain NUL (U+0000) characters"


class BodyError(ValueError):
    """The body cannot be read; ``message`` says why, like a JavaScript SyntaxError."""


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def _decode_json(text: str) -> Any:
    return json.loads(text, parse_constant=_reject_constant)


def strip_line_continuations(text: str) -> str:
    """``text`` without the backslash-newline pairs that stand *between* JSON tokens.

    A JSON body pasted from a shell example (``-d '{"a": 1, \\`` newline ``"b": 2}'``)
    keeps the backslashes, because single quotes keep everything. Outside a string a
    backslash is never valid JSON, so removing a backslash followed only by blanks and a
    line break cannot change the meaning of a valid document; inside strings nothing is
    touched.
    """
    out: list[str] = []
    in_string = False
    i = 0
    n = len(text)
    while i < n:
        char = text[i]
        if in_string:
            out.append(char)
            if char == "\\" and i + 1 < n:
                out.append(text[i + 1])
                i += 2
                continue
            if char == '"':
                in_string = False
            i += 1
            continue
        if char == '"':
            in_string = True
        elif char == "\\":
            j = i + 1
            while j < n and text[j] in " \t":
                j += 1
            if j < n and text[j] in "\r\n":
                i = j  # drop the backslash and the blanks; the line break stays
                continue
        out.append(char)
        i += 1
    return "".join(out)


def parse_json(raw: bytes, *, tolerate_line_continuations: bool = False) -> Any:
    """The JSON document in ``raw``. Raises BodyError with a JavaScript-like message."""
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise BodyError("the body is not UTF-8") from None
    try:
        return _decode_json(text)
    except json.JSONDecodeError as first:
        if tolerate_line_continuations:
            repaired = strip_line_continuations(text)
            if repaired != text:
                try:
                    return _decode_json(repaired)
                except (ValueError, RecursionError):
                    pass
        raise BodyError(f"{first.msg} in JSON at position {first.pos}") from None
    except RecursionError:
        raise BodyError("the JSON nests too deeply") from None
    except ValueError as exc:
        raise BodyError(str(exc)) from None


_BRACKETS = re.compile(r"\[([^\[\]]*)\]")
_FORM_KEY = re.compile(r"^([^\[\]]+)((?:\[[^\[\]]*\])+)$")


def _key_parts(key: str) -> list[str]:
    match = _FORM_KEY.match(key)
    if match is None:
        return [key]
    return [match.group(1), *_BRACKETS.findall(match.group(2))]


def _put(node: dict[str, Any], parts: list[str], value: str, key: str) -> None:
    head, rest = parts[0], parts[1:]
    if not rest:
        if head == "":  # name[]=value appends
            node.setdefault("", []).append(value)
        elif head in node:
            existing = node[head]
            if isinstance(existing, dict):
                raise BodyError(f"form field {key!r} is both a value and a group")
            node[head] = [*existing, value] if isinstance(existing, list) else [existing, value]
        else:
            node[head] = value
        return
    if head == "":
        child: dict[str, Any] = {}
        node.setdefault("", []).append(child)
    else:
        found = node.setdefault(head, {})
        if not isinstance(found, dict):
            raise BodyError(f"form field {key!r} is both a value and a group")
        child = found
    _put(child, rest, value, key)


def _finish(value: Any) -> Any:
    """Groups whose keys are all indexes (``tags[0]``, ``tags[]``) become lists."""
    if isinstance(value, list):
        return [_finish(v) for v in value]
    if isinstance(value, dict):
        keys = list(value)
        if keys and all(k == "" or k.isdigit() for k in keys):
            indexed = sorted((k for k in keys if k != ""), key=int)
            return [_finish(value[k]) for k in indexed] + [_finish(v) for v in value.get("", [])]
        return {k: _finish(v) for k, v in value.items()}
    return value


def parse_form(raw: bytes) -> dict[str, Any]:
    """An application/x-www-form-urlencoded body, read the way Express's
    ``urlencoded({extended: true})`` reads it: ``info[user_agent]=x`` is a nested object,
    ``tags[]=a&tags[]=b`` or ``tags[0]=a`` a list, and a repeated name a list too."""
    try:
        text = raw.decode("utf-8")
        pairs = parse_qsl(text, keep_blank_values=True, encoding="utf-8", errors="strict")
    except (UnicodeDecodeError, ValueError):
        raise BodyError("the form body is not UTF-8") from None
    root: dict[str, Any] = {}
    for key, value in pairs:
        parts = _key_parts(key)
        if len(parts) > MAX_FORM_DEPTH:
            raise BodyError(f"form field {key[:64]!r} nests deeper than {MAX_FORM_DEPTH} levels")
        _put(root, parts, value, key)
    finished: dict[str, Any] = {k: _finish(v) for k, v in root.items()}
    return finished


def decode_json_text(value: Any) -> Any:
    """A form field that carries a JSON object or list as text (``info={"a": 1}``) as the
    value it spells; any other value as it is."""
    if isinstance(value, str) and value.strip()[:1] in ("{", "["):
        try:
            return _decode_json(value)
        except (ValueError, RecursionError):
            return value
    return value


def nul_field(document: Any, where: str = "") -> str | None:
    """The field holding the first NUL character (``info.deep[1]``), or None.

    PostgreSQL cannot store U+0000 in text. The NUL middleware refuses NULs in JSON and
    form bodies by their content type; faces read bodies whatever their content type
    says, so they check what they parsed too."""
    stack: list[tuple[Any, str]] = [(document, where)]
    while stack:
        value, path = stack.pop()
        if isinstance(value, str):
            if "\x00" in value:
                return path or "body"
        elif isinstance(value, dict):
            if any("\x00" in key for key in value):
                return path or "body"
            stack.extend(
                (item, f"{path}.{key}" if path else key) for key, item in reversed(value.items())
            )
        elif isinstance(value, list):
            stack.extend((item, f"{path}[{i}]") for i, item in reversed(list(enumerate(value))))
    return None
