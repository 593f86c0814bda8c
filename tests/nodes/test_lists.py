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
    assert node("list.from_csv", path="products.csv", column=column)["items"] == expected


def test_from_csv_rows_keep_every_column_of_a_row_together(node, wf_dir):
    (wf_dir / "products.csv").write_text(PRODUCTS, encoding="utf-8")
    rows = node("list.from_csv", path="products.csv")["rows"]
    assert rows == [{"sku": "1", "product": "red sneakers", "surface": "marble"},
                    {"sku": "2", "product": "steel watch", "surface": "oak"},
                    {"sku": "3", "product": "wool scarf", "surface": ""}]
    assert [node("list.field", row=row, column="product") for row in rows] == \
        node("list.from_csv", path="products.csv", column="product")["items"]
    assert node("list.field", row=rows[0], column="3") == "marble" and node("list.field", row=rows[0]) == "1"


def test_from_csv_rows_without_header_are_keyed_by_column_number(node, wf_dir):
    (wf_dir / "p.csv").write_text("a,b\nc,d,e\n")
    assert node("list.from_csv", path="p.csv", header=False)["rows"] == [{"1": "a", "2": "b", "3": ""},
                                                                         {"1": "c", "2": "d", "3": "e"}]


@pytest.mark.parametrize("row, column, message", [
    ({"sku": "1"}, "price", "the row has no column 'price'; its columns are 'sku'."),
    ({"sku": "1"}, "2", "the row has no column '2'"),
    ("text", "", "expected a table row, got str"),
])
def test_field_says_which_columns_a_row_has(node, row, column, message):
    with pytest.raises(NodeError, match=re.escape(message)):
        node("list.field", row=row, column=column)


def test_from_csv_without_header_bom_and_quotes(node, wf_dir):
    (wf_dir / "p.csv").write_bytes('\ufeff"a, with comma",x\nb,y\n'.encode("utf-8"))
    assert node("list.from_csv", path="p.csv", header=False, delimiter="comma")["items"] == ["a, with comma", "b"]
    assert node("list.from_csv", path="p.csv", header=False, column="2")["items"] == ["x", "y"]


def test_from_csv_reads_every_row_unless_limited_and_says_what_it_left_out(node, wf_dir, reports):
    (wf_dir / "n.csv").write_text("n\n" + "\n".join(str(i) for i in range(2500)))
    assert len(node("list.from_csv", path="n.csv")["items"]) == 2500 and reports.warnings() == []
    out = node("list.from_csv", path="n.csv", limit=3)
    assert out["items"] == ["0", "1", "2"] and len(out["rows"]) == 3
    assert reports.warnings() == ["n.csv has 2500 rows; read the first 3, left out 2497 (raise limit, or set it to "
                                  "0 to read every row)."]


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
