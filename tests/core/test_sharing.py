"""Provenance inside images, and bundles: round trips, and hostile bundles refused without writing outside."""
import json
import shutil
import struct
import zipfile
import zlib
from pathlib import Path

import pytest
from PIL import Image

from flowbanana import provenance
from flowbanana.bundle import Limits, export_bundle, open_bundle
from flowbanana.errors import WorkflowInvalid
from flowbanana.sources import open_workflow
from flowbanana.workflow import load

WORKFLOW = {"format": "flowbanana/workflow", "version": 2, "name": "Share me ü", "nodes": {"a": {"type": "text.text"}}}
FAKE_KEY = "AIzaSy" + "A" * 33


@pytest.mark.parametrize("image_format, suffix", [("PNG", "png"), ("JPEG", "jpg"), ("WEBP", "webp")])
def test_workflow_and_record_round_trip_in_each_format(tmp_path, image_format, suffix):
    record = provenance.run_record("save", [{"node": "gen", "type": "gemini.generate", "meta": {
        "provider": "offline-preview", "model": "gemini-2.5-flash-image", "seed": 7, "usage": {"total": 10},
        "api_key": FAKE_KEY, "prompt": f"a cat {FAKE_KEY}"}}])
    path = tmp_path / f"out.{suffix}"
    Image.new("RGB", (32, 16), "teal").save(path, format=image_format,
                                            **provenance.save_options(image_format, WORKFLOW, record))
    workflow, read_record = provenance.read(path)
    assert workflow == WORKFLOW and read_record == record
    step = read_record["steps"][0]
    assert step["seed"] == 7 and step["provider"] == "offline-preview" and "api_key" not in step
    assert FAKE_KEY not in path.read_bytes().decode("latin-1") and "[redacted]" in step["prompt"]
    assert open_workflow(path).name == "Share me ü"


def test_a_workflow_too_big_for_jpeg_metadata_is_left_out_and_said_so(tmp_path):
    big = {**WORKFLOW, "description": "x" * 70_000}
    path = tmp_path / "big.jpg"
    Image.new("RGB", (8, 8)).save(path, format="JPEG", **provenance.save_options("JPEG", big, {"node": "s"}))
    workflow, record = provenance.read(path)
    assert workflow is None and "save as PNG" in record["workflow_omitted"]


@pytest.mark.parametrize("image_format, suffix", [("PNG", "png"), ("JPEG", "jpg")])
def test_the_key_in_the_environment_never_reaches_metadata_whatever_its_shape(tmp_path, monkeypatch, image_format,
                                                                            suffix):
    monkeypatch.setenv("GEMINI_API_KEY", "zebra-proxy-token-7781")  # no AIza shape: only the key itself can catch it
    pasted = {**WORKFLOW, "description": "made with zebra-proxy-token-7781"}
    path = tmp_path / f"out.{suffix}"
    record = provenance.run_record("s", [], prompt="zebra-proxy-token-7781")
    options = provenance.save_options(image_format, pasted, record)
    Image.new("RGB", (8, 8)).save(path, format=image_format, **options)
    workflow, record = provenance.read(path)
    assert "zebra" not in json.dumps([workflow, record]) and "[redacted]" in workflow["description"]


def test_a_png_record_is_read_without_decoding_its_pixels_and_one_after_the_pixels_is_found_too(tmp_path):
    record = provenance.run_record("save", [])
    path = tmp_path / "cut.png"
    Image.new("RGB", (64, 64), "teal").save(path, **provenance.save_options("PNG", WORKFLOW, record))
    data = path.read_bytes()
    path.write_bytes(data[:data.index(b"IDAT") + 8])  # the pixels cut off: decoding them would fail
    assert provenance.read(path) == (WORKFLOW, record)  # a re-run checks each file it wrote this way

    plain = tmp_path / "plain.png"
    Image.new("RGB", (8, 8)).save(plain)
    body = provenance.PNG_RUN.encode() + b"\0\0\0\0\0" + json.dumps(record).encode()  # iTXt: uncompressed
    late = struct.pack(">I", len(body)) + b"iTXt" + body + struct.pack(">I", zlib.crc32(b"iTXt" + body))
    data = plain.read_bytes()
    after = tmp_path / "after.png"
    after.write_bytes(data[:data.index(b"IEND") - 4] + late + data[data.index(b"IEND") - 4:])  # after the pixels
    assert provenance.read(after) == (None, record)


def test_an_image_without_a_workflow_says_so(tmp_path):
    path = tmp_path / "plain.png"
    Image.new("RGB", (4, 4)).save(path)
    with pytest.raises(WorkflowInvalid, match="holds no flowbanana workflow"):
        open_workflow(path)


@pytest.fixture
def shared_workflow(tmp_path):
    """A workflow reading a file beside it and one from elsewhere on disk."""
    home = tmp_path / "home"
    (home / "data").mkdir(parents=True)
    (home / "data" / "near.txt").write_text("near")
    (tmp_path / "far.txt").write_text("far")
    doc = {"format": "flowbanana/workflow", "version": 2, "name": "bundle me", "nodes": {
        "near": {"type": "test.read", "params": {"path": "data/near.txt"}},
        "far": {"type": "test.read", "params": {"path": str(tmp_path / "far.txt")}}}}
    (home / "wf.json").write_text(json.dumps(doc))
    return load(home / "wf.json")


def test_a_bundle_runs_elsewhere_reading_only_its_own_files(shared_workflow, catalogue, tmp_path, run):
    zip_path = export_bundle(shared_workflow, catalogue, tmp_path / "share.zip", (tmp_path,))
    (tmp_path / "far.txt").unlink()                  # the sender's files are gone on the other machine
    opened = open_bundle(zip_path, tmp_path / "elsewhere")
    assert opened.nodes["near"].params["path"] == "data/near.txt"
    assert opened.nodes["far"].params["path"] == "files/far/far.txt"
    assert opened.requires["testing"] == ">=1.0" and opened.base_dir == tmp_path / "elsewhere"
    result, _ = run(opened)
    assert result.output("near") == "near" and result.output("far") == "far"


def test_a_bundle_with_missing_pack_names_it(shared_workflow, catalogue, tmp_path, make_workflow):
    from flowbanana.catalogue import load_catalogue
    from flowbanana.validation import validate
    opened = open_bundle(export_bundle(shared_workflow, catalogue, tmp_path / "s.zip", (tmp_path,)), tmp_path / "x")
    problems = validate(opened, load_catalogue())     # a machine without the testing pack
    assert any(p.code == "pack_missing" and "pip install 'testing>=1.0'" in p.hint for p in problems)


def hostile_zip(path, members: dict, manifest=True, symlink: str | None = None):
    """A bundle with `members` (name: bytes, or a ZipInfo-shaping dict) beside a good manifest and workflow,
    unless `members` replaces them."""
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        if manifest:
            members = {"manifest.json": json.dumps({"format": "flowbanana/bundle", "version": 1}).encode(),
                       "workflow.json": json.dumps(WORKFLOW).encode(), **members}
        for name, data in members.items():
            if isinstance(data, dict):  # {"data": bytes, "flag_bits": 1, ...}: header fields set by hand
                info = zipfile.ZipInfo(name)
                for field, value in data.items():
                    if field != "data":
                        setattr(info, field, value)
                archive.writestr(info, data["data"])
            else:
                archive.writestr(name, data)
        if symlink:
            info = zipfile.ZipInfo(symlink)
            info.external_attr = (0o120777 << 16)
            archive.writestr(info, "/etc/passwd")
    return path


def huge_png_header(width: int, height: int) -> bytes:
    """A tiny file whose header claims a gigantic picture."""
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)) + \
        chunk(b"IDAT", zlib.compress(b"\x00" * 64)) + chunk(b"IEND", b"")


def deep(levels: int) -> bytes:
    return b"[" * levels + b"]" * levels


HOSTILE_BUNDLES = [
    ({"../evil.txt": b"x"}, None, "points outside the bundle"),
    ({"/etc/evil.txt": b"x"}, None, "points outside the bundle"),
    ({"files/a/../../evil.txt": b"x"}, None, "points outside the bundle"),
    ({}, "files/link", "links are refused"),
    ({"files/zeros.bin": b"\0" * (8 << 20)}, None, "possible zip bomb"),
    ({"files/bomb.png": huge_png_header(50_000, 50_000)}, None, "decompression bomb"),
    ({"manifest.json": b"{not json"}, None, "manifest.json is not readable JSON"),
    ({"manifest.json": b"[1, 2]"}, None, "not a flowbanana bundle manifest"),
    ({"manifest.json": b'"flowbanana/bundle"'}, None, "not a flowbanana bundle manifest"),
    ({"manifest.json": json.dumps({"format": "flowbanana/bundle", "requires": ["text"]}).encode()}, None,
     '"requires" must map pack names'),
    ({"manifest.json": deep(100_000)}, None, "more than 100 levels deep"),
    ({"workflow.json": deep(100_000)}, None, "more than 100 levels deep"),
    ({"workflow.json": b"[]"}, None, "must hold a JSON object"),
    ({"workflow.json": b"\xff\xfe not text"}, None, "not UTF-8"),
    ({"files/a.png": b"file", "files/a.png/b.png": b"inside"}, None, "both as a file and as a folder"),
    ({"files/a.png": b"one", "files//a.png": b"two"}, None, "more than once"),
    ({"files/" + "n" * 300 + ".png": b"x"}, None, "255 bytes per folder or file"),
    ({"files/" + ("x" * 200 + "/") * 6 + "x.png": b"x"}, None, "names have at most 1024 characters"),
    ({"d/" * 2_000 + "f.txt": b"x"}, None, "2,001 folders deep"),
]


@pytest.mark.parametrize("members, symlink, words", HOSTILE_BUNDLES, ids=[w for _, _, w in HOSTILE_BUNDLES])
def test_hostile_bundles_are_refused_and_leave_nothing_on_disk(tmp_path, members, symlink, words):
    zip_path = hostile_zip(tmp_path / "evil.zip", members, symlink=symlink)
    into = tmp_path / "sandbox" / "bundle"
    with pytest.raises(WorkflowInvalid, match=words):
        open_bundle(zip_path, into)
    assert {p for p in tmp_path.rglob("*") if p.is_file()} == {zip_path}  # no partial extraction, anywhere


def patch_headers(path: Path, member: str, local: int, central: int, value: bytes) -> Path:
    """Overwrite a field of `member`'s local header and central directory entry (offsets from each one's
    start), as a hand-made or tampered archive would have it."""
    data = bytearray(path.read_bytes())
    with zipfile.ZipFile(path) as archive:
        start = archive.getinfo(member).header_offset
    data[start + local:start + local + len(value)] = value
    entry = data.find(b"PK\x01\x02")
    while data[entry + 46:entry + 46 + struct.unpack("<H", data[entry + 28:entry + 30])[0]] != member.encode():
        entry = data.find(b"PK\x01\x02", entry + 4)
    data[entry + central:entry + central + len(value)] = value
    path.write_bytes(bytes(data))
    return path


@pytest.mark.parametrize("local, central, value, words", [
    (6, 8, struct.pack("<H", 0x1), "is encrypted; flowbanana bundles never are"),   # general purpose flag bit 0
    (8, 10, struct.pack("<H", 99), "compressed with method 99"),                   # compression method
])
def test_encrypted_or_strangely_compressed_members_are_refused(tmp_path, local, central, value, words):
    zip_path = hostile_zip(tmp_path / "odd.zip", {"files/a.txt": {"data": b"abc", "compress_type": 0}})
    patch_headers(zip_path, "files/a.txt", local, central, value)
    with pytest.raises(WorkflowInvalid, match=words):
        open_bundle(zip_path, tmp_path / "sandbox" / "bundle")
    assert {p for p in tmp_path.rglob("*") if p.is_file()} == {zip_path}


def test_a_bad_crc_is_refused_after_some_files_were_written_and_they_are_removed(tmp_path):
    zip_path = hostile_zip(tmp_path / "crc.zip", {"files/a.txt": {"data": b"first file", "compress_type": 0},
                                                  "files/b.txt": {"data": b"second file", "compress_type": 0}})
    data = bytearray(zip_path.read_bytes())
    data[data.index(b"second file")] = ord("X")  # stored: the data is there as is; the CRC no longer matches
    zip_path.write_bytes(bytes(data))
    into = tmp_path / "sandbox" / "bundle"
    with pytest.raises(WorkflowInvalid, match="'files/b.txt' is damaged .*CRC"):
        open_bundle(zip_path, into)
    assert {p for p in tmp_path.rglob("*") if p.is_file()} == {zip_path}


def test_totals_are_checked_before_extracting(tmp_path):
    """1,200 × 1 MiB in a small zip (the bomb that once left 1 GB in the cache), at a hundredth of the scale:
    refused from the directory alone, before one byte is written."""
    zip_path = hostile_zip(tmp_path / "many.zip", {f"files/{i}.bin": b"\0" * (1 << 20) for i in range(12)})
    with pytest.raises(WorkflowInvalid, match="would unpack to 12 MB; at most 10 MB"):
        open_bundle(zip_path, tmp_path / "sandbox" / "bundle", Limits(max_total_bytes=10 << 20))
    assert not (tmp_path / "sandbox").exists()


def test_total_size_is_bounded(tmp_path):
    zip_path = hostile_zip(tmp_path / "big.zip", {"files/a.bin": bytes(range(256)) * 4096})
    with pytest.raises(WorkflowInvalid, match="would unpack to 1 MB; at most 98 KB"):
        open_bundle(zip_path, tmp_path / "sandbox" / "into", Limits(max_total_bytes=100_000))
    assert {p for p in tmp_path.rglob("*") if p.is_file()} == {zip_path}


def test_not_a_bundle(tmp_path):
    with pytest.raises(WorkflowInvalid, match="not a zip file"):
        open_bundle(tmp_path / "x.zip" if (tmp_path / "x.zip").write_text("nope") else None, tmp_path / "i")
    with pytest.raises(WorkflowInvalid, match="not a flowbanana bundle"):
        open_bundle(hostile_zip(tmp_path / "y.zip", {"a.txt": b"a"}, manifest=False), tmp_path / "j")


def test_saved_images_carry_their_workflow_and_run_again(tmp_path, monkeypatch):
    """image.save embeds the workflow and record; inspect prints it; run IMAGE runs it again."""
    import subprocess
    import sys
    import flowbanana
    monkeypatch.setenv("GEMINI_API_KEY", FAKE_KEY)   # present, but never written anywhere
    doc = {"format": "flowbanana/workflow", "version": 2, "name": "Provenance", "nodes": {
        "p": {"type": "text.text", "params": {"text": "a kite"}},
        "g": {"type": "gemini.generate", "params": {"seed": 5}, "inputs": {"prompt": "p.text"}},
        "s": {"type": "image.save", "params": {"filename": "kite.png"}, "inputs": {"image": "g.image"}}}}
    (tmp_path / "wf.json").write_text(json.dumps(doc))
    result = flowbanana.run(tmp_path / "wf.json", out_dir=tmp_path / "out", use_cache=False, provider="offline")
    (image,) = result.files
    workflow, record = provenance.read(image)
    assert workflow["nodes"]["g"]["params"]["seed"] == 5 and record["node"] == "s"
    assert [(s["node"], s["seed"], s["provider"]) for s in record["steps"]] == [("g", 5, "offline preview")]
    assert FAKE_KEY not in image.read_bytes().decode("latin-1")
    env = {k: v for k, v in __import__("os").environ.items() if k != "GEMINI_API_KEY"}
    shown = subprocess.run([sys.executable, "-m", "flowbanana", "inspect", str(image)], capture_output=True,
                           text=True, env=env, timeout=60)
    assert "step g (gemini.generate)" in shown.stdout and "seed 5" in shown.stdout
    again = subprocess.run([sys.executable, "-m", "flowbanana", "run", str(image), "--no-cache", "--out",
                            str(tmp_path / "again")], capture_output=True, text=True, env=env, timeout=60)
    assert again.returncode == 0, again.stderr
    assert (tmp_path / "again" / "kite.png").exists()


def test_bundling_a_bundle_onto_itself_is_refused(shared_workflow, catalogue, tmp_path):
    import subprocess
    import sys
    zip_path = export_bundle(shared_workflow, catalogue, tmp_path / "share.zip", (tmp_path,))
    before = zip_path.read_bytes()
    done = subprocess.run([sys.executable, "-m", "flowbanana", "bundle", str(zip_path), "--nodes-dir",
                           str(Path(__file__).parents[1] / "packs")], capture_output=True, text=True, timeout=60)
    assert done.returncode == 2 and "would destroy it" in done.stderr
    assert zip_path.read_bytes() == before and not list(tmp_path.glob("*.tmp"))


@pytest.fixture
def library_workflow(tmp_path):
    """A workflow using a subgraph from a library folder beside it; the subgraph reads a file of its own."""
    lib = tmp_path / "lib"
    (lib / "data").mkdir(parents=True)
    (lib / "data" / "note.txt").write_text("from the library")
    (lib / "reader.json").write_text(json.dumps({
        "format": "flowbanana/workflow", "version": 2, "name": "Reader",
        "nodes": {"r": {"type": "test.read", "params": {"path": "data/note.txt"}}},
        "outputs": {"text": {"node": "r", "output": "text"}}}))
    home = tmp_path / "home"
    home.mkdir()
    (home / "wf.json").write_text(json.dumps({
        "format": "flowbanana/workflow", "version": 2, "name": "uses a library",
        "nodes": {"s": {"type": "workflow", "workflow": "../lib/reader.json"},
                  "show": {"type": "test.show", "inputs": {"value": "s.text"}}}}))
    return load(home / "wf.json"), lib


def test_a_bundle_carries_its_subgraphs_and_their_files(library_workflow, catalogue, tmp_path, run):
    workflow, lib = library_workflow
    zip_path = export_bundle(workflow, catalogue, tmp_path / "share.zip", (lib,))
    with zipfile.ZipFile(zip_path) as archive:
        bundled = json.loads(archive.read("workflow.json"))
        assert "files/s/r/note.txt" in archive.namelist()
    assert bundled["nodes"]["s"]["workflow"]["name"] == "Reader"           # embedded: no file to look for
    assert bundled["nodes"]["s"]["workflow"]["nodes"]["r"]["params"]["path"] == "files/s/r/note.txt"
    shutil.rmtree(lib)                                                      # the library is not on the other machine
    result, _ = run(open_bundle(zip_path, tmp_path / "elsewhere"))
    assert result.output("show") == "from the library"


def test_an_image_carries_the_subgraphs_of_the_workflow_that_made_it(catalogue, tmp_path, run):
    (tmp_path / "frame.json").write_text(json.dumps({
        "format": "flowbanana/workflow", "version": 2, "name": "Frame",
        "inputs": {"size": {"node": "pad", "param": "border"}},
        "outputs": {"image": {"node": "pad", "output": "image"}},
        "nodes": {"shape": {"type": "mask.shape", "inputs": {"image": "blank.image"}},
                  "blank": {"type": "image.load", "params": {"path": "blank.png"}},
                  "pad": {"type": "image.pad", "params": {"mode": "border", "border": 4},
                          "inputs": {"image": "shape.mask"}}}}))
    Image.new("RGB", (8, 8), "white").save(tmp_path / "blank.png")
    (tmp_path / "wf.json").write_text(json.dumps({
        "format": "flowbanana/workflow", "version": 2, "name": "framed",
        "nodes": {"f": {"type": "workflow", "workflow": "frame.json", "params": {"size": 2}},
                  "save": {"type": "image.save", "params": {"filename": "framed.png"}, "inputs": {"image": "f.image"}}}}))
    result, _ = run(load(tmp_path / "wf.json"), out_dir=tmp_path / "out")
    saved = result.files[0]
    embedded, _ = provenance.read(saved)
    assert embedded["nodes"]["f"]["workflow"]["name"] == "Frame" and embedded["nodes"]["f"]["params"] == {"size": 2}
    (tmp_path / "frame.json").unlink()                                      # the image alone is enough
    shutil.copy(tmp_path / "blank.png", tmp_path / "out" / "blank.png")     # its inputs are looked for beside it
    again, _ = run(open_workflow(saved), out_dir=tmp_path / "again")
    assert again.ok and Image.open(again.files[0]).size == (12, 12)
