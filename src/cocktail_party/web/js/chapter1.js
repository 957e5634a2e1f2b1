// Chapter 1, how attention works: one head's attention on a sentence, word by word, the query,
// key and value arithmetic behind one line of it, the attention sink and a map of every head.

import { post, showError } from "./api.js";
import { clone, fill, percent, refs } from "./ch1-dom.js";
import { createHeads, fillSink } from "./ch1-heads.js";
import { createInside } from "./ch1-inside.js";
import { listeningToken, strongestSource, unitOf, unitsOf } from "./ch1-math.js";
import { createSentence, unitText } from "./ch1-sentence.js";

const WATCHED = ["chapter", "text", "word", "layer", "head", "source", "hideSink", "rawTokens"];

function exampleView(example) {
  const { text, layer, head, query, target } = example;
  return { text, layer, head, word: query, source: target };
}

// For a sentence of its own: the last word, and the head that listens most to the token just
// before, a pattern anyone can check by eye.
function freeView(heads) {
  const flat = heads.previous.flat();
  const best = flat.indexOf(Math.max(...flat));
  const layer = Math.floor(best / heads.n_heads);
  return { layer, head: best % heads.n_heads, word: heads.tokens.length - 1, source: null };
}

// The fields of a default view that the state leaves open; the source goes with the word.
function missing(state, view) {
  const changes = {};
  for (const key of ["layer", "head", "word"]) if (state[key] === null) changes[key] = view[key];
  if (state.word === null) changes.source = view.source;
  return changes;
}

// Measures click-to-redraw: the store redraws synchronously when the head's data is loaded.
function timed(fn) {
  performance.mark("cp:click");
  fn();
  performance.measure("cp:redraw", "cp:click");
}

export function initChapter1(root, { store, info }) {
  const cfg = info.model.config;
  const parts = refs(root);
  const loaded = { key: "", att: null, text: null, heads: null };
  let wanted = "";

  fill(root.querySelector(".ch1-intro"), {
    "n-layers": cfg.n_layers,
    "n-heads": cfg.n_heads,
    "n-kv-heads": cfg.n_kv_heads,
    "group-size": cfg.n_heads / cfg.n_kv_heads,
  });
  fill(parts.form, { "max-tokens": info.limits.max_tokens });
  parts.text.maxLength = info.limits.max_chars;
  options(parts.layer, cfg.n_layers);
  options(parts.head, cfg.n_heads);

  const exampleButtons = info.examples.map((example) => {
    const button = clone(parts["example-template"]);
    fill(button, { title: example.title, text: example.text });
    button.addEventListener("click", () => store.set(exampleView(example)));
    return button;
  });
  parts.examples.replaceChildren(...exampleButtons);

  const sentence = createSentence(parts, (word) => timed(() => store.set({ word, source: null })));
  const inside = createInside(parts, (source) => timed(() => store.set({ source })));
  const grid = createHeads(parts, (layer, head) => store.set({ layer, head }));
  new ResizeObserver(() => sentence.drawArcs()).observe(parts.sentence);

  parts.form.addEventListener("submit", (event) => {
    event.preventDefault();
    submit(parts.text.value).catch(showError);
  });
  parts.layer.addEventListener("change", () => store.set({ layer: Number(parts.layer.value) }));
  parts.head.addEventListener("change", () => store.set({ head: Number(parts.head.value) }));
  parts.raw.addEventListener("change", () => store.set({ rawTokens: parts.raw.checked }));
  parts.sink.addEventListener("change", () => store.set({ hideSink: parts.sink.checked }));

  async function submit(text) {
    if (!text.trim()) throw new Error("Type a sentence first: the box is empty.");
    const maxChars = info.limits.max_chars;
    if (text.length > maxChars) {
      throw new Error(`That text has ${text.length} characters; the limit is ${maxChars}.`);
    }
    await post("/api/tokenize", { text }); // refuses a text over the token limit, in words
    store.set({ text, layer: null, head: null, word: null, source: null });
  }

  function setBusy(on) {
    if (on) root.dataset.drawn = "false";
    for (const name of ["figure", "inside", "sink-panel", "heads-panel"]) {
      parts[name].classList.toggle("busy", on);
    }
  }

  function exampleFor(text) {
    return info.examples.find((example) => example.text === text);
  }

  function update(state) {
    if (state.chapter !== 1) return;
    if (!state.text) {
      if (info.examples.length) store.set(exampleView(info.examples[0]), { history: "replace" });
      return;
    }
    showControls(state);
    if (state.layer === null || state.head === null || state.word === null) {
      fillDefaults(state);
      return;
    }
    const key = JSON.stringify([state.text, state.layer, state.head]);
    if (loaded.key === key) draw(state);
    else load(state, key);
  }

  function fillDefaults(state) {
    const example = exampleFor(state.text);
    if (example) {
      store.set(missing(state, exampleView(example)), { history: "replace" });
      return;
    }
    setBusy(true);
    loadHeads(state.text)
      .then((heads) => {
        const now = store.get();
        if (now.text !== state.text) return;
        store.set(missing(now, freeView(heads)), { history: "replace" });
      })
      .catch((error) => {
        setBusy(false);
        showError(error);
      });
  }

  function loadHeads(text) {
    return post("/api/heads", { text }).then((heads) => {
      if (loaded.text !== text && store.get().text === text) {
        grid.build(heads, cfg.n_heads / cfg.n_kv_heads);
        Object.assign(loaded, { text, heads });
        const { layer, head } = store.get();
        if (layer !== null && head !== null) showHead(layer, head);
        if (loaded.att && loaded.key === wanted) root.dataset.drawn = "true";
      }
      return heads;
    });
  }

  function load(state, key) {
    wanted = key;
    const { text, layer, head } = state;
    setBusy(true);
    loadHeads(text).catch(showError);
    post("/api/attention", { text, layer, head })
      .then((att) => {
        if (wanted !== key) return;
        Object.assign(loaded, { key, att });
        draw(store.get());
      })
      .catch(showError)
      .finally(() => {
        if (wanted === key) setBusy(false);
      });
  }

  function draw(state) {
    const { att } = loaded;
    const n = att.tokens.length;
    const units = unitsOf(att, state.rawTokens);
    const word = Math.max(0, Math.min(n - 1, state.word));
    const query = state.rawTokens ? word : listeningToken(units, word);
    const chosen = state.source !== null && state.source >= 0 && state.source <= query;
    const source = chosen ? state.source : strongestSource(att.pattern[query]);
    sentence.draw(att, state, query);
    inside.draw(att, state, query, source);
    fill(parts["kv-note"], { kv: att.kv_head, sharing: att.heads_sharing_kv.join(", ") });
    showNote(state, unitText(att, units[unitOf(units, query)], state.rawTokens), query);
    if (loaded.text === state.text) showHead(state.layer, state.head);
    root.dataset.drawn = String(loaded.text === state.text);
  }

  function showHead(layer, head) {
    grid.select(layer, head);
    fillSink(parts["sink-panel"], loaded.heads, layer, head);
  }

  // Says what the view is: an example's chosen view, the default for free text, or a choice.
  function showNote(state, word, query) {
    const example = exampleFor(state.text);
    const atExample =
      example &&
      [state.layer, state.head, state.word].join() ===
        [example.layer, example.head, example.query].join();
    const free = !example && loaded.text === state.text ? freeView(loaded.heads) : null;
    const atFree =
      free && free.layer === state.layer && free.head === state.head && free.word === query;
    const values = { layer: state.layer, head: state.head, word };
    if (atExample) values.note = example.note;
    if (atFree) values.previous = percent(loaded.heads.previous[state.layer][state.head]);
    parts["note-example"].hidden = !atExample;
    parts["note-free"].hidden = !atFree;
    parts["note-chosen"].hidden = atExample || atFree;
    for (const note of ["note-example", "note-free", "note-chosen"]) fill(parts[note], values);
  }

  function showControls(state) {
    if (document.activeElement !== parts.text) parts.text.value = state.text;
    exampleButtons.forEach((button, i) => {
      button.setAttribute("aria-pressed", String(info.examples[i].text === state.text));
    });
    if (state.layer !== null) parts.layer.value = String(state.layer);
    if (state.head !== null) parts.head.value = String(state.head);
    parts.raw.checked = state.rawTokens;
    parts.sink.checked = state.hideSink;
  }

  store.subscribe((state, changed) => {
    if (WATCHED.some((key) => changed.has(key))) update(state);
  });
  update(store.get());
}

function options(select, count) {
  const items = Array.from({ length: count }, (_, i) => new Option(String(i), String(i)));
  select.replaceChildren(...items);
}
