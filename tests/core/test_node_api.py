"""The node API as a pack author meets it: declaring types, params, folder and entry-point packs."""
import pytest

from flowbanana.catalogue import load_catalogue
from flowbanana.node_api import INT, TEXT, Input, Output, Pack, Param


@pytest.mark.parametrize("param, value, expected", [
    (Param.int("n", 1, min=0, max=10), "7", 7),
    (Param.float("f", 0.5), "2.5", 2.5),
    (Param.bool("b"), "yes", True),
    (Param.bool("b"), False, False),
    (Param.seed(), 42, 42),
    (Param.color("c"), "#ff8800", "#ff8800"),
    (Param.choice("m", ["fit", "fill"]), "fill", "fill"),
    (Param.multiline("t"), "two\nlines", "two\nlines"),
])
def test_params_coerce_what_the_command_line_gives(param, value, expected):
    assert param.check(value) == expected


@pytest.mark.parametrize("param, value, words", [
    (Param.int("n", 1, min=0, max=10), 11, "above the maximum 10"),
    (Param.int("n", 1), 1.5, "whole number"),
    (Param.float("f"), "nan", "finite"),
    (Param.bool("b"), "maybe", "true or false"),
    (Param.seed(), -1, "below the minimum 0"),
    (Param.color("c"), "orange", "colour like #ff8800"),
    (Param.choice("m", ["fit", "fill"]), "stretch", "not one of fit, fill"),
    (Param.text("t"), 3, "expected text"),
])
def test_params_refuse_bad_values_saying_what_is_allowed(param, value, words):
    with pytest.raises(ValueError, match=words):
        param.check(value)


def test_a_bad_default_is_caught_when_the_pack_is_written():
    with pytest.raises(ValueError, match="above the maximum"):
        Param.int("n", 20, max=10)


def test_declaring_a_node_type():
    pack = Pack("demo", version="2.1.0")

    @pack.node("demo.repeat", description="Repeat a text. Second sentence.",
               inputs=[Input("text", TEXT)], params=[Param.int("times", 2, min=1)], outputs=[Output("text", TEXT)])
    async def repeat(text, times, ctx):
        return text * times

    (node_type,) = pack.types
    assert node_type.title == "Repeat" and node_type.category == "demo" and node_type.is_async and node_type.wants_ctx
    data = node_type.to_json()
    assert data["pack"] == "demo" and data["params"][0] == {
        "name": "times", "kind": "int", "type": INT, "default": 2, "description": "", "optional": False, "min": 1}
    with pytest.raises(ValueError, match="category.name"):
        pack.node("norepeat")(repeat)
    with pytest.raises(ValueError, match="unique"):
        pack.node("demo.dup", inputs=[Input("x", TEXT)], params=[Param.text("x")])(repeat)


def test_builtin_packs_come_through_the_entry_point_group():
    catalogue = load_catalogue()
    assert catalogue.types["text.text"].pack.name == "text"
    assert catalogue.distributions()["flowbanana"]


def test_folder_packs_load_and_broken_ones_become_warnings(tmp_path, monkeypatch):
    (tmp_path / "good.py").write_text(
        "from flowbanana.node_api import Pack, Output, TEXT\n"
        "pack = Pack('good-pack', version='1.2.3')\n"
        "@pack.node('good.hello', outputs=[Output('text', TEXT)], output=True)\n"
        "def hello():\n    return 'hi'\n")
    (tmp_path / "broken.py").write_text("raise RuntimeError('oops')\n")
    (tmp_path / "clash.py").write_text(
        "from flowbanana.node_api import Pack, Output, TEXT\n"
        "pack = Pack('clash-pack')\n"
        "@pack.node('text.text', outputs=[Output('text', TEXT)])\n"
        "def text():\n    return ''\n")
    monkeypatch.delenv("FLOWBANANA_NODES_PATH", raising=False)
    catalogue = load_catalogue([tmp_path])
    assert catalogue.types["good.hello"].pack.version == "1.2.3"
    assert catalogue.types["text.text"].pack.name == "text"       # the first provider wins
    warnings = "\n".join(catalogue.warnings)
    assert "broken.py failed to load: RuntimeError: oops" in warnings and "'text.text' from pack 'clash-pack'" in warnings
    assert catalogue.requires_for(["good.hello", "text.text"]) == {"flowbanana": ">=0.1", "good-pack": ">=1.2"}


def test_nodes_path_environment_variable(tmp_path, monkeypatch):
    (tmp_path / "envpack.py").write_text(
        "from flowbanana.node_api import Pack\npack = Pack('env-pack')\n")
    monkeypatch.setenv("FLOWBANANA_NODES_PATH", str(tmp_path))
    assert "env-pack" in load_catalogue().packs


@pytest.mark.parametrize("param, text", [
    (Param.int("seed", 0, min=0, max=2**31 - 1), "0..2147483647"),
    (Param.float("temperature", 1.0, min=0.0, max=2.0), "0..2"),
    (Param.float("opacity", 0.5, min=0.05, max=1.0), "0.05..1"),
    (Param.int("count", 1, min=1), "1.."),
    (Param.text("name", ""), ""),
])
def test_a_range_reads_as_people_write_it(param, text):
    assert param.range_text == text


def test_large_bounds_read_in_full():
    with pytest.raises(ValueError, match="above the maximum 2147483647"):
        Param.seed().check(2**31)
