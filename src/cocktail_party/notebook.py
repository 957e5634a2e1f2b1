"""The guide's figures inside a Jupyter notebook. Each call builds one self-contained page: the
guide's own index.html, styles and modules, the state to open on, and the API's answers to every
request that view makes. Jupyter shows it in a frame of its own, so several views in one
notebook never share ids or styles, and nothing is fetched from anywhere."""

import base64
import functools
import html
import json
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from string import Template

from . import examples
from .analysis.common import check_index, token_id
from .errors import CocktailPartyError, InputError, UnknownNameError
from .export import (
    INFO,
    ROLES,
    Ask,
    answer,
    chapter1_asks,
    chapter2_asks,
    key_hash,
    prompt_asks,
    weights_asks,
)
from .model import Model, load_model
from .server.app import create_app, web_root

PREFIX = "cocktail-party/"  # bare name of the guide's modules in the page's import map
VIEW_ID = "cocktail-party-view"  # js/app.js reads the view's name and state here
ANSWERS_ID = "cocktail-party-answers"  # js/api.js answers requests from here
HEIGHT_MESSAGE = "cocktail-party-height"  # what js/app.js posts to the notebook as it resizes
HEIGHTS = range(100, 10_001)  # frame heights accepted, in pixels
CHAPTER3_PARAMS = ("target", "step")
SENTENCE_PARAMS = ("layer", "head", "word")

# a relative module specifier in an import or export-from: from "./x.js", import "./x.js"
RELATIVE_IMPORT = re.compile(r"""(\b(?:from|import)\s*\(?\s*)(["'])\./([\w.-]+\.js)\2""")
STYLESHEET = re.compile(r'<link rel="stylesheet" href="([^"]+)">')
ENTRY = re.compile(r'<script type="module" src="js/([\w.-]+\.js)"></script>')

FRAME = Template(
    '<iframe id="$id" name="$id" title="$title" sandbox="allow-scripts allow-downloads" '
    'style="width: 100%; height: ${height}px; border: 0;" srcdoc="$document"></iframe>\n'
    "<script>\n"
    "(() => {\n"
    '  const frame = document.getElementById("$id");\n'
    '  window.addEventListener("message", (event) => {\n'
    "    const data = event.data;\n"
    '    if (!frame || event.source !== frame.contentWindow || data?.type !== "$message") return;\n'
    "    const height = Number(data.height);\n"
    "    if (height >= $low && height <= $high) frame.style.height = height + 'px';\n"
    "  });\n"
    "})();\n"
    "</script>"
)


class PageError(CocktailPartyError):
    """The guide's files are not in the shape a notebook page is built from."""


@dataclass(frozen=True)
class ViewSpec:
    chapter: int
    height: int  # frame height in pixels that fits the view on a sentence of a line or two
    what: str  # the view in a few words, for the frame's title
    call: str  # how to open the view on another sentence, layer or prompt


VIEWS = {
    "sentence": ViewSpec(
        1, 600, "who listens to whom", "cocktail_party.show(text, layer=…, head=…)"
    ),
    "inside": ViewSpec(
        1, 1300, "inside one act of listening", 'cocktail_party.view("inside", text, layer=…)'
    ),
    "sink": ViewSpec(1, 520, "the attention sink", 'cocktail_party.view("sink", text, layer=…)'),
    "heads": ViewSpec(
        1, 760, "all heads at once", "cocktail_party.show_heads(text, layer=…, head=…)"
    ),
    "weights": ViewSpec(
        2, 560, "one head's weights", 'cocktail_party.view("weights", text, layer=…, head=…)'
    ),
    "recipe": ViewSpec(
        2, 640, "one head's pattern", 'cocktail_party.view("recipe", text, layer=…, head=…)'
    ),
    "twins": ViewSpec(
        2, 620, "trained and untrained", 'cocktail_party.view("twins", text, layer=…, head=…)'
    ),
    "flow": ViewSpec(
        3, 640, "the layer flow", "cocktail_party.show_flow(prompt, target=…, step=…)"
    ),
    "shares": ViewSpec(
        3, 1200, "who wrote the answer", 'cocktail_party.view("shares", prompt, target=…)'
    ),
    "neurons": ViewSpec(
        3, 700, "the neurons that push the answer", 'cocktail_party.view("neurons", prompt)'
    ),
    "roles": ViewSpec(3, 1000, "measured head roles", 'cocktail_party.view("roles", prompt)'),
}


@dataclass(frozen=True)
class NotebookView:
    """One view's page; Jupyter shows it through _repr_html_ as a frame of its own."""

    name: str
    title: str
    height: int
    document: str = field(repr=False)  # the whole page: a frame's srcdoc, or a file of its own

    def save(self, path: str | Path, format: str | None = None) -> Path:
        """Write the view as an SVG or PNG figure with its caption, drawn in a headless
        Chromium by the guide's own code; the format follows the file name unless given."""
        from .figures import save_figure

        return save_figure(self.document, self.name, path, format)

    def _repr_html_(self) -> str:
        frame_id = f"cocktail-party-{uuid.uuid4().hex[:12]}"  # unique per output
        return FRAME.substitute(
            id=frame_id,
            title=html.escape(self.title),
            height=self.height,
            document=html.escape(self.document),
            message=HEIGHT_MESSAGE,
            low=HEIGHTS.start,
            high=HEIGHTS.stop - 1,
        )


@dataclass(frozen=True)
class Plan:
    state: dict  # the page's state to open on (js/state.js fields)
    asks: list[Ask]  # every request the page makes for it
    missing: str  # what the page says to a request the view does not hold
    subject: str  # the sentence or prompt and what is chosen, for the title


Answers = Callable[[Ask], dict]


# --- public functions ------------------------------------------------------------------------


def show(
    text: str,
    *,
    layer: int | None = None,
    head: int | None = None,
    word: int | str | None = None,
    model: Model | None = None,
    height: int | None = None,
) -> NotebookView:
    """Chapter 1's sentence: whom the chosen word listens to, in one head; any head of the same
    layer can be picked in the view. Unset choices default as in the guide."""
    return view("sentence", text, layer=layer, head=head, word=word, model=model, height=height)


def show_heads(
    text: str,
    *,
    layer: int | None = None,
    head: int | None = None,
    model: Model | None = None,
    height: int | None = None,
) -> NotebookView:
    """Chapter 1's map of every head on a sentence, with one head (by default the guide's) open."""
    return view("heads", text, layer=layer, head=head, model=model, height=height)


def show_flow(
    prompt: str,
    *,
    target: str | None = None,
    step: int | None = None,
    model: Model | None = None,
    height: int | None = None,
) -> NotebookView:
    """Chapter 3's layer flow: the answer's rise, step by step. target: the answer to follow as
    one token (e.g. ' Paris'); default a fact prompt's own answer, else the model's top guess.
    step: the stage shown first, 0 the embedding to 2 × n_layers (or -1) the last sublayer."""
    return view("flow", prompt, target=target, step=step, model=model, height=height)


def view(
    name: str,
    text: str,
    *,
    layer: int | None = None,
    head: int | None = None,
    word: int | str | None = None,
    target: str | None = None,
    step: int | None = None,
    model: Model | None = None,
    height: int | None = None,
) -> NotebookView:
    """Any figure marked data-view in the guide: chapters 1 and 2 on a sentence (layer, head and
    word choose what is shown), chapter 3 on a prompt (target names the answer, step the
    stage of the layer flow)."""
    spec = VIEWS.get(name)
    if spec is None:
        raise UnknownNameError(f"view {name!r} is not one of: {', '.join(VIEWS)}")
    given = {"layer": layer, "head": head, "word": word, "target": target, "step": step}
    refuse_unused(name, spec, given)
    height = frame_height(spec.height if height is None else height)
    model = bundled_model() if model is None else checked_model(model)
    if spec.chapter == 2 and not model.trained:
        raise InputError(
            f"the {name} view sets the trained model beside its untrained twin; give it the "
            f"trained model, not {model.name}"
        )

    from fastapi.testclient import TestClient

    with TestClient(app_for(model)) as client:
        answers = remembering(client)
        if spec.chapter == 3:
            plan = prompt_plan(model, spec, text, target, step)
        else:
            plan = sentence_plan(model, spec, answers, text, layer, head, word)
        held = {key_hash(ask.key): answers(ask) for ask in plan.asks}
    page = page_document(name, plan.state, held, plan.missing)
    title = f"The Cocktail Party: {spec.what}, {plan.subject}"
    return NotebookView(name, title, height, page)


# --- checks ----------------------------------------------------------------------------------


@functools.cache
def bundled_model() -> Model:
    """The bundled model, loaded once per process for every view that names no model."""
    return load_model()


@functools.lru_cache(maxsize=4)
def app_for(model: Model):
    """One app per model, so that views share its traces, its twin and its head roles."""
    return create_app(model)


def checked_model(model) -> Model:
    if not isinstance(model, Model):
        raise InputError(
            f"model must be a cocktail_party.Model (from load_model), got {type(model).__name__}"
        )
    return model


def frame_height(height) -> int:
    if isinstance(height, bool) or not isinstance(height, int) or height not in HEIGHTS:
        raise InputError(
            f"height must be whole pixels from {HEIGHTS.start} to {HEIGHTS.stop - 1}, "
            f"got {height!r}"
        )
    return height


def refuse_unused(name: str, spec: ViewSpec, given: dict) -> None:
    """A choice the view cannot use is refused rather than silently dropped."""
    unused = SENTENCE_PARAMS if spec.chapter == 3 else CHAPTER3_PARAMS
    if spec.chapter == 1 and name == "heads":
        unused = unused + ("word",)
    extra = [key for key in unused if given[key] is not None]
    if extra:
        kind = "a prompt" if spec.chapter == 3 else "a sentence"
        takes = [key for key in (*SENTENCE_PARAMS, *CHAPTER3_PARAMS) if key not in unused]
        raise InputError(
            f"the {name} view follows {kind} and takes {', '.join(takes)}; "
            f"got {', '.join(f'{key}={given[key]!r}' for key in extra)}"
        )


# --- what each view requests -----------------------------------------------------------------


def remembering(client) -> Answers:
    """The live API's answer to a request, parsed, each request computed once."""
    held: dict[str, dict] = {}

    def ask(request: Ask) -> dict:
        if request.key not in held:
            held[request.key] = json.loads(answer(client, request))
        return held[request.key]

    return ask


def default_view(text: str, heads: dict) -> dict:
    """The view chapter 1 opens on (js/chapter1.js): a curated example's own, else the last word
    and the head that gives the token just before it the most attention."""
    for example in examples.EXAMPLES:
        if example["text"] == text:
            keys = {"layer": "layer", "head": "head", "word": "query", "source": "target"}
            return {key: example[name] for key, name in keys.items()}
    flat = [share for row in heads["previous"] for share in row]
    best = flat.index(max(flat))
    layer, head = divmod(best, heads["n_heads"])
    return {"layer": layer, "head": head, "word": len(heads["tokens"]) - 1, "source": None}


def word_token(word: int | str, heads: dict) -> int:
    """The token that listens for a word: given as a token index, or as the word's text (its
    first occurrence), which listens with its last token as in the guide."""
    if not isinstance(word, str):
        return check_index("word (a token index)", word, len(heads["tokens"]))
    texts = ["".join(heads["tokens"][t]["text"] for t in unit).strip() for unit in heads["words"]]
    if word.strip() not in texts:
        raise InputError(
            f"word {word!r} is not a word of the sentence; its words are "
            f"{', '.join(repr(t) for t in texts)}"
        )
    return heads["words"][texts.index(word.strip())][-1]


def sentence_plan(
    model: Model, spec: ViewSpec, answers: Answers, text: str, layer, head, word
) -> Plan:
    """A sentence view: chapter 1 holds every head of the chosen layer, chapter 2 the chosen
    head of both models and its weights."""
    model.encode(text)  # refuses a text that is empty or over the token limit, before any run
    cfg = model.config
    if layer is not None:
        layer = check_index("layer", layer, cfg.n_layers)
    if head is not None:
        head = check_index("head", head, cfg.n_heads)
    heads = answers(Ask("POST", "/api/heads", {"text": text}))
    default = default_view(text, heads)
    chosen = {
        "layer": default["layer"] if layer is None else layer,
        "head": default["head"] if head is None else head,
        "word": default["word"] if word is None else word_token(word, heads),
        "source": default["source"] if word is None else None,
    }
    state = {"chapter": spec.chapter, "text": text, **chosen}
    at = (chosen["layer"], chosen["head"])
    subject = f"“{short(text)}”, layer {at[0]}, head {at[1]}"
    if spec.chapter == 1:
        asks = [INFO, *chapter1_asks(text, [(at[0], h) for h in range(cfg.n_heads)])]
        holds = f"layer {at[0]} (heads 0–{cfg.n_heads - 1}) of this sentence"
    else:
        asks = [INFO, *chapter2_asks(text, [at]), *weights_asks([at], models=("trained",))]
        holds = f"layer {at[0]}, head {at[1]} of this sentence"
    missing = f"This notebook view holds {holds}. For another, call {spec.call}."
    return Plan(state, asks, missing, subject)


def prompt_plan(
    model: Model, spec: ViewSpec, prompt: str, target: str | None, step: int | None
) -> Plan:
    """A prompt view of chapter 3: the lens, the shares and the neurons for one answer, and the
    measured head roles, which the chapter always shows."""
    model.encode(prompt)
    if target is not None:
        if not isinstance(target, str):
            raise InputError(f"target must be the answer's text, e.g. ' Paris'; got {target!r}")
        token_id(model, target)  # one token, or a clear refusal
    fact = next((f for f in examples.FACT_PROMPTS if f["text"] == prompt), None)
    followed = target or (fact["answer"] if fact else None)  # as js/chapter3.js resolves it
    state = {"chapter": 3, "prompt": prompt, "target": target or ""}
    if step is not None:  # the embedding, then each layer's attention and neurons
        state["step"] = check_index("step", step, 1 + 2 * model.config.n_layers)
    asks = [INFO, *prompt_asks(prompt, followed), ROLES]
    missing = (
        "This notebook view holds this prompt and its answer only. For another, call "
        f"{spec.call}; to remove a part and rerun the model, call "
        "cocktail_party.analysis.ablate(model, prompt, heads=…, mlps=…)."
    )
    answer_name = "its top guess" if followed is None else repr(followed)
    return Plan(state, asks, missing, f"“{short(prompt)}”, following {answer_name}")


def short(text: str, limit: int = 60) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


# --- the page --------------------------------------------------------------------------------


def rewrite_imports(source: str) -> str:
    """A module's relative imports made bare (`./api.js` → `cocktail-party/api.js`): a module
    loaded from a data: URL has no address to resolve `./` against; the import map names it."""
    return RELATIVE_IMPORT.sub(lambda m: f"{m[1]}{m[2]}{PREFIX}{m[3]}{m[2]}", source)


def module_sources(root: Path | None = None) -> dict[str, str]:
    """Every module of the guide by file name, its imports rewritten."""
    folder = (root or web_root()) / "js"
    files = sorted(folder.glob("*.js"))
    return {p.name: rewrite_imports(p.read_text(encoding="utf-8")) for p in files}


def import_map(sources: dict[str, str]) -> dict:
    """Each module under its bare name, its source in a data: URL."""
    return {
        "imports": {
            PREFIX + name: "data:text/javascript;base64,"
            + base64.b64encode(source.encode("utf-8")).decode("ascii")
            for name, source in sources.items()
        }
    }


def script_json(value) -> str:
    """JSON safe inside a <script> element: no `<` can close it early."""
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    return text.replace("<", "\\u003c")


def data_script(element_id: str, value) -> str:
    return f'<script type="application/json" id="{element_id}">{script_json(value)}</script>'


def inline_style(root: Path, href: str) -> str:
    css = (root / href).read_text(encoding="utf-8")
    if "</style" in css.lower():
        raise PageError(f"{href} holds '</style', which would end its inlined <style> early")
    return f"<style>/* {href} */\n{css}</style>"


def page_document(name: str, state: dict, answers: dict[str, dict], missing: str) -> str:
    """index.html with its styles inlined, its modules in an import map, and the view's state
    and answers in JSON elements that js/app.js and js/api.js read."""
    root = web_root()
    page = (root / "index.html").read_text(encoding="utf-8")
    page, n_styles = STYLESHEET.subn(lambda m: inline_style(root, m[1]), page)
    entry = ENTRY.search(page)
    if n_styles == 0 or entry is None:
        raise PageError("index.html has no stylesheet links or no module script to inline")
    scripts = [
        data_script(VIEW_ID, {"view": name, "state": state}),
        data_script(ANSWERS_ID, {"answers": answers, "missing": missing}),
        f'<script type="importmap">{script_json(import_map(module_sources(root)))}</script>',
        f'<script type="module">import "{PREFIX}{entry[1]}";</script>',
    ]
    return page[: entry.start()] + "\n  ".join(scripts) + page[entry.end() :]
