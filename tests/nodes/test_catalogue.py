"""The built-in node types as the catalogue shows them: stable ids, and enough words to be the documentation."""
from __future__ import annotations

import pytest

from flowbanana.catalogue_text import describe_type, first_sentence

# Node type ids are part of the file format: removing or renaming one breaks saved workflows.
LIBRARY = {
    "io": ["image.load", "image.load_folder", "image.save", "image.preview"],
    "image": ["image.resize", "image.crop", "image.rotate", "image.flip", "image.adjust", "image.blur",
              "image.sharpen", "image.grayscale", "image.pad", "image.composite", "image.text", "image.grid",
              "image.convert"],
    "mask": ["mask.shape", "mask.from_image", "mask.invert", "mask.grow", "mask.feather", "mask.load"],
    "text": ["text.text", "text.template"],
    "list": ["list.from_lines", "list.from_csv", "list.field", "list.pick", "list.count"],
}
TYPES = [(category, type_id) for category, ids in LIBRARY.items() for type_id in ids]


@pytest.mark.parametrize("category, type_id", TYPES, ids=[t for _, t in TYPES])
def test_every_library_node_documents_itself(catalogue, category, type_id):
    node_type = catalogue.get(type_id)
    assert node_type is not None, f"{type_id} is missing from the catalogue"
    assert node_type.category == category and node_type.pack.distribution == "flowbanana"
    assert node_type.title and node_type.title[0].isupper()
    sentence = first_sentence(node_type.description)
    assert sentence.endswith(".") and len(sentence) <= 120, sentence
    undocumented = [p.name for p in (*node_type.params, *node_type.inputs) if not p.description]
    assert not undocumented, f"{type_id}: describe {undocumented}"
    shown = describe_type(node_type)
    assert all(p.name in shown for p in node_type.params)


def test_every_built_in_node_opens_with_one_short_sentence_for_the_listing(catalogue):
    built_in = [t for t in catalogue.types.values() if t.pack and t.pack.distribution == "flowbanana"]
    assert {"gemini.generate", "gemini.inpaint", "mask.paint"} <= {t.id for t in built_in}
    long = {t.id: s for t in built_in if not ((s := first_sentence(t.description)).endswith(".") and len(s) <= 120)}
    assert not long, "`flowbanana nodes` shows each first sentence on one line: " + repr(long)


def test_titles_are_unique_so_the_palette_is_unambiguous(catalogue):
    titles = [catalogue.get(t).title for _, t in TYPES]
    assert len(set(titles)) == len(titles)


@pytest.mark.parametrize("type_id", ["image.save", "image.preview"])
def test_result_nodes_are_outputs(catalogue, type_id):
    assert catalogue.get(type_id).output
    assert catalogue.get("image.save").cacheable is False
