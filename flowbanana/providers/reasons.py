"""Why Gemini gave no usable answer, in plain words: finish reasons and prompt block reasons.

Values are those of google-genai 3.6.1's `FinishReason` and `BlockedReason` enums. Each maps to
(what happened, what to do); a reason this table lacks still gets a message that names it.
"""
from __future__ import annotations

SAME = "Running again as is gives the same answer."
_AGAIN = "Running again may work (it is not retried automatically: each try is paid)."
_REPHRASE = "Gemini's safety filters refused it: change the prompt or the input images. " + SAME

SAFETY = frozenset({"SAFETY", "IMAGE_SAFETY", "PROHIBITED_CONTENT", "IMAGE_PROHIBITED_CONTENT", "BLOCKLIST", "SPII"})

FINISH: dict[str, tuple[str, str]] = {
    **{reason: ("declined for safety", _REPHRASE) for reason in SAFETY},
    "MAX_TOKENS": ("ran out of output tokens before it finished",
                   "Shorten the prompt or the system instruction, or lower the thinking level."),
    "MALFORMED_RESPONSE": ("produced an answer it could not complete (malformed response)", _AGAIN),
    "RECITATION": ("stopped because the answer repeated existing material too closely (recitation)",
                   "Ask for something more original, e.g. without naming a specific work. " + SAME),
    "IMAGE_RECITATION": ("stopped because the image resembled existing material too closely (recitation)",
                         "Ask for something more original, e.g. without naming a specific work. " + SAME),
    "OTHER": ("stopped for a reason it does not give (OTHER)", _AGAIN),
    "IMAGE_OTHER": ("could not make the image, for a reason it does not give (IMAGE_OTHER)",
                    "Rephrase the prompt, or run again (it is not retried automatically: each try is paid)."),
    "NO_IMAGE": ("answered without making an image (NO_IMAGE)",
                 "Say plainly that you want an image (\"Generate an image of ...\"). " + SAME),
    "LANGUAGE": ("stopped: the prompt is in a language it does not support",
                 "Write the prompt in a supported language, e.g. English."),
    "MISSING_THOUGHT_SIGNATURE": ("refused a follow-up turn that lacked its thought signature",
                                  "Report it: flowbanana should have sent the signature back."),
    "MALFORMED_FUNCTION_CALL": ("produced a malformed tool call", _AGAIN),
    "UNEXPECTED_TOOL_CALL": ("called a tool it was not given", _AGAIN),
    "TOO_MANY_TOOL_CALLS": ("made too many tool calls (search) and stopped", "Simplify the prompt, or turn search "
                            "off. " + _AGAIN),
}

BLOCK: dict[str, str] = {
    "SAFETY": "for safety", "PROHIBITED_CONTENT": "as prohibited content", "BLOCKLIST": "for a blocked term",
    "IMAGE_SAFETY": "for an input image's safety", "OTHER": "for a reason it does not give",
    "JAILBREAK": "as an attempt to get around its rules", "MODEL_ARMOR": "through the project's Model Armor policy",
}

# Reasons that end an answer early; STOP, FINISH_REASON_UNSPECIFIED and no reason at all do not.
FAILED = frozenset(FINISH)


def finish_message(reason: str, image: bool) -> tuple[str, str]:
    """(message, hint) for an answer that ended with `reason` and brought nothing usable."""
    what, hint = FINISH.get(reason, (f"stopped early ({reason})", _AGAIN))
    made = "without an image" if image else "without an answer"
    return f"Gemini {what}, {made} (finish reason {reason}).", hint


def block_message(reason: str) -> tuple[str, str]:
    """(message, hint) for a prompt Gemini refused before answering."""
    why = BLOCK.get(reason, "")
    hint = ("Rephrase the prompt or change the input images. " + SAME if reason != "MODEL_ARMOR" else
            "Your project's Model Armor settings decide this one; see the Google Cloud console.")
    return f"Gemini blocked the prompt{' ' + why if why else ''} ({reason}).", hint
