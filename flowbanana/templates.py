"""`{field}` templates in user text (file names, prompts), filled with bounded output.

`str.format` trusts its template: `{index:300000000}` pads to 300 million characters and a
nested `{a:{b}}` takes its width from data. Here a format spec may pad or round a value a little
(`{index:03d}`, `{price:.2f}`), never more than MAX_SPEC_WIDTH, takes nothing from data, and the
filled text stops at a length limit instead of growing without one.
"""
from __future__ import annotations

import re
import string
from typing import Any, Iterable

MAX_SPEC_WIDTH = 64            # the widest padding, and the most decimals, a format spec may ask for
MAX_LENGTH = 1_000_000         # characters in a filled template (a prompt); callers may lower it
HINT = ("Write fields as {name}, a literal brace as {{ or }}, and number formats such as {index:03d} "
        f"(widths and precisions up to {MAX_SPEC_WIDTH}).")
# Python's format-spec mini-language: [[fill]align][sign][z][#][0][width][grouping][.precision][type]
_SPEC = re.compile(r"(?:.?[<>=^])?[-+ ]?z?#?0?(?P<width>\d+)?[,_]?(?:\.(?P<precision>\d+))?[bcdeEfFgGnosxX%]?",
                   re.DOTALL)


class TemplateError(ValueError):
    """The template cannot be filled safely: `str()` says why, `hint` what to do."""

    def __init__(self, message: str, hint: str = HINT):
        super().__init__(message)
        self.hint = hint


def template_fields(template: str, allowed: Iterable[str] | None = None) -> list[str]:
    """The field names `template` uses, in order; raise TemplateError for anything not filled safely.

    `allowed`: the only field names it may use (None: any plain name).
    """
    fields = []
    for _, name, spec, _ in _parse(template):
        if name is None:
            continue
        if not name.isidentifier():
            raise TemplateError(f"{{{name}}} is not a plain field name" if name else
                                "{} has no field name; name it, like {subject}")
        if "{" in spec or "}" in spec:
            raise TemplateError(f"the format of {{{name}}} contains another field ({spec!r})")
        match = _SPEC.fullmatch(spec)
        if match is None:
            raise TemplateError(f"{{{name}:{spec}}} is not a format like {{{name}:03d}} or {{{name}:.2f}}")
        for part in ("width", "precision"):
            if match[part] and int(match[part]) > MAX_SPEC_WIDTH:
                raise TemplateError(f"{{{name}:{spec}}} asks for a {part} of {int(match[part]):,}; the most is "
                                    f"{MAX_SPEC_WIDTH}")
        fields.append(name)
    if allowed is not None:
        unknown = sorted({f for f in fields if f not in allowed})
        if unknown:
            raise TemplateError(f"unknown field(s) {', '.join('{' + f + '}' for f in unknown)}; available: "
                                f"{', '.join('{' + f + '}' for f in allowed)}")
    return fields


def fill(template: str, values: dict[str, Any], max_length: int = MAX_LENGTH) -> str:
    """`template` with its fields filled from `values`; TemplateError instead of a result over `max_length`."""
    template_fields(template, allowed=values)
    formatter, parts, length = string.Formatter(), [], 0
    for literal, name, spec, conversion in _parse(template):
        parts.append(literal)
        length += len(literal)
        if name is not None:
            try:
                text = formatter.format_field(formatter.convert_field(values[name], conversion), spec)
            except (ValueError, TypeError) as exc:
                raise TemplateError(f"{{{name}:{spec}}} cannot format {values[name]!r}: {exc}") from None
            parts.append(text)
            length += len(text)
        if length > max_length:
            raise TemplateError(f"the filled text would be over {max_length:,} characters",
                                "Shorten the template or the texts that fill it.")
    return "".join(parts)


def _parse(template: str) -> list[tuple[str, str | None, str, str | None]]:
    try:
        return list(string.Formatter().parse(template))
    except ValueError as exc:
        raise TemplateError(f"malformed: {exc}") from None
