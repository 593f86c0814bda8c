"""List nodes: lines and CSV columns to lists, pick and count."""
from __future__ import annotations

import re

import pytest

from flowbanana.node_api import NodeError

PRODUCTS = "sku;product;surface\n1;red sneakers;marble\n\n2;steel watch;oak\n3;wool scarf;\n"


def test_from_lines_skips_blank_lines_and_trims(node):
    assert node("list.from_lines", text="  one \n\n two\r\n   \nthree") == ["one", "two", "three"]
    assert node("list.from_lines", text="") == []


@pytest.mark.parametrize("column, expected", [("product", ["red sneakers", "steel watch", "wool scarf"]),
                                              ("3", ["marble", "oak", ""]), ("", ["1", "2", "3"])])
def test_from_csv_column_by_name_or_number(node, wf_dir, column, expected):
    (wf_dir / "products.csv").write_text(PRODUCTS, encoding="utf-8")
    assert node("list.from_csv", path="products.csv", column=column) == expected


def test_from_csv_without_header_bom_and_quotes(node, wf_dir):
    (wf_dir / "p.csv").write_bytes('\ufeff"a, with comma",x\nb,y\n'.encode("utf-8"))
    assert node("list.from_csv", path="p.csv", header=False, delimiter="comma") == ["a, with comma", "b"]
    assert node("list.from_csv", path="p.csv", header=False, column="2") == ["x", "y"]


def test_from_csv_limit_warns(node, wf_dir, reports):
    (wf_dir / "n.csv").write_text("n\n" + "\n".join(str(i) for i in range(10)))
    assert node("list.from_csv", path="n.csv", limit=3) == ["0", "1", "2"]
    assert reports.warnings() == ["n.csv has 10 rows; reading the first 3 (raise limit to read more)."]


@pytest.mark.parametrize("content, params, message", [
    (PRODUCTS, {"column": "price"}, "'p.csv' has no column 'price'; its columns are 'sku', 'product', 'surface'"),
    ("a,b\n1\n1,2\n", {"column": "b"}, "'p.csv': row 2 has no column 2."),
    (PRODUCTS, {"column": "7"}, "'p.csv' has 3 columns, so no column 7."),
    ("a,b\n", {}, "'p.csv' has no data rows"),
    (None, {}, "no file at 'p.csv'"),
    (b"\xff\xfe\x00bad", {}, "'p.csv' is not UTF-8 text"),
])
def test_from_csv_errors(node, wf_dir, content, params, message):
    if isinstance(content, bytes):
        (wf_dir / "p.csv").write_bytes(content)
    elif content is not None:
        (wf_dir / "p.csv").write_text(content)
    with pytest.raises(NodeError, match=re.escape(message)):
        node("list.from_csv", path="p.csv", **params)


def test_from_csv_reads_only_inside_allowed_folders(node, tmp_path):
    (tmp_path / "secret.csv").write_text("a\n1\n")
    with pytest.raises(NodeError, match="outside the folders this run may read"):
        node("list.from_csv", path="../secret.csv")


@pytest.mark.parametrize("index, item", [(1, "a"), (3, "c"), (-1, "c"), (-3, "a")])
def test_pick(node, index, item):
    assert node("list.pick", items=["a", "b", "c"], index=index) == item


@pytest.mark.parametrize("items, index, message", [(["a"], 0, "there is no item 0 in a list of 1"),
                                                   (["a", "b"], 3, "Use 1 to 2 from the start"),
                                                   ([], 1, "the list is empty")])
def test_pick_out_of_range(node, items, index, message):
    with pytest.raises(NodeError) as err:
        node("list.pick", items=items, index=index)
    assert message in str(err.value)


def test_count(node):
    assert node("list.count", items=["a", "b"]) == 2 and node("list.count", items=[]) == 0
