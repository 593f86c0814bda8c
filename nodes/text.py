"""Text: values typed in the node, and templates that build prompts from other nodes' text."""
from __future__ import annotations

import string

from flowbanana.node_api import TEXT, NodeError, Output, Pack, Param

pack = Pack("text", version="0.1.0", distribution="flowbanana",
            description="Text values and prompt templates.")


@pack.node("text.text", title="Text", description="A text value typed in the node, such as a prompt.",
           params=[Param.multiline("text", "", description="The text; several lines are fine.")],
           outputs=[Output("text", TEXT)])
def text(text: str) -> str:
    return text


def template_fields(template: str, what: str) -> list[str]:
    """The {field} names a str.format template uses; a malformed template is a NodeError about `what`."""
    try:
        return [name for _, name, _, _ in string.Formatter().parse(template) if name is not None]
    except ValueError as exc:
        raise NodeError(f"{what} is malformed: {exc}.", "Write fields as {name}; a literal brace as {{ or }}.") \
            from None


@pack.node("text.template", title="Template",
           description="Fills {name} fields from links named like the fields, e.g. \"{subject} on {surface}\". "
                       "A list linked into a field makes one text per item.",
           params=[Param.multiline("template", "{subject}", description="Text with {field} placeholders.")],
           outputs=[Output("text", TEXT)], extra_inputs=TEXT)
def template(template: str, **fields: str) -> str:
    names = template_fields(template, "the template")
    missing = sorted({n for n in names if n not in fields})
    if missing:
        raise NodeError(f"the template uses {', '.join('{' + n + '}' for n in missing)} but no link feeds "
                        f"{'it' if len(missing) == 1 else 'them'}.",
                        f"Link a TEXT output into an input named {missing[0]!r}, or remove the field.")
    if any(not n.isidentifier() for n in names):
        raise NodeError("template fields must be plain names like {subject}.", "Remove dots and brackets from fields.")
    return template.format(**{k: "" if v is None else v for k, v in fields.items()})
