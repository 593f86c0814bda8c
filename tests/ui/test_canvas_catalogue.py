"""What the canvas is given to draw: the catalogue JSON, with model ids offered where a node takes one."""
from __future__ import annotations

from flowbanana.providers.models import IMAGE_MODELS, TEXT_MODELS
from flowbanana.ui.canvas import with_model_suggestions


def model_params(data: dict) -> dict:
    return {n["id"]: p for n in data["nodes"] for p in n["params"] if p["name"] == "model"}


def test_provider_nodes_suggest_the_model_catalogue_and_nothing_else_changes(catalogue):
    plain = catalogue.to_json()
    data = with_model_suggestions(catalogue.to_json())
    models = model_params(data)
    assert models["gemini.generate"]["choices"] == list(IMAGE_MODELS)
    assert models["gemini.prompt"]["choices"] == list(TEXT_MODELS)
    assert "choices" not in models["test.call"]  # a model id the provider catalogue does not know: left alone
    for params in (model_params(data), model_params(plain)):
        for param in params.values():
            param.pop("choices", None)
    assert model_params(data) == model_params(plain) and len(data["nodes"]) == len(plain["nodes"])
