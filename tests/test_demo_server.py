"""The demo's HTTP server (xai/demo.py) against hostile and broken clients, on loopback with a
tiny CNN: refused hosts and origins, malformed bodies and lengths, slow clients, decompression
bombs, bursts of connections, bounded job store, SIGTERM, and a seeded fuzz of 200 requests."""
import base64
import json
import os
import random
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from types import SimpleNamespace

import cv2
import numpy as np
import pytest
from image_bombs import png_declaring
from skimage import data

from xai import demo, demo_server, models

from conftest import ROOT
from helpers import gap_net

CLASSES = ["cat", "dog", "fox"]


def _zoo(model, size=32):
    return models.ZooModel("tiny", model, lambda x: np.asarray(x, np.float32) / 255, None,
                           (size, size), None)


@pytest.fixture(scope="module")
def tiny_models():
    tiny = _zoo(gap_net(size=32, classes=3))
    five = _zoo(gap_net(size=32, classes=5))
    return {"tiny": demo.DemoModel("tiny CNN", lambda: tiny, lambda: list(CLASSES), "photos"),
            "five": demo.DemoModel("X-ray CNN with 5 outputs", lambda: five,
                                   lambda: list(demo.XRAY_CLASSES), "xray",
                                   demo.MODELS["xray"].hint)}


@pytest.fixture
def served(monkeypatch, tiny_models):
    for key, model in tiny_models.items():
        monkeypatch.setitem(demo.MODELS, key, model)
    state = demo.Demo()
    server = demo_server.make_server("127.0.0.1", 0, state, timeout=0.5)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield SimpleNamespace(demo=state, server=server, port=server.server_address[1],
                          thread=thread)
    server.shutdown()
    server.server_close()
    state.close()


def exchange(port, data: bytes, timeout=5.0) -> bytes:
    """Send raw bytes, read the answer until the server closes the connection."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        sock.sendall(data)
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)


def parse(response: bytes, head_request=False):
    head, _, body = response.partition(b"\r\n\r\n")
    status_line, *lines = head.decode("latin-1").split("\r\n")
    assert re.fullmatch(r"HTTP/1\.[01] \d{3} .*", status_line), response[:200]
    headers = {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in lines)}
    if body or not head_request:  # a HEAD request is answered without the body
        assert int(headers["content-length"]) == len(body)
    return int(status_line.split()[1]), headers, body


def call(port, method="GET", path="/api/options", body=None, headers=None):
    """One request; (status, decoded JSON)."""
    data = body if isinstance(body, bytes) or body is None else json.dumps(body).encode()
    fields = {"Host": f"127.0.0.1:{port}", **(headers or {})}
    if data is not None:
        fields.setdefault("Content-Length", str(len(data)))
    head = f"{method} {path} HTTP/1.1\r\n" + "".join(
        f"{k}: {v}\r\n" for k, v in fields.items() if v is not None) + "\r\n"
    status, headers_, content = parse(exchange(port, head.encode("latin-1") + (data or b"")))
    assert headers_["content-type"] == "application/json"
    return status, json.loads(content)


def png_url(image=None) -> str:
    image = np.zeros((40, 48, 3), np.uint8) if image is None else image
    return "data:image/png;base64," + base64.b64encode(cv2.imencode(".png", image)[1]).decode()


def png_url_of(data: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(data).decode()


def wait_done(state, job_id, seconds=60):
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        job = state.job(job_id)
        if job is None or job.done:
            return job
        time.sleep(0.02)
    raise AssertionError("the job did not finish")


# ---------------------------------------------------------------------- S1 pixel bombs
def test_a_decompression_bomb_upload_is_refused_at_once(served):
    status, answer = call(served.port, "POST", "/api/explain",
                          {"model": "tiny", "image": png_url_of(png_declaring(8000, 8000))})
    assert status == 400 and "8000 x 8000 = 64,000,000 pixels" in answer["error"]
    assert "MAX_PIXELS" in answer["error"] and not served.demo.jobs


# ---------------------------------------------------------------------- S2 lengths, slow clients
@pytest.mark.parametrize("length,status,message", [
    (None, 411, "needs a Content-Length"),
    ("-1", 400, "Content-Length must be a number of bytes, not '-1'"),
    ("abc", 400, "not 'abc'"),
    ("²", 400, "not '²'"),
    (str(31 * 2**20), 413, "larger than 30 MB"),
    ("9" * 5000, 413, "larger than 30 MB"),
])
def test_a_post_needs_a_valid_content_length_within_the_cap(served, length, status, message):
    head = (f"POST /api/explain HTTP/1.1\r\nHost: 127.0.0.1:{served.port}\r\n"
            + (f"Content-Length: {length}\r\n" if length is not None else "") + "\r\n")
    got, _, body = parse(exchange(served.port, head.encode("latin-1") + b'{"model": "tiny"}', 3))
    assert got == status and message in json.loads(body)["error"]
    assert not served.demo.jobs


def test_slow_clients_are_timed_out(served):
    start = time.monotonic()
    head = f"POST /api/explain HTTP/1.1\r\nHost: 127.0.0.1:{served.port}\r\nContent-Length: 100"
    got, _, body = parse(exchange(served.port, f"{head}\r\n\r\n{{}}".encode(), 3))
    assert got == 408 and "did not arrive in time" in json.loads(body)["error"]
    assert exchange(served.port, head.encode(), 3) == b""  # headers never finished: closed
    assert time.monotonic() - start < 3


# ---------------------------------------------------------------------- S3 host, origin, ids
@pytest.mark.parametrize("host,origin,allowed", [
    ("127.0.0.1:{port}", None, True),
    ("localhost:{port}", "http://localhost:{port}", True),
    ("[::1]:{port}", None, True),
    ("127.0.0.1:{port}", "http://127.0.0.1:{port}", True),
    ("attacker.example:{port}", None, False),  # DNS rebinding
    ("127.0.0.1:1", None, False),
    ("127.0.0.1", None, False),
    (None, None, False),
    ("127.0.0.1:{port}", "http://attacker.example", False),
    ("127.0.0.1:{port}", "null", False),
    ("127.0.0.1:{port}", "http://localhost:{port}", False),
])
def test_only_this_server_and_its_own_page_are_answered(served, host, origin, allowed):
    def fill(text):
        return text if text is None else text.format(port=served.port)

    headers = {"Host": fill(host), "Origin": fill(origin), "Content-Type": "text/plain"}
    status, answer = call(served.port, "POST", "/api/explain",
                          {"model": "tiny", "sample": "chelsea"}, headers)
    assert (status == 200) is allowed, answer
    if not allowed:
        assert status == 403 and answer["error"].startswith(
            ("this demo answers only at http://127.0.0.1:", "requests from other web pages"))
        assert not served.demo.jobs
    status, answer = call(served.port, "GET", "/api/options", headers=headers)
    assert (status == 200) is allowed


def test_job_ids_are_unguessable_and_waiting_jobs_bounded(served, monkeypatch):
    release = threading.Event()
    monkeypatch.setattr(served.demo, "_explain", lambda request, job: release.wait(10) and {})
    ids = []
    for _ in range(served.demo.max_waiting):
        status, answer = call(served.port, "POST", "/api/explain", {"model": "tiny"})
        assert status == 200
        ids.append(answer["job"])
    assert len(set(ids)) == len(ids) and all(re.fullmatch(r"[\w-]{22}", i) for i in ids)
    status, answer = call(served.port, "POST", "/api/explain", {"model": "tiny"})
    assert status == 503 and answer["error"].startswith("the demo is busy: 8 explanations")
    assert call(served.port, path="/api/job/1")[0] == 404
    release.set()
    assert wait_done(served.demo, ids[-1]).done


# ---------------------------------------------------------------------- S4 the job store
def test_the_job_store_stays_bounded(served, monkeypatch):
    state = served.demo
    state.max_finished = 5
    monkeypatch.setattr(state, "_explain", lambda request, job: {"big": "x" * 300_000})
    ids = []
    for _ in range(40):
        status, answer = call(served.port, "POST", "/api/explain", {"model": "tiny"})
        assert status == 200, answer
        ids.append(answer["job"])
        wait_done(state, ids[-1])
        assert len(state.jobs) <= state.max_finished
    assert set(state.jobs) == set(ids[-5:])
    assert call(served.port, path=f"/api/job/{ids[0]}")[0] == 404
    status, answer = call(served.port, path=f"/api/job/{ids[-1]}")
    assert status == 200 and answer["done"] and len(answer["result"]["big"]) == 300_000
    state.keep_seconds = 0.05
    time.sleep(0.1)
    status, answer = call(served.port, path=f"/api/job/{ids[-1]}")
    assert status == 404 and "kept for" in answer["error"] and not state.jobs


# ---------------------------------------------------------------------- bursts of connections
def test_twenty_concurrent_connections_all_get_an_answer():
    state = demo.Demo()
    server = demo_server.make_server("127.0.0.1", 0, state, timeout=5)
    port = server.server_address[1]
    try:  # connect while the server is not accepting yet: the listen queue holds them all
        sockets = [socket.create_connection(("127.0.0.1", port), timeout=0.5)
                   for _ in range(20)]
        for sock in sockets:
            sock.sendall(f"GET /api/options HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\r\n".encode())
        threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
        for sock in sockets:
            sock.settimeout(10)
            chunks = []
            while chunk := sock.recv(65536):
                chunks.append(chunk)
            assert parse(b"".join(chunks))[0] == 200
            sock.close()
    finally:
        server.shutdown()
        server.server_close()
        state.close()


# ---------------------------------------------------------------------- C6 one-line errors
@pytest.mark.parametrize("body,message", [
    ([1, 2], 'the request must be a JSON object such as {"model": "mobilenet", "method": '
             '"gradcam", "sample": "chelsea"}, not a list'),
    ({"image": 123}, "image must be a data URL (data:image/png;base64,...), not a number"),
    ({"method": ["gradcam"]}, "unknown method ['gradcam']; choose one of gradcam, "),
    ({"model": "tiny", "target": "²"},
     "unknown class '²': give a class name (cat, dog, fox) or an index in 0..2"),
    ({"model": "tiny", "target": 7}, "class 7 is outside 0..2"),
    ({"model": "tiny", "target": {"a": 1}}, "target must be a class name or index, not an obj"),
    ({"model": "zz"}, "unknown model 'zz'; choose one of mobilenet, vgg16, "),
    ({"model": "tiny", "sample": "nope"}, "no sample image 'nope' in photos; choose one of "
                                          "chelsea, coffee, astronaut"),
    ({"model": "tiny", "domain": 5}, "unknown domain 5; choose one of photos, xray"),
    ({"model": "tiny", "layer": 3}, "layer must be a layer name or null, not a number"),
    ({"model": "tiny", "image": "data:image/png;base64,@@"}, "image is not a base64 data URL"),
    ({"model": "tiny", "image": png_url_of(b"hello")}, "the uploaded file is not an image"),
    (b'{"model": ', "the request is not JSON"),
    (b"\xff\xfe\xfd", "the request is not JSON"),
    (b"[" * 100_000, "the request is not JSON"),
    (b"9" * 5000, "the request is not JSON"),
])
def test_bad_requests_get_one_line_naming_what_is_valid(served, body, message):
    status, answer = call(served.port, "POST", "/api/explain", body)
    assert status == 400 and answer["error"].startswith(message), answer
    assert "\n" not in answer["error"] and not served.demo.jobs


@pytest.mark.parametrize("path,status,message", [
    ("/api/classes?model=zz", 400, "unknown model 'zz'; choose one of mobilenet"),
    ("/api/layers?model=zz", 400, "unknown model 'zz'; choose one of mobilenet"),
    ("/api/sample/photos/nope", 400, "no sample image 'nope' in photos; choose one of"),
    ("/api/job/" + "5" * 5000, 404, "no such job"),
    ("/api/nothing", 404, "no such page"),
])
def test_bad_queries_get_one_line(served, path, status, message):
    got, answer = call(served.port, path=path)
    assert got == status and answer["error"].startswith(message)


def test_an_explanation_and_a_model_with_the_wrong_number_of_outputs(served):
    status, answer = call(served.port, "POST", "/api/explain",
                          {"model": "tiny", "method": "gradcam", "target": "dog",
                           "image": png_url()})
    assert status == 200
    job = wait_done(served.demo, answer["job"])
    assert job.error is None and job.result["explained"] == "dog"
    assert len(job.result["top5"]) == 3 and job.request is None
    status, answer = call(served.port, "POST", "/api/explain",
                          {"model": "five", "image": png_url()})
    job = wait_done(served.demo, answer["job"])
    assert job.error == ("the five model gives 5 class scores, but the demo knows 2 classes "
                         "(NORMAL, PNEUMONIA); set XAI_XRAY_MODEL to a binary Keras X-ray "
                         "classifier (one sigmoid unit, or two outputs: NORMAL, PNEUMONIA) "
                         "whose input is RGB / 255")


# ---------------------------------------------------------------------- the fuzz
def _fuzz_request(rng: random.Random, port: int) -> tuple[bytes, bool]:
    """One random request; whether the server must answer it (headers complete)."""
    host = rng.choice([f"127.0.0.1:{port}"] * 14 + [f"localhost:{port}", "evil.example", "",
                                                   f"127.0.0.1:{port + 1}", "\x00\xff"])
    method = rng.choice(["GET"] * 5 + ["POST"] * 12 + ["PUT", "DELETE", "HEAD", "OPTIONS",
                                                       "PATCH", "BREW", "get"])
    path = rng.choice(["/", "/index.html", "/api/options", "/api/layers?model=tiny",
                       "/api/layers?model=zz", "/api/classes?model=tiny", "/api/classes",
                       "/api/sample/photos/chelsea", "/api/sample/x/y", "/api/sample",
                       "/api/job/" + "7" * rng.randint(1, 6000), "/api/job/abc/def",
                       "/api/explain", "/api/explain?x=1", "/../../etc/passwd", "/%00%ff",
                       "//api//explain", "/api/explain#frag", "*", "/" + "a" * 70000])
    if method == "POST" and rng.random() < 0.8:
        path = "/api/explain"
    images = [png_url(), png_url_of(png_declaring(9000, 9000)), png_url_of(b"GIF89a"),
              "data:,", "!!!", 5, None, ["x"], "data:image/png;base64," + "A" * 1001]
    fields = {"model": ["tiny", "five", "zz", 1, None, ["tiny"]],
              "method": ["gradcam", "saliency", "nope", 0, {}, None],
              "target": ["cat", "", "top-1", "9", 2, -1, 1.5, True, "²", None, [1]],
              "layer": ["conv_a", "conv9", 7, None, ""],
              "domain": ["photos", "xray", "none", 3],
              "sample": ["chelsea", "nope", None, {}],
              "image": images}
    kind = rng.random()
    if kind < 0.3:  # a valid explanation
        body = json.dumps({"model": "tiny", "method": rng.choice(["gradcam", "saliency"]),
                           "target": rng.choice(["", "fox", 1]),
                           **rng.choice([{"image": png_url()}, {"sample": "coffee"}])}).encode()
    elif kind < 0.6:
        body = json.dumps({k: rng.choice(v) for k, v in fields.items() if rng.random() < 0.6})
        body = body.encode()
    elif kind < 0.7:
        body = rng.choice([b"[]", b"null", b"1e999", b'"x"', b"{", b"\xff\xfe", b"[" * 5000,
                           b'{"model": "tiny", "model": 2}', b"{}" * 3, b"\x00" * 50])
    elif kind < 0.8:
        body = bytes(rng.getrandbits(8) for _ in range(rng.randint(0, 300)))
    else:
        body = b""
    length = rng.choice([str(len(body))] * 18 + [None, "-1", "abc", " 5 ", "1e3", "0x10",
                                                str(len(body) + 3), str(40 * 2**20), "²"])
    headers = [f"Host: {host}"] if host else []
    if length is not None:
        headers.append(f"Content-Length: {length}")
    for _ in range(rng.choice([0, 0, 0, 1, 2])):
        headers.append(rng.choice(["Origin: http://evil.example", f"Origin: http://{host}",
                                   "Origin: null", "Transfer-Encoding: chunked",
                                   "X-Long: " + "y" * 70000, "Content-Type: text/plain",
                                   "Expect: 100-continue", "Connection: keep-alive",
                                   "bad header line", "X-Bin: \x80\x81"]))
    if rng.random() < 0.03:
        headers += [f"X-{i}: {i}" for i in range(120)]  # too many headers
    version = rng.choice(["HTTP/1.1"] * 8 + ["HTTP/1.0", "HTTP/2.0", "HTTP/x", ""])
    line = f"{method} {path} {version}".strip()
    complete = rng.random() > 0.02
    data = (line + "\r\n" + "".join(h + "\r\n" for h in headers)
            + ("\r\n" if complete else "")).encode("latin-1", "replace")
    return data + (body if complete else b""), complete


ANSWERS = {200, 400, 403, 404, 408, 411, 413, 414, 431, 501, 503, 505}


def test_fuzz_every_answer_is_json_and_the_server_stays_up(served, monkeypatch):
    tiny, five = demo.MODELS["tiny"], demo.MODELS["five"]  # no real model is ever loaded
    monkeypatch.setattr(demo, "MODELS", {"mobilenet": tiny, "tiny": tiny, "xray": five})
    rng = random.Random(20261201)
    state, port = served.demo, served.port
    seen = set()
    for _ in range(200):
        data, complete = _fuzz_request(rng, port)
        response = exchange(port, data, timeout=10)
        if not response:
            assert not complete, data[:300]  # only a request whose headers never end
            continue
        if not response.startswith(b"HTTP/"):  # an HTTP/0.9 request: the body alone
            json.loads(response)
            continue
        status, headers, body = parse(response, head_request=data.startswith(b"HEAD "))
        seen.add(status)
        assert status in ANSWERS, (status, data[:300], body[:300])
        if not body and data.startswith(b"HEAD "):
            continue
        if headers["content-type"].startswith("text/html"):
            assert status == 200 and b"<title>xai demo" in body
        else:
            assert headers["content-type"] == "application/json"
            answer = json.loads(body)
            if status != 200:
                assert isinstance(answer["error"], str) and "\n" not in answer["error"]
                assert "Traceback" not in answer["error"] and len(answer["error"]) < 600
        assert len(state.jobs) <= state.max_waiting + state.max_finished
    assert served.thread.is_alive() and call(port)[0] == 200
    assert {200, 400, 403, 404, 413} <= seen, seen
    for job_id in list(state.jobs):
        wait_done(state, job_id)
    assert len(state.jobs) <= state.max_finished
    assert any(job.result for job in state.jobs.values())  # some explanations ran


# ---------------------------------------------------------------------- SIGTERM
def test_sigterm_shuts_down_cleanly_and_tensorflow_leaves_no_temporary_files(tmp_path):
    keras_file = tmp_path / "xray.keras"
    gap_net(size=32, classes=2).save(keras_file)
    temp = tmp_path / "tmp"
    temp.mkdir()
    env = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}
    env.update(TMPDIR=str(temp), XAI_XRAY_MODEL=str(keras_file), TQDM_DISABLE="1")
    proc = subprocess.Popen([sys.executable, "-m", "xai", "demo", "--port", "0"], cwd=ROOT,
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = proc.stdout.readline()
        port = int(re.search(r"http://127\.0\.0\.1:(\d+)/", line)[1])
        # SmoothGrad's noisy copies are traced at once (one image would run eagerly)
        status, answer = call(port, "POST", "/api/explain",
                              {"model": "xray", "method": "smoothgrad", "image": png_url()})
        assert status == 200, answer
        for _ in range(600):
            status, state = call(port, path=f"/api/job/{answer['job']}")
            if state["done"]:
                break
            time.sleep(0.1)
        assert state["error"] is None and state["result"]["explained"] in demo.XRAY_CLASSES
        assert list(temp.glob("__autograph_generated_file*.py"))  # TensorFlow made some
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(30) == 0
    finally:
        proc.kill()
        proc.wait()
    assert not list(temp.glob("__autograph_generated_file*.py"))
    assert proc.stderr.read() == ""  # no TensorFlow start-up lines, no traceback


def test_attribution_maps_are_stretched_and_distinct(monkeypatch, tiny_models):
    """Guided backprop and guided Grad-CAM peak far below 1: their maps are shown through
    xai.viz.display_map, so they use the colour range and differ from each other."""
    monkeypatch.setitem(demo.MODELS, "tiny", tiny_models["tiny"])
    state = demo.Demo()
    try:
        maps = {}
        for method in ("guided_backprop", "guided_gradcam"):
            request = state.check({"model": "tiny", "method": method,
                                   "image": png_url(data.chelsea()[::10, ::10, ::-1])})
            maps[method] = state._explain(request, demo.Job(request))["map"]
    finally:
        state.close()
    decoded = {m: cv2.imdecode(np.frombuffer(base64.b64decode(url.split(",")[1]), np.uint8),
                               cv2.IMREAD_COLOR) for m, url in maps.items()}
    assert not np.array_equal(*decoded.values())
    for image in decoded.values():  # jet from dark blue (0) to dark red (1)
        assert image[..., 2].max() >= 128 and image[..., 0].max() >= 128
