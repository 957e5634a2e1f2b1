"""The analyses on the real model: exact attribution, lens, neurons, head roles, ablation."""

import numpy as np
import pytest

from cocktail_party import analysis
from cocktail_party.errors import InputError, OutOfRangeError

FACT = "The capital of France is"


@pytest.fixture(scope="module")
def fact_trace(real_model):
    return real_model.trace(FACT)


def test_top_k_is_sorted_and_matches_the_logits(real_model, fact_trace):
    top = analysis.top_k(real_model, fact_trace, k=5)
    assert top[0]["token"] == " Paris"
    probs = [t["prob"] for t in top]
    assert probs == sorted(probs, reverse=True)
    logits = fact_trace.logits[-1]
    assert top[0]["logit"] == pytest.approx(float(logits.max()))
    expected = np.exp(logits - logits.max()) / np.exp(logits - logits.max()).sum()
    assert top[0]["prob"] == pytest.approx(float(expected.max()), rel=1e-5)


@pytest.mark.parametrize("text", [FACT, "Alice gave Bob a book because she", "1, 2, 3, 4,"])
def test_attribution_parts_sum_to_the_logit(real_model, text):
    trace = real_model.trace(text)
    for token in (None, " the"):
        att = analysis.logit_attribution(real_model, trace, token)
        total = att["embed"] + sum(att["attn"]) + sum(att["mlp"])
        assert total == pytest.approx(att["logit"], abs=1e-3)
        for layer, heads in enumerate(att["heads"]):
            assert sum(heads) == pytest.approx(att["attn"][layer], abs=1e-4)


def test_neuron_pushes_sum_to_the_mlp_share(real_model, fact_trace):
    att = analysis.logit_attribution(real_model, fact_trace)
    result = analysis.top_neurons(real_model, fact_trace, k=3)
    top = result["neurons"][0]
    assert result["token"]["token"] == " Paris"
    assert top["push"] >= result["neurons"][-1]["push"]
    # all neurons of the top neuron's layer add up to that layer's MLP share
    layer = top["layer"]
    w = real_model.weights
    direction = w["final_norm.w"] * w["embed.W_E"][att["token"]["id"]] / att["rms"]
    post = fact_trace[f"blocks.{layer}.mlp.post"][-1]
    pushes = post * (direction @ w[f"blocks.{layer}.mlp.W_down"])
    assert pushes.sum() == pytest.approx(att["mlp"][layer], abs=1e-3)
    assert pushes.max() == pytest.approx(top["push"], rel=1e-4)
    assert len(top["promotes"]) == 5


def test_logit_lens_ends_on_the_models_answer(real_model, fact_trace):
    lens = analysis.logit_lens(real_model, fact_trace, k=3)
    stages = lens["stages"]
    assert len(stages) == 1 + 2 * real_model.config.n_layers
    assert stages[0]["after"] == "embedding"
    assert lens["target"]["token"] == " Paris"
    assert stages[-1]["top"][0]["token"] == " Paris"
    assert stages[-1]["target_rank"] == 0
    final = analysis.top_k(real_model, fact_trace, k=1)[0]
    assert stages[-1]["target_prob"] == pytest.approx(final["prob"], rel=1e-4)


def test_head_roles_find_known_kinds_of_head(real_model):
    roles = analysis.head_roles(real_model, n_sequences=2, length=24)
    scores = {name: np.array(s) for name, s in roles["scores"].items()}
    shape = (real_model.config.n_layers, real_model.config.n_heads)
    assert all(s.shape == shape for s in scores.values())
    assert all((s >= 0).all() and (s <= 1).all() for s in scores.values())
    # a trained model has strong previous-token and induction heads; random weights would not
    assert scores["previous_token"].max() > 0.5
    assert scores["induction"].max() > 0.4
    assert set(roles["definitions"]) == set(roles["scores"])


def test_head_roles_of_the_twin_are_flat(real_model):
    twin_roles = analysis.head_roles(real_model.untrained_twin(), n_sequences=1, length=24)
    assert np.array(twin_roles["scores"]["induction"]).max() < 0.2


def test_ablating_the_last_mlp_lowers_paris(real_model):
    result = analysis.ablate(real_model, FACT, mlps=[real_model.config.n_layers - 1])
    target = result["target"]
    assert target["token"] == " Paris"
    assert target["prob_after"] < target["prob_before"]
    assert result["before"][0]["token"] == " Paris"


def test_ablating_nothing_changes_nothing(real_model):
    result = analysis.ablate(real_model, FACT)
    assert result["target"]["logit_after"] == result["target"]["logit_before"]


def test_mean_ablation_keeps_a_heads_average(real_model):
    edits = analysis.ablation_edits(real_model, heads=[(3, 1)], mode="mean")
    kept = real_model.run(real_model.trace(FACT).ids, ["blocks.3.attn.z"], edits)["blocks.3.attn.z"]
    assert np.allclose(kept[1], kept[1].mean(axis=0))
    assert not np.allclose(kept[0], kept[0].mean(axis=0))


@pytest.mark.parametrize(
    "call, error, words",
    [
        (lambda m: analysis.ablate(m, FACT, heads=[(99, 0)]), OutOfRangeError, "layer 99"),
        (lambda m: analysis.ablate(m, FACT, heads=[(0, 12)]), OutOfRangeError, "head 12"),
        (lambda m: analysis.ablate(m, FACT, mode="half"), InputError, "'half'"),
        (
            lambda m: analysis.logit_lens(m, m.trace(FACT), target=" Paris London"),
            InputError,
            "tokens",
        ),
        (lambda m: analysis.top_k(m, m.trace(FACT), position=40), OutOfRangeError, "position 40"),
    ],
)
def test_bad_arguments_say_what_arrived(real_model, call, error, words):
    with pytest.raises(error, match=words):
        call(real_model)


def test_ablation_can_reuse_the_unablated_logits(real_model):
    trace = real_model.trace(FACT)
    fresh = analysis.ablate(real_model, FACT, heads=[(23, 4)])
    reused = analysis.ablate(real_model, FACT, heads=[(23, 4)], before=trace.logits[-1])
    assert reused == fresh
