"""Hostile and odd input to the API: each case gets a clear 4xx error or a correct answer, and
the server keeps serving after every one."""

import json

import pytest
from fastapi.testclient import TestClient

from cocktail_party.server.app import MAX_BODY_BYTES, create_app


@pytest.fixture(scope="module")
def client(real_model):
    with TestClient(create_app(real_model)) as c:
        yield c


def text_of_tokens(model, n: int) -> str:
    text = "the" + " the" * (n - 1)
    assert len(model.tokenizer.encode(text, add_special_tokens=False).ids) == n
    return text


def post_raw(client, path: str, raw: bytes):
    return client.post(path, content=raw, headers={"content-type": "application/json"})


@pytest.fixture(autouse=True)
def still_serving(client):
    yield
    assert client.get("/api/health").json()["ok"]


REFUSED = [
    ("empty", {"text": ""}, 422, "empty"),
    ("whitespace only", {"text": " \t\n\u3000 "}, 422, "only whitespace"),
    ("10,000 characters", {"text": "word " * 2000}, 422, "the limit is 256"),
    ("over 20,000 characters", {"text": "a" * 20_001}, 422, "the limit is 20000"),
    ("wrong type", {"text": ["a", "list"]}, 422, "text"),
    ("missing field", {"model": "trained"}, 422, "text: Field required"),
    ("extra field", {"text": "hi", "file": "/etc/passwd"}, 422, "file"),
    ("unknown model", {"text": "hi", "model": "../../model.gguf"}, 422, "'trained' or 'untrained'"),
]


@pytest.mark.parametrize("case, body, status, words", REFUSED, ids=[c[0] for c in REFUSED])
def test_refused_with_a_message_that_says_why(client, case, body, status, words):
    response = client.post("/api/heads", json=body)
    assert response.status_code == status
    assert words in response.json()["error"]["message"]


def test_exactly_the_token_limit_and_one_over(client, real_model):
    limit = real_model.max_tokens
    ok = client.post("/api/predict", json={"text": text_of_tokens(real_model, limit)})
    assert ok.status_code == 200 and len(ok.json()["tokens"]) == limit
    over = client.post("/api/predict", json={"text": text_of_tokens(real_model, limit + 1)})
    assert over.status_code == 422
    assert f"{limit + 1} tokens; the limit is {limit}" in over.json()["error"]["message"]


ODD_BUT_FINE = {
    "control characters and NUL": "tab\there\x00null\x07bell\x1bescape",
    "right-to-left": "مرحبا بالعالم ושלום עולם",
    "combining marks": "Cafe\u0301 n\u0303 Z\u0351\u0352a\u0353l\u0354g\u0355o",
    "emoji sequences": "👩‍👩‍👧‍👦 🇫🇷 👍🏽 ❤️‍🔥",
    "HTML and script": "<script>alert('x')</script><img src=x onerror=alert(1)>",
}


@pytest.mark.parametrize("text", ODD_BUT_FINE.values(), ids=list(ODD_BUT_FINE))
def test_odd_text_is_answered_and_returned_as_data(client, real_model, text):
    body = client.post("/api/attention", json={"text": text, "layer": 3, "head": 1}).json()
    tokens = real_model.encode(text)
    assert [t["id"] for t in body["tokens"]] == [t.id for t in tokens]
    assert all(abs(sum(row) - 1) < 1e-4 for row in body["pattern"])
    ids = [t["id"] for t in body["tokens"]]
    assert real_model.tokenizer.decode(ids) == text  # nothing lost or altered
    assert all(0 <= t["start"] <= t["end"] <= len(text) for t in body["tokens"])


@pytest.mark.parametrize(
    "raw, words",
    [
        (b'{"text": "unclosed', "not valid JSON"),
        (b"not json at all", "not valid JSON"),
        (b'{"text": "\\ud800 lone surrogate"}', "text: Input should be a valid string"),
        (b"[1, 2, 3]", "valid dictionary"),
    ],
)
def test_broken_json_is_refused(client, raw, words):
    response = post_raw(client, "/api/heads", raw)
    assert response.status_code == 422
    assert words in response.json()["error"]["message"]


@pytest.mark.parametrize(
    "path, body, words",
    [
        ("/api/attention", {"text": "hi", "layer": 30, "head": 0}, "layer 30 is out of range"),
        ("/api/attention", {"text": "hi", "layer": 0, "head": 9}, "head 9 is out of range"),
        ("/api/attention", {"text": "hi", "layer": -1, "head": 0}, "layer"),
        ("/api/lens", {"text": "hi there", "position": 7}, "position 7 is out of range"),
        ("/api/attribution", {"text": "hi", "position": -5}, "position -5 is out of range"),
        ("/api/ablate", {"text": "hi", "heads": [[31, 0]]}, "layer 31 is out of range"),
        ("/api/ablate", {"text": "hi", "mlps": [-1]}, "mlps"),
        ("/api/neurons", {"text": "hi", "target": " Paris London"}, "one token"),
    ],
)
def test_out_of_range_indexes_name_the_range(client, path, body, words):
    response = client.post(path, json=body)
    assert response.status_code == 422
    assert words in response.json()["error"]["message"]


def test_out_of_range_weights_query(client):
    response = client.get("/api/weights", params={"layer": 0, "head": 99})
    assert response.status_code == 422 and "head 99" in response.json()["error"]["message"]


def test_a_body_over_the_limit_is_refused_before_reading(client):
    raw = json.dumps({"text": "a" * (MAX_BODY_BYTES + 1)}).encode()
    response = post_raw(client, "/api/heads", raw)
    assert response.status_code == 413
    assert f"the limit is {MAX_BODY_BYTES}" in response.json()["error"]["message"]
