"""The static export: the files it writes, answers byte-equal to the live API's, what it leaves
out, and the folders it refuses."""

import json
from collections import Counter

import pytest
from fastapi.testclient import TestClient

from cocktail_party import cli, examples, export
from cocktail_party.server.app import create_app

EXAMPLE = examples.EXAMPLES[0]
FACT = examples.FACT_PROMPTS[0]
HEADS = [(EXAMPLE["layer"], EXAMPLE["head"]), (2, 0)]


@pytest.fixture(scope="module")
def site(real_model, tmp_path_factory):
    folder = tmp_path_factory.mktemp("site")
    summary = export.export_site(
        real_model, folder, texts=[EXAMPLE["text"]], facts=[FACT], heads=HEADS
    )
    return folder, summary


@pytest.fixture(scope="module")
def client(real_model):
    with TestClient(create_app(real_model)) as c:
        yield c


def stored(folder, ask: export.Ask) -> bytes | None:
    """The exported answer to a request, found the way js/api.js finds it, or None."""
    manifest = json.loads((folder / export.MANIFEST).read_text(encoding="utf-8"))
    name = manifest["answers"].get(export.key_hash(ask.key))
    return None if name is None else (folder / export.ANSWERS / f"{name}.json").read_bytes()


def test_key_hash_is_64_bit_fnv1a():
    assert export.key_hash("") == "cbf29ce484222325"
    assert export.key_hash("a") == "af63dc4c8601ec8c"
    assert export.key_hash("foobar") == "85944171f73967e8"


def test_the_key_is_canonical_json_of_the_request():
    ask = export.Ask("POST", "/api/ablate", {"text": "Café", "mlps": [], "heads": [[3, 1]]})
    assert ask.key == 'POST /api/ablate {"heads":[[3,1]],"mlps":[],"text":"Café"}'


def test_the_export_writes_the_page_and_its_answers(site, real_model):
    folder, summary = site
    html = (folder / "index.html").read_text(encoding="utf-8")
    assert f'<meta name="{export.META}" content="{export.MANIFEST}">' in html
    assert "<script>" not in html  # the page's only script is its module file
    for rel in ("js/app.js", "js/api.js", "js/chapter3.js", "css/base.css"):
        assert (folder / rel).is_file(), rel
    manifest = json.loads((folder / export.MANIFEST).read_text(encoding="utf-8"))
    assert manifest["schema"] == export.SCHEMA and manifest["model"] == real_model.config.name
    names = set(manifest["answers"].values())
    assert {p.stem for p in (folder / export.ANSWERS).glob("*.json")} == names | {"manifest"}
    assert summary.answers == len(names) < summary.requests  # equal answers share a file
    files = [p for p in folder.rglob("*") if p.is_file()]
    assert summary.files == len(files)
    assert summary.bytes == sum(p.stat().st_size for p in files)


@pytest.mark.parametrize(
    "ask",
    [
        export.Ask("GET", "/api/info", {}),
        export.Ask("POST", "/api/heads", {"text": EXAMPLE["text"]}),
        export.Ask("POST", "/api/attention", {"text": EXAMPLE["text"], "layer": 2, "head": 0}),
        export.Ask(
            "POST",
            "/api/attention",
            {"text": EXAMPLE["text"], "layer": 2, "head": 0, "model": "untrained"},
        ),
        export.Ask("GET", "/api/weights", {"layer": "2", "head": "0", "model": "untrained"}),
        export.Ask("POST", "/api/lens", {"text": FACT["text"], "target": FACT["answer"], "k": 5}),
        export.Ask(
            "POST",
            "/api/ablate",
            {"text": FACT["text"], "target": FACT["answer"], "heads": [[2, 0]], "mlps": []},
        ),
        export.Ask("GET", "/api/roles", {}),
    ],
    ids=lambda ask: ask.path,
)
def test_an_exported_answer_is_the_live_apis_answer(site, client, ask):
    folder, _ = site
    if ask.method == "GET":
        live = client.get(ask.path, params=ask.params)
    else:
        live = client.post(ask.path, json=ask.params)
    assert live.status_code == 200
    assert stored(folder, ask) == live.content


def test_free_text_and_unexported_heads_have_no_answer(site):
    folder, _ = site
    free = "A sentence of my own, typed in class."
    assert stored(folder, export.Ask("POST", "/api/tokenize", {"text": free})) is None
    assert stored(folder, export.Ask("POST", "/api/heads", {"text": free})) is None
    other_head = {"text": EXAMPLE["text"], "layer": 0, "head": 0}
    assert stored(folder, export.Ask("POST", "/api/attention", other_head)) is None
    own_prompt = {"text": "The capital of Spain is", "target": None, "k": 5}
    assert stored(folder, export.Ask("POST", "/api/lens", own_prompt)) is None


def test_the_full_plan_covers_every_head_sentence_and_cut(real_model):
    cfg = real_model.config
    texts = export.curated_texts()
    assert [e["text"] for e in examples.EXAMPLES] == texts[: len(examples.EXAMPLES)]
    assert "The dog chased the cat until it climbed a tree." in texts  # a chapter 2 suggestion
    asks = export.planned_asks(real_model, texts, examples.FACT_PROMPTS)
    count = Counter(a.path for a in asks)
    heads = cfg.n_layers * cfg.n_heads
    assert count["/api/attention"] == len(texts) * heads * 3  # chapter 1's, and both models
    assert count["/api/weights"] == heads * 2
    cuts_per_prompt = 2 * cfg.n_layers + heads
    assert count["/api/ablate"] == len(examples.FACT_PROMPTS) * cuts_per_prompt
    assert len({a.key for a in asks}) == len(asks)


def test_a_folder_of_other_files_is_refused_unless_forced(tmp_path, site):
    (tmp_path / "notes.txt").write_text("mine")
    with pytest.raises(export.ExportError, match="not empty"):
        export.check_folder(tmp_path, force=False)
    export.check_folder(tmp_path, force=True)
    export.check_folder(tmp_path / "new", force=False)
    export.check_folder(site[0], force=False)  # an earlier export is rewritten
    with pytest.raises(export.ExportError, match="is a file"):
        export.check_folder(tmp_path / "notes.txt", force=True)


def test_a_refused_request_stops_the_export(real_model, tmp_path):
    with pytest.raises(export.ExportError, match="422"):
        export.export_site(real_model, tmp_path, texts=["   "], facts=[], heads=[])


def test_the_command_refuses_a_folder_of_other_files(tmp_path, capsys, monkeypatch, user_cache_dir):
    monkeypatch.setenv("COCKTAIL_PARTY_CACHE", str(user_cache_dir))
    (tmp_path / "notes.txt").write_text("mine")
    assert cli.main(["export", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "--force" in err
    assert cli.main(["--untrained", "export", str(tmp_path / "new")]) == 2
    assert "--untrained" in capsys.readouterr().err
    assert not (tmp_path / "new").exists()
