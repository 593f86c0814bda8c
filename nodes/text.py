"""Text: values typed in the node, and templates that build prompts from other nodes' text."""
from __future__ import annotations

from flowbanana.node_api import TEXT, NodeError, Output, Pack, Param, TemplateError, fill, template_fields

pack = Pack("text", version="0.1.0", distribution="flowbanana",
            description="Text values and prompt templates.")


@pack.node("text.text", keywords=("prompt", "string", "note", "value"),
           title="Text", description="A text value typed in the node, such as a prompt.",
           params=[Param.multiline("text", "", description="The text; several lines are fine.")],
           outputs=[Output("text", TEXT)])
def text(text: str) -> str:
    return text


@pack.node("text.template", keywords=("format", "variables", "fields", "combine", "concatenate", "join"),
           title="Template",
           description="Fills {name} fields from links named like the fields, e.g. \"{subject} on {surface}\". "
                       "A list linked into a field makes one text per item.",
           params=[Param.multiline("template", "{subject}", template=True,
                                   description="Text with {field} placeholders.")],
           outputs=[Output("text", TEXT)], extra_inputs=TEXT)
def template(template: str, **fields: str) -> str:
    try:
        names = template_fields(template)
    except TemplateError as exc:
        raise NodeError(f"the template cannot be used: {exc}.", exc.hint) from None
    missing = sorted({n for n in names if n not in fields})
    if missing:
        raise NodeError(f"the template uses {', '.join('{' + n + '}' for n in missing)} but no link feeds "
                        f"{'it' if len(missing) == 1 else 'them'}.",
                        f"Link a TEXT output into an input named {missing[0]!r}, or remove the field.")
    try:
        return fill(template, {k: "" if v is None else v for k, v in fields.items()})
    except TemplateError as exc:
        raise NodeError(f"the template cannot be filled: {exc}.", exc.hint) from None
