"""The guide's curated examples, measured on the real model: each shows what its note says."""

import numpy as np
import pytest

from cocktail_party import InputError, load_model
from cocktail_party.analysis import top_k
from cocktail_party.examples import EXAMPLES, FACT_PROMPTS, check_example, measure

# A majority, not a narrow lead: the target must take more than half of what the head gives to
# the words after the first (renormalised), and more than half of everything, the sink included
# (raw), so that it stands out in the picture before the sink is set aside.
MIN_RENORMALISED = 0.5
MIN_WEIGHT = 0.5


@pytest.fixture(scope="module")
def model():
    return load_model()


@pytest.fixture(scope="module")
def measured(model):
    """Each example's live figures, by title."""
    return {e["title"]: check_example(model, e) for e in EXAMPLES}


def test_measure_sets_the_first_token_aside():
    found = measure(np.array([0.5, 0.2, 0.2, 0.1]), 1)
    assert found["weight"] == pytest.approx(0.2)
    assert found["renormalised"] == pytest.approx(0.4)
    assert found["rank"] == 0
    assert measure(np.array([0.5, 0.1, 0.3, 0.1]), 1)["rank"] == 1


def test_measure_refuses_the_first_token_as_target():
    with pytest.raises(InputError):
        measure(np.array([0.5, 0.5]), 0)


@pytest.mark.parametrize("example", EXAMPLES, ids=[e["title"] for e in EXAMPLES])
def test_notes_carry_no_figures(example):
    assert not any(c.isdigit() for c in example["note"] + example["title"])


@pytest.mark.parametrize("example", EXAMPLES, ids=[e["title"] for e in EXAMPLES])
def test_example_shows_its_pattern(measured, example):
    found = measured[example["title"]]
    assert found["rank"] == 0, f"the head prefers {found['top_source_token']!r}"
    assert found["renormalised"] > MIN_RENORMALISED
    assert found["weight"] > MIN_WEIGHT


@pytest.mark.parametrize("example", EXAMPLES, ids=[e["title"] for e in EXAMPLES])
def test_note_names_the_clicked_and_the_attended_word(measured, example):
    found = measured[example["title"]]
    assert found["query_token"].strip() in example["note"]
    assert found["target_token"].strip() in example["note"]


@pytest.mark.parametrize("prompt", FACT_PROMPTS, ids=[p["text"] for p in FACT_PROMPTS])
def test_fact_prompt_answer_is_top_1(model, prompt):
    best = top_k(model, model.trace(prompt["text"]), k=1)[0]
    assert best["token"] == prompt["answer"]
