"""Hostile input: missing tokens, foreign hosts and origins, oversized or deep bodies, wrong types, path escapes,
image bombs. Each gets a clear 4xx, nothing lands outside a run's folder, and the server keeps serving."""
from __future__ import annotations

import io
import json
import struct
import zlib

import httpx
import pytest
from PIL import Image

from serverkit import events, finish, make_workflow, save_workflow, submit

ROUTES = ["/api/health", "/api/nodes", "/api/runs", "/api/workflows", "/docs", "/openapi.json", "/anything"]


def png_header(width: int, height: int) -> bytes:
    """A PNG that claims to be `width`×`height` but holds (almost) nothing: a decompression bomb's shape."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)) + \
        chunk(b"IDAT", zlib.compress(b"\0" * 64)) + chunk(b"IEND", b"")


def encoded(kind: str) -> bytes:
    data = io.BytesIO()
    Image.new("RGB", (8, 8), "red").save(data, format=kind)
    return data.getvalue()


@pytest.fixture(scope="module")
def shared(tmp_path_factory, photo):
    """A server bound to 127.0.0.2: not 127.0.0.1/localhost/::1, so it treats itself as reachable by others."""
    from serverkit import Server, prepare
    server = prepare(Server(tmp_path_factory.mktemp("shared"), host="127.0.0.2"), photo).start()
    yield server
    server.stop()


@pytest.mark.parametrize("route", ROUTES)
def test_non_loopback_bind_needs_the_token_everywhere(shared, route):
    with shared.client(token=None) as anonymous:
        response = anonymous.get(route)
        assert response.status_code == 401 and response.headers["www-authenticate"] == "Bearer"
        assert "token" in response.json()["detail"]
    with shared.client(token="wrong") as wrong:
        assert wrong.get(route).status_code == 401


def test_generated_token_is_printed_and_accepted(shared):
    token = shared.printed_token()
    assert token and len(token) >= 24
    with shared.client() as client:
        assert client.get("/api/health").status_code == 200
        assert client.get("/api/nodes").status_code == 200


def test_token_in_the_query_becomes_a_cookie(shared):
    with shared.client(token=None) as browser:
        first = browser.get("/docs", params={"token": shared.printed_token()})
        assert first.status_code == 200 and "httponly" in first.headers["set-cookie"].lower()
        assert browser.get("/api/runs").status_code == 200  # the cookie alone now
        browser.cookies.clear()
        assert browser.get("/api/runs").status_code == 401


def test_a_given_token_is_used(start_server):
    server = start_server(host="127.0.0.2", token="s3cret-token-for-tests")
    assert "s3cret-token-for-tests" not in server.log.read_text() and "--token" in server.log.read_text()
    with server.client(token="s3cret-token-for-tests") as client:
        assert client.get("/api/health").status_code == 200
    with server.client(token=None) as client:
        assert client.get("/api/health").status_code == 401


@pytest.mark.parametrize("host, status", [("evil.example", 400), ("evil.example:{port}", 400),
                                          ("127.0.0.1.evil.example", 400), ("localhost:{port}", 200),
                                          ("127.0.0.1:{port}", 200), ("[::1]:{port}", 200)])
def test_loopback_refuses_foreign_host_names(server, client, host, status):
    """DNS rebinding: a page on evil.example resolved to 127.0.0.1 still says Host: evil.example."""
    response = client.get("/api/health", headers={"host": host.format(port=server.port)})
    assert response.status_code == status


@pytest.mark.parametrize("origin, status", [("http://evil.example", 403), ("null", 403),
                                            ("http://localhost:1", 403), ("https://127.0.0.1:{port}", 403),
                                            ("http://127.0.0.1:{port}", 202)])
def test_cross_site_requests_are_refused(server, client, origin, status):
    before = client.get("/api/runs").json()["total"]
    response = client.post("/api/runs", json={"workflow": save_workflow()},
                           headers={"origin": origin.format(port=server.port)})
    assert response.status_code == status
    assert client.get("/api/runs").json()["total"] == before + (status == 202)


def test_an_allowed_origin_may_call(start_server):
    server = start_server(args=("--allow-origin", "https://studio.example"))
    with server.client() as client:
        assert client.get("/api/runs", headers={"origin": "https://studio.example"}).status_code == 200
        assert client.get("/api/runs", headers={"origin": "https://other.example"}).status_code == 403


def test_body_size_limit(client):
    big = {"workflow": save_workflow(), "inputs": {"x": "a" * (3 * 1024 * 1024)}}
    assert client.post("/api/runs", json=big).status_code == 413

    def chunks():  # no Content-Length: counted as it arrives
        yield b'{"inputs": {"x": "'
        for _ in range(40):
            yield b"a" * 100_000
        yield b'"}}'
    response = client.post("/api/runs", content=chunks(), headers={"content-type": "application/json"})
    assert response.status_code == 413


@pytest.mark.parametrize("depth, status", [(20, 422), (33, 400), (5000, 400)])
def test_json_nesting_limit(client, depth, status):
    body = b'{"workflow": ' + b'[' * depth + b']' * depth + b'}'
    response = client.post("/api/runs", content=body, headers={"content-type": "application/json"})
    assert response.status_code == status
    if status == 400:
        assert "deeper" in response.json()["detail"]


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data",
                                          ""])
def test_bodies_must_be_json(client, content_type):
    response = client.post("/api/validate", content=b'{"format": "flowbanana/workflow"}',
                           headers={"content-type": content_type} if content_type else {})
    assert response.status_code == 415


@pytest.mark.parametrize("body", [b"{", b"\xff\xfe", b"[1, 2]", b'"text"', b"null", b'{"workflow": NaN}',
                                  b'{"inputs": {"x": -Infinity}}'])
def test_malformed_json_is_a_4xx(client, body):
    response = client.post("/api/runs", content=body, headers={"content-type": "application/json"})
    assert 400 <= response.status_code < 500


ESCAPES = ["../secret.png", "{root}/secret.png", "link.png", "/etc/passwd", "../../../../../../etc/hostname",
           "~/.bashrc"]


@pytest.mark.parametrize("path", ESCAPES)
def test_reads_outside_the_input_folders_are_refused_up_front(server, client, path):
    before = client.get("/api/runs").json()["total"]
    response = client.post("/api/runs", json={"workflow": save_workflow(path=path.format(root=server.root))})
    assert response.status_code == 422
    [problem] = response.json()["problems"]
    assert problem["code"] == "path" and problem["node"] == "load" and problem["port"] == "path"
    assert client.get("/api/runs").json()["total"] == before


@pytest.mark.parametrize("path", ESCAPES)
def test_a_path_fed_by_a_link_is_refused_when_the_node_runs(server, client, path):
    body = save_workflow()
    body["nodes"]["where"] = {"type": "text.text", "params": {"text": path.format(root=server.root)}}
    body["nodes"]["load"] = {"type": "image.load", "inputs": {"path": "where.text"}}
    record = finish(client, submit(client, body)["id"])
    load = record["nodes"]["load"]
    assert record["status"] == "failed" and load["status"] == "failed"
    assert "outside the folders this run may read" in load["error"]
    assert record["nodes"]["save"]["status"] == "skipped" and record["files"] == []


UNUSABLE = ["photo\0.png", "\0", "~nosuchuser/photo.png", "~nosuchuser", "in\0/../photo.png"]
PATH_PARAMS = [("image.load", "path"), ("image.load_folder", "folder"), ("mask.load", "path"),
               ("mask.paint", "mask"), ("list.from_csv", "path")]


def reading(node_type: str, param: str, value: str) -> dict:
    """A workflow whose node `read` of `node_type` reads `value` through `param`, and shows what it got."""
    return make_workflow({"read": {"type": node_type, "params": {param: value},
                                   **({"inputs": {"image": "picture.image"}} if node_type == "mask.paint" else {})},
                          "show": {"type": "image.preview", "inputs": {"image": "picture.image"}},
                          "picture": {"type": "image.load", "params": {"path": "photo.png"}}},
                         inputs={"source": {"node": "read", "param": param}})


@pytest.mark.parametrize("node_type, param", PATH_PARAMS)
@pytest.mark.parametrize("path", UNUSABLE)
@pytest.mark.parametrize("given_as", ["param", "node.param", "workflow input"])
def test_unusable_paths_are_a_422_naming_the_node(server, client, node_type, param, path, given_as):
    if given_as == "param":
        body = {"workflow": reading(node_type, param, path)}
    else:
        name = "source" if given_as == "workflow input" else f"read.{param}"
        body = {"workflow": reading(node_type, param, "photo.png"), "inputs": {name: path}}
    response = client.post("/api/runs", json=body)
    assert response.status_code == 422, response.text
    [problem] = [p for p in response.json()["problems"] if p["port"] == param]
    assert problem["node"] == "read" and "not a usable path" in problem["message"]


@pytest.mark.parametrize("path", UNUSABLE)
def test_an_unusable_path_fed_by_a_link_fails_its_node(server, client, path):
    body = save_workflow()
    body["nodes"]["where"] = {"type": "text.text", "params": {"text": path}}
    body["nodes"]["load"] = {"type": "image.load", "inputs": {"path": "where.text"}}
    record = finish(client, submit(client, body)["id"])
    assert record["nodes"]["load"]["status"] == "failed" and "not a usable path" in record["nodes"]["load"]["error"]


@pytest.mark.parametrize("filename", ["shot\0.png", "\0/x.png"])
def test_an_unusable_file_name_fails_the_save_node(client, filename):
    record = finish(client, submit(client, save_workflow(filename=filename))["id"])
    assert record["nodes"]["save"]["status"] == "failed" and "NUL" in record["nodes"]["save"]["error"]
    assert record["files"] == []


@pytest.mark.parametrize("filename", ["../escape.png", "../../escape.png", "{root}/escape.png", "sub/../../x.png"])
def test_writes_outside_the_run_folder_are_refused(server, client, filename):
    record = finish(client, submit(client, save_workflow(filename=filename.format(root=server.root)))["id"])
    assert record["nodes"]["save"]["status"] == "failed"
    assert "outside the output folder" in record["nodes"]["save"]["error"]
    assert not list(server.root.rglob("escape.png")) and not list(server.root.rglob("x.png"))


def test_subfolders_inside_the_run_folder_are_fine(client):
    record = finish(client, submit(client, save_workflow(filename="shots/a/{index}.png"))["id"])
    assert [f["name"] for f in record["files"]] == ["shots/a/1.png"]
    assert client.get(record["files"][0]["url"]).status_code == 200


@pytest.mark.parametrize("name", ["..%2Frun.json", "..%2F..%2F..%2Fsecret.png", "%2e%2e/run.json",
                                  "%2Fetc%2Fpasswd", "..%2Fevents.jsonl", "%00", "out_1.png%00",
                                  pytest.param("x" * 5000, id="5000 x")])
def test_downloads_stay_inside_the_run_outputs(client, name):
    run = finish(client, submit(client, save_workflow())["id"])
    response = client.get(f"/api/runs/{run['id']}/files/{name}")
    assert response.status_code == 404


@pytest.mark.parametrize("name", ["..%2Fescape", ".hidden", "a%2Fb", "x" * 200, "%00"])
def test_workflow_names_cannot_escape_the_folder(server, client, name):
    response = client.put(f"/api/workflows/{name}", json=save_workflow())
    assert 400 <= response.status_code < 500
    assert not list(server.root.glob("escape*")) and not list(server.workflows.glob(".*"))


def test_nan_hidden_in_a_workflow_cannot_poison_the_run_list(client):
    body = b'{"workflow": {"format": "flowbanana/workflow", "version": 2, "name": "x", "ui": {"zoom": NaN},' \
           b' "nodes": {"n": {"type": "test.number"}, "s": {"type": "test.show", "inputs": {"value": "n.value"}}}}}'
    response = client.post("/api/runs", content=body, headers={"content-type": "application/json"})
    assert response.status_code == 400 and "NaN" in response.json()["detail"]
    assert client.get("/api/runs").status_code == 200


def test_upload_then_load(client, photo):
    data = io.BytesIO()
    photo.save(data, format="PNG")
    response = client.post("/api/uploads", content=data.getvalue(), headers={"content-type": "image/png"})
    assert response.status_code == 201
    record = finish(client, submit(client, save_workflow(path=response.json()["path"]))["id"])
    assert record["status"] == "done"


@pytest.mark.parametrize("body, content_type, status", [
    (png_header(30000, 30000), "image/png", 413),      # 900 megapixels in a few bytes
    (png_header(64, 64)[:40], "image/png", 400),       # cut short
    (b"\x89PNG\r\n\x1a\n" + b"garbage" * 10, "image/png", 400),
    (b"GIF89a-not-really", "image/gif", 400),
    (b"hello", "text/plain", 415),
    (b"", "image/png", 400),
    (encoded("BMP"), "image/png", 400),                  # a real image, but not a format taken over HTTP
    (encoded("TIFF"), "image/png", 400),
])
def test_hostile_uploads(server, client, body, content_type, status):
    response = client.post("/api/uploads", content=body, headers={"content-type": content_type})
    assert response.status_code == status, response.text
    assert response.json()["detail"]
    assert client.get("/api/health").status_code == 200


def test_an_image_bomb_in_an_input_folder_fails_its_node_only(server, client):
    (server.inputs / "bomb.png").write_bytes(png_header(30000, 30000))
    body = make_workflow({"load": {"type": "image.load", "params": {"path": "bomb.png"}},
                          "save": {"type": "image.save", "inputs": {"image": "load.image"}},
                          "other": {"type": "test.show", "inputs": {"value": "note.text"}},
                          "note": {"type": "text.text", "params": {"text": "still here"}}})
    record = finish(client, submit(client, body)["id"])
    assert record["nodes"]["load"]["status"] == "failed" and "too large" in record["nodes"]["load"]["error"]
    assert record["nodes"]["other"]["status"] == "done"


def test_no_api_key_reaches_a_response_a_record_or_the_log(start_server, fake_gemini):
    """A real Gemini run (against the fake API) with a key in the server's environment, and the key nowhere."""
    server = start_server(env={"GEMINI_API_KEY": fake_gemini.key, "GOOGLE_GEMINI_BASE_URL": fake_gemini.url})
    body = make_workflow({"gen": {"type": "gemini.generate", "params": {"prompt": "a red teapot", "size": "512",
                                                                       "model": "gemini-3.1-flash-image"}},
                          "save": {"type": "image.save", "inputs": {"image": "gen.image"}}})
    with server.client() as client:
        run = submit(client, body, options={"provider": "gemini"})
        texts = [json.dumps(e) for e in events(client, run["id"])]
        record = client.get(f"/api/runs/{run['id']}").json()
        texts += [client.get(route).text for route in ("/api/nodes", "/openapi.json", "/api/runs",
                                                        f"/api/runs/{run['id']}")]
    server.stop()
    assert record["status"] == "done" and len(fake_gemini.calls) == 1  # the key did reach Gemini, and only it
    texts += [p.read_text(errors="replace") for p in server.root.rglob("*") if p.is_file() and p.suffix != ".png"]
    texts += [p.read_bytes().decode("latin-1") for p in server.runs.rglob("*.png")]  # image metadata too
    assert not [t for t in texts if fake_gemini.key in t]


@pytest.mark.parametrize("route", ["/api/health", "/docs", "/api/runs/nonsense"])
def test_responses_cannot_be_framed_or_sniffed(client, route):
    headers = client.get(route).headers
    assert headers["x-frame-options"] == "DENY" and headers["x-content-type-options"] == "nosniff"
    assert headers["referrer-policy"] == "no-referrer"


def test_server_keeps_serving(server):
    with httpx.Client(base_url=server.url) as client:
        assert client.get("/api/health").json()["status"] == "ok"
