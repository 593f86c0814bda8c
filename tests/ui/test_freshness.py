"""Which results an edit made stale: a node's digest covers its params and links and everything upstream."""
from __future__ import annotations

from flowbanana.ui.freshness import signatures


def test_a_change_reaches_the_node_and_what_it_feeds_only(make_workflow):
    nodes = {"a": {"type": "text.text", "params": {"text": "red"}},
             "b": {"type": "text.text", "params": {"text": "shoe"}},
             "t": {"type": "text.template", "params": {"template": "{a} {b}"}, "inputs": {"a": "a.text", "b": "b.text"}}}
    before = signatures(make_workflow(nodes))
    assert before == signatures(make_workflow(nodes))  # the same graph, the same digests
    nodes["a"]["params"]["text"] = "blue"
    after = signatures(make_workflow(nodes))
    assert after["a"] != before["a"] and after["t"] != before["t"] and after["b"] == before["b"]
    nodes["t"]["inputs"] = {"a": "b.text", "b": "a.text"}  # a link moved: the template's result is another
    assert signatures(make_workflow(nodes))["t"] != after["t"]


def test_a_cycle_or_a_link_to_nothing_still_gets_digests(make_workflow):
    found = signatures(make_workflow({
        "x": {"type": "text.template", "params": {"template": "{y}"}, "inputs": {"y": "y.text"}},
        "y": {"type": "text.template", "params": {"template": "{x}"}, "inputs": {"x": "x.text"}},
        "z": {"type": "text.template", "params": {"template": "{q}"}, "inputs": {"q": "gone.text"}}}))
    assert set(found) == {"x", "y", "z"} and all(found.values())
