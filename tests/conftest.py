"""Shared fixtures: tiny synthetic llama GGUF files with known weights, and the real model."""

from collections.abc import Callable

import pytest
from synthetic import TinyModel, write_tiny_model

import cocktail_party
from cocktail_party.model.weights import default_cache_dir


@pytest.fixture(scope="session")
def tiny_gguf(tmp_path_factory) -> Callable[..., TinyModel]:
    """A factory of tiny GGUF files, each in a new directory; see `write_tiny_model`."""

    def make(qtype: str = "F32", **options) -> TinyModel:
        return write_tiny_model(tmp_path_factory.mktemp(f"tiny-{qtype}"), qtype, **options)

    return make


@pytest.fixture(scope="session", autouse=True)
def user_cache_dir(tmp_path_factory):
    """The user's weight cache, kept for the real model; every other load caches in a temp dir."""
    user_dir = default_cache_dir()
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("COCKTAIL_PARTY_CACHE", str(tmp_path_factory.mktemp("cache")))
        yield user_dir


@pytest.fixture(scope="session")
def real_model(user_cache_dir) -> cocktail_party.Model:
    return cocktail_party.load_model(cache_dir=user_cache_dir)


@pytest.fixture(scope="session")
def twin(real_model) -> cocktail_party.Model:
    return real_model.untrained_twin()


NOTEBOOK_CELLS = [
    "import cocktail_party",
    'cocktail_party.show("The cat sat on the mat because it was tired.", word="it")',
    'cocktail_party.show_heads("Mary gave John the book because he asked.", layer=5)',
    'cocktail_party.show_flow("The capital of France is")',
]


@pytest.fixture(scope="session")
def notebook_outputs(user_cache_dir) -> list[dict]:
    """A small notebook run headless in a Jupyter kernel: each code cell's outputs, in order."""
    import nbformat
    from nbclient import NotebookClient

    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in NOTEBOOK_CELLS])
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("COCKTAIL_PARTY_CACHE", str(user_cache_dir))  # the kernel reuses the cache
        NotebookClient(nb, timeout=600, kernel_name="python3").execute()
    return [cell.outputs for cell in nb.cells]
