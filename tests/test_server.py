"""The JSON API in process: answers equal to the engine's, clear errors, limits and headers."""

import base64

import numpy as np
import pytest
from fastapi.testclient import TestClient

from cocktail_party import analysis
from cocktail_party.server.app import MAX_BODY_BYTES, create_app
from cocktail_party.server.runner import Gate, Models, TraceCache

TEXT = "When Mary met the doctor, she asked him about the tests."


@pytest.fixture(scope="module")
def client(real_model):
    with TestClient(create_app(real_model)) as c:
        yield c


def test_info_describes_the_model_and_examples(client, real_model):
    info = client.get("/api/info").json()
    assert info["model"]["config"]["n_layers"] == real_model.config.n_layers
    assert info["limits"]["max_tokens"] == 256
    assert len(info["examples"]) >= 4
    assert {"text", "answer"} <= set(info["fact_prompts"][0])


def test_attention_equals_the_trace(client, real_model):
    body = client.post("/api/attention", json={"text": TEXT, "layer": 4, "head": 7}).json()
    pattern = real_model.trace(TEXT).attention[4, 7]
    n = pattern.shape[0]
    assert len(body["tokens"]) == n and body["kv_head"] == 7 // 3
    for i in range(n):
        assert len(body["pattern"][i]) == i + 1
        assert np.allclose(body["pattern"][i], pattern[i, : i + 1], atol=1e-5)
    scaled = np.array(body["dot"][n - 1]) / np.sqrt(body["d_head"])
    assert np.allclose(scaled, body["scores"][n - 1], atol=1e-4)


def test_untrained_twin_is_served_and_differs(client):
    req = {"text": TEXT, "layer": 4, "head": 7}
    trained = client.post("/api/attention", json=req).json()
    twin = client.post("/api/attention", json=req | {"model": "untrained"}).json()
    assert twin["trained"] is False and trained["trained"] is True
    assert np.mean(twin["entropy"][1:]) > 0.95 > np.mean(trained["entropy"][1:])


def test_heads_thumbnails_decode_to_the_patterns(client, real_model):
    body = client.post("/api/heads", json={"text": "The cat sat on the mat"}).json()
    size, cfg = body["size"], real_model.config
    levels = np.frombuffer(base64.b64decode(body["thumbnails"]), dtype=np.uint8)
    assert levels.size == cfg.n_layers * cfg.n_heads * size * (size + 1) // 2
    first = levels[: size * (size + 1) // 2] / 255
    pattern = real_model.trace("The cat sat on the mat").attention[0, 0]
    assert np.allclose(first, pattern[np.tril_indices(size)], atol=1 / 255)
    assert len(body["sink"]) == cfg.n_layers and len(body["sink"][0]) == cfg.n_heads


def test_weights_picture_has_the_heads_shape(client, real_model):
    body = client.get("/api/weights", params={"layer": 2, "head": 4}).json()
    d_head, d_model = real_model.config.d_head, real_model.config.d_model
    assert body["matrices"]["W_Q"]["shape"] == [d_head, d_model]
    assert body["matrices"]["W_K"]["parameters"] == d_head * d_model
    pic = body["matrices"]["W_V"]["picture"]
    assert len(base64.b64decode(pic["pixels"])) == pic["rows"] * pic["cols"]
    assert body["heads_sharing_kv"] == [3, 4, 5]


def test_analyses_match_the_library(client, real_model):
    text = "The capital of France is"
    trace = real_model.trace(text)
    lens = client.post("/api/lens", json={"text": text}).json()
    assert lens == analysis.logit_lens(real_model, trace)
    att = client.post("/api/attribution", json={"text": text, "target": " Paris"}).json()
    assert att["total"] == pytest.approx(att["logit"], abs=1e-3)
    ablated = client.post("/api/ablate", json={"text": text, "mlps": [29]}).json()
    assert ablated["target"]["prob_after"] < ablated["target"]["prob_before"]
    top = client.post("/api/predict", json={"text": text, "k": 3}).json()["top"]
    assert top[0]["token"] == " Paris"


@pytest.mark.parametrize(
    "path, body, status, words",
    [
        ("/api/attention", {"text": "", "layer": 0, "head": 0}, 422, "empty"),
        ("/api/attention", {"text": "  \n", "layer": 0, "head": 0}, 422, "whitespace"),
        ("/api/attention", {"text": "hi", "layer": 30, "head": 0}, 422, "layer 30"),
        ("/api/attention", {"text": "hi", "layer": 0, "head": 9}, 422, "head 9"),
        ("/api/attention", {"text": "hi", "layer": -1, "head": 0}, 422, "layer"),
        ("/api/attention", {"text": "hi", "layer": "x", "head": 0}, 422, "layer"),
        ("/api/attention", {"text": 5, "layer": 0, "head": 0}, 422, "text"),
        ("/api/heads", {"text": "word " * 300}, 422, "limit is 256"),
        ("/api/predict", {"text": "hi", "model": "gpt-9"}, 422, "gpt-9"),
        ("/api/predict", {"text": "hi", "path": "/etc/passwd"}, 422, "path"),
        ("/api/lens", {"text": "hi", "target": " Paris London"}, 422, "one token"),
        ("/api/ablate", {"text": "hi", "heads": [[0, 99]]}, 422, "head 99"),
    ],
)
def test_bad_input_gets_a_clear_error(client, path, body, status, words):
    response = client.post(path, json=body)
    assert response.status_code == status
    assert words in response.json()["error"]["message"]
    assert client.get("/api/health").json()["ok"]  # and the server keeps serving


def test_invalid_json_and_oversized_bodies(client):
    response = client.post(
        "/api/heads", content=b"{not json", headers={"content-type": "application/json"}
    )
    assert response.status_code == 422
    big = b'{"text": "' + b"a" * MAX_BODY_BYTES + b'"}'
    response = client.post("/api/heads", content=big, headers={"content-type": "application/json"})
    assert response.status_code == 413
    assert str(MAX_BODY_BYTES) in response.json()["error"]["message"]


def test_html_in_text_comes_back_as_data(client):
    text = "<script>alert(1)</script>"
    body = client.post("/api/heads", json={"text": text}).json()
    assert "".join(t["text"] for t in body["tokens"]) == text


def test_security_headers_on_page_and_api(client):
    for response in (client.get("/"), client.get("/api/info")):
        csp = response.headers["content-security-policy"]
        assert "script-src 'self'" in csp and "unsafe-inline" not in csp
        assert response.headers["x-content-type-options"] == "nosniff"


def test_responses_are_compressed_and_repeatable(client):
    req = {"text": TEXT}
    first = client.post("/api/heads", json=req, headers={"accept-encoding": "gzip"})
    assert first.headers["content-encoding"] == "gzip"
    assert client.post("/api/heads", json=req).content == first.content


def test_openapi_documents_every_api_route(client):
    schema = client.get("/api/openapi.json").json()
    routes = {r.path for r in client.app.routes if getattr(r, "path", "").startswith("/api/")}
    routes.discard("/api/openapi.json")
    assert routes <= set(schema["paths"])


def test_trace_cache_is_bounded_in_entries_and_bytes(real_model):
    cache = TraceCache(max_entries=2)
    for text in ("one", "two", "three"):
        cache.put(("trained", text), real_model.trace(text, names=["logits"]))
    assert cache.stats()["entries"] == 2 and cache.get(("trained", "one")) is None
    tiny = TraceCache(max_bytes=10)
    tiny.put(("trained", "one"), real_model.trace("one", names=["logits"]))
    assert tiny.stats() == {"entries": 0, "bytes": 0}


def test_a_full_queue_answers_503_with_retry_after(real_model):
    models = Models(real_model, gate=Gate(running=1, waiting=0))
    models.gate._admitted = 1  # one run already in flight, no room to wait
    with TestClient(create_app(real_model, models)) as c:
        response = c.post("/api/heads", json={"text": "hi"})
    assert response.status_code == 503
    assert response.headers["retry-after"] == "1"
    assert "busy" in response.json()["error"]["message"]
