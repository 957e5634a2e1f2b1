"""The cocktail-party command: readable output, stable JSON, clear errors."""

import json

import pytest

from cocktail_party import cli


@pytest.fixture(autouse=True)
def user_cache(monkeypatch, user_cache_dir):
    """The command loads the real model from the user's cache, as it would for a user."""
    monkeypatch.setenv("COCKTAIL_PARTY_CACHE", str(user_cache_dir))


def run(capsys, *argv) -> tuple[int, str, str]:
    code = cli.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_trace_draws_a_heatmap(capsys, real_model):
    code, out, _ = run(capsys, "trace", "The cat sat on the mat")
    assert code == 0
    assert "attends to" in out
    assert " mat" in out and "█" in out
    assert "next token" in out


def test_trace_json_is_stable_and_complete(capsys, real_model):
    code, out, _ = run(capsys, "trace", "Hello world", "--json")
    data = json.loads(out)
    assert code == 0
    assert data["schema"] == cli.TRACE_SCHEMA
    assert [t["text"] for t in data["tokens"]] == ["Hello", " world"]
    cfg = real_model.config
    assert len(data["attention"]) == cfg.n_layers and len(data["attention"][0]) == cfg.n_heads
    assert data["attention"][5][2][1][0] + data["attention"][5][2][1][1] == pytest.approx(
        1, abs=1e-4
    )
    code, again, _ = run(capsys, "trace", "Hello world", "--json")
    assert again == out  # identical input, identical bytes


def test_predict_and_lens_name_paris(capsys, real_model):
    code, out, _ = run(capsys, "predict", "The capital of France is", "-k", "3")
    assert code == 0 and out.splitlines()[0].endswith("' Paris'")
    code, out, _ = run(capsys, "lens", "The capital of France is")
    assert code == 0 and out.strip().splitlines()[-1].endswith("' Paris', ' the', ' London'")


def test_heads_lists_every_role(capsys, real_model):
    code, out, _ = run(capsys, "heads")
    assert code == 0
    for role in ("previous_token", "first_token", "duplicate_token", "induction"):
        assert role in out


@pytest.mark.parametrize(
    "argv, words",
    [
        (["trace", "   "], "empty or only whitespace"),
        (["--max-tokens", "3", "trace", "one two three four five"], "the limit is 3"),
        (["--model", __file__, "predict", "hi"], "is not a GGUF file"),
        (["--model", "/nonexistent/model.gguf", "predict", "hi"], "does not exist"),
    ],
)
def test_errors_are_one_line_and_exit_2(capsys, real_model, argv, words):
    code, out, err = run(capsys, *argv)
    assert code == 2
    assert out == ""
    assert words in err and "Traceback" not in err


@pytest.mark.parametrize("host, warned", [(None, False), ("0.0.0.0", True)])
def test_serve_binds_locally_unless_told_and_then_warns(
    capsys, monkeypatch, real_model, host, warned
):
    import uvicorn

    calls = []
    monkeypatch.setattr(uvicorn, "run", lambda app, **kw: calls.append(kw))
    code, _, err = run(capsys, "serve", *(["--host", host] if host else []))
    assert code == 0
    assert calls[0]["host"] == (host or "127.0.0.1") and calls[0]["port"] == 8000
    assert ("other machines on the network can reach the guide" in err) is warned


@pytest.mark.parametrize(
    ("argv", "says"),
    [
        (["trace", "a b", "--head", "2"], "--head 2 needs --layer"),
        (["trace", "a b", "--layer", "30"], "layer 30 is out of range"),
        (["trace", "a b", "--json", "--svg", "x.svg"], "choose one"),
        (["trace", "a b", "--svg", "figure.pdf"], "ends in .pdf, but the figure is SVG"),
        (["lens", "a b", "--png", "/no/such/folder/f.png"], "the folder '/no/such/folder'"),
        (["figure", "flow", "a b"], "needs --svg PATH or --png PATH"),
        (["figure", "nope", "a b", "--svg", "x.svg"], "view 'nope' is not one of"),
        (["figure", "flow", "a b", "--layer", "3", "--svg", "x.svg"], "takes target, step"),
    ],
)
def test_figure_options_refuse_what_cannot_be_drawn(capsys, real_model, argv, says):
    code, out, err = run(capsys, *argv)
    assert code == 2 and out == ""
    assert says in err and err.count("\n") == 1


def test_a_missing_browser_is_named(monkeypatch, tmp_path, capsys, real_model):
    monkeypatch.setenv("COCKTAIL_PARTY_CHROMIUM", str(tmp_path / "no-chromium"))
    code, _, err = run(capsys, "trace", "a b", "--layer", "1", "--png", str(tmp_path / "f.png"))
    assert code == 2 and "which is not a file" in err
    assert not (tmp_path / "f.png").exists()
