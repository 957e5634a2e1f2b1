// Chapter 2, "What's stored in the model": one head's W_Q, W_K and W_V as pictures, and the
// pattern those weights draw on any sentence, next to the untrained twin's on the same words.

import { get, post, showError } from "./api.js";
import {
  count,
  drawMatrix,
  drawPattern,
  fillBars,
  pct,
  signed,
  tokenLabel,
} from "./ch2-figures.js";

const WATCHED = ["chapter", "text", "layer", "head", "word", "untrained", "rawTokens"];
const MODELS = ["trained", "untrained"];

function fillSelect(select, n) {
  select.replaceChildren(
    ...Array.from({ length: n }, (_, i) => new Option(String(i), String(i))),
  );
}

// The view chapter 2 shows: the shared choices where chapters 1 or 2 made them, else the first
// curated example (or the first layer and head when there is none).
function resolve(state, info) {
  const example = info.examples[0] ?? { text: "", layer: 0, head: 0, query: null };
  const text = state.text || example.text;
  return {
    text,
    layer: state.layer ?? example.layer,
    head: state.head ?? example.head,
    defaultWord: text === example.text ? example.query : null,
    untrained: state.untrained,
  };
}

// The figures the guide quotes for one attention row: focus and the heaviest source.
function rowFigures(answer, word) {
  const row = answer.pattern[word];
  const top = row.indexOf(Math.max(...row));
  return { row, focus: 1 - answer.entropy[word], top, weight: row[top] };
}

export function initChapter2(root, ctx) {
  const { store, info } = ctx;
  const cfg = info.model.config;
  const el = (name) => root.querySelector(`[data-c2="${name}"]`);
  const barTemplate = el("bar");
  let drawn = null; // the key of the view on screen, so unchanged views are not redrawn
  let latest = 0;

  fillSelect(el("layer"), cfg.n_layers);
  fillSelect(el("head"), cfg.n_heads);
  el("d-head").textContent = String(cfg.d_head);

  el("form").addEventListener("submit", (event) => {
    event.preventDefault();
    const text = el("text").value;
    if (text.trim()) store.set({ text, word: null, source: null });
  });
  for (const button of el("suggestions").querySelectorAll("button[data-text]")) {
    const text = button.dataset.text;
    button.addEventListener("click", () => store.set({ text, word: null, source: null }));
  }
  el("layer").addEventListener("change", (e) => store.set({ layer: Number(e.target.value) }));
  el("head").addEventListener("change", (e) => store.set({ head: Number(e.target.value) }));
  el("word").addEventListener("change", (e) => {
    store.set({ word: Number(e.target.value), source: null });
  });
  el("untrained").addEventListener("change", (e) => store.set({ untrained: e.target.checked }));

  function showWeights(answer) {
    const template = el("matrix-card");
    const sharing = answer.heads_sharing_kv;
    el("sharing").textContent = `${sharing.slice(0, -1).join(", ")} and ${sharing.at(-1)}`;
    const cards = Object.entries(answer.matrices).map(([name, m]) => {
      const card = template.content.firstElementChild.cloneNode(true);
      const part = (key) => card.querySelector(`[data-m="${key}"]`);
      card.dataset.matrix = name;
      part("name").textContent = name;
      part("shape").textContent = m.shape.join(" × ");
      part("params").textContent = count(m.parameters);
      part("std").textContent = m.std.toFixed(3);
      part("min").textContent = signed(-m.picture.scale, 2);
      part("max").textContent = signed(m.picture.scale, 2);
      const canvas = part("canvas");
      drawMatrix(canvas, m.picture);
      canvas.setAttribute(
        "aria-label",
        `${name}: ${m.shape.join(" by ")} numbers, from ${signed(-m.picture.scale)} ` +
          `to ${signed(m.picture.scale)}`,
      );
      return card;
    });
    el("matrices").replaceChildren(...cards);
    el("weights-model").textContent = answer.trained ? "the trained model" : "the untrained twin";
    el("matrices").removeAttribute("aria-busy");
    const own = Object.values(answer.matrices).reduce((sum, m) => sum + m.parameters, 0);
    el("model-params").textContent = count(answer.model_parameters);
    el("head-params").textContent = count(own);
    el("head-share").textContent = pct(own / answer.model_parameters, 3);
    el("pooled").textContent = String(answer.matrices.W_Q.picture.pooled_columns);
  }

  function showRow(panel, answer, word, labels) {
    const f = rowFigures(answer, word);
    panel.querySelector("[data-fig=focus]").textContent = f.focus.toFixed(2);
    panel.querySelector("[data-fig=top]").textContent = pct(f.weight);
    panel.querySelector("[data-fig=top-token]").textContent = labels[f.top];
    const items = f.row.map((w, j) => ({ label: labels[j], value: w, text: pct(w) }));
    fillBars(panel.querySelector("[data-fig=bars]"), barTemplate, items);
  }

  function showMain(answer, word, labels, view) {
    const f = rowFigures(answer, word);
    el("main-model").textContent = view.untrained ? "Untrained twin" : "Trained model";
    el("main").dataset.model = view.untrained ? "untrained" : "trained";
    el("main-layer").textContent = String(view.layer);
    el("main-head").textContent = String(view.head);
    el("main-word").textContent = labels[word];
    el("main-focus").textContent = f.focus.toFixed(2);
    el("main-top").textContent = pct(f.weight);
    el("main-top-token").textContent = labels[f.top];
    const canvas = el("heatmap");
    const width = canvas.parentElement.clientWidth;
    drawPattern(canvas, answer.pattern, labels, word, Math.min(width, 1000));
    canvas.setAttribute(
      "aria-label",
      `Attention of layer ${view.layer} head ${view.head} on ${labels.length} tokens`,
    );
  }

  // The choices are words (or tokens, when chapter 1 shows raw tokens); each listens with its
  // last token, which has read the whole word.
  function showWordChoice(answer, rawTokens, word) {
    const units = rawTokens ? answer.tokens.map((_, i) => [i]) : answer.words;
    const text = (unit) => unit.map((t) => answer.tokens[t].text).join("");
    el("word").replaceChildren(
      ...units.map((unit) => new Option(tokenLabel(text(unit)), String(unit.at(-1)))),
    );
    el("word").value = String(word);
  }

  function listeningToken(answer, rawTokens, token) {
    if (rawTokens) return token;
    return answer.words.find((unit) => unit.includes(token)).at(-1);
  }

  async function redraw(state) {
    const view = resolve(state, info);
    const key = JSON.stringify([view, state.word, state.rawTokens]);
    if (key === drawn) return;
    const mine = ++latest;
    root.dataset.drawn = "false";
    el("text").value = view.text;
    el("layer").value = String(view.layer);
    el("head").value = String(view.head);
    el("untrained").checked = view.untrained;
    const model = view.untrained ? "untrained" : "trained";
    const query = `layer=${view.layer}&head=${view.head}&model=${model}`;
    const [weights, ...answers] = await Promise.all([
      get(`/api/weights?${query}`),
      ...MODELS.map((m) => post("/api/attention", { text: view.text, layer: view.layer,
        head: view.head, model: m })),
    ]);
    if (mine !== latest) return;
    const n = answers[0].tokens.length;
    const labels = answers[0].tokens.map((t) => tokenLabel(t.text));
    const valid = (w) => Number.isInteger(w) && w >= 0 && w < n;
    const chosen = [state.word, view.defaultWord].find(valid) ?? n - 1;
    const word = listeningToken(answers[0], state.rawTokens, chosen);
    showWordChoice(answers[0], state.rawTokens, word);
    showWeights(weights);
    answers.forEach((answer, i) => {
      showRow(el("compare").querySelector(`[data-model=${MODELS[i]}]`), answer, word, labels);
    });
    showMain(answers[view.untrained ? 1 : 0], word, labels, view);
    drawn = key;
    root.dataset.drawn = "true";
  }

  function maybeRedraw(state) {
    if (state.chapter !== 2) return;
    redraw(state).catch((error) => {
      root.dataset.drawn = "error";
      showError(error);
    });
  }

  store.subscribe((state, changed) => {
    if (WATCHED.some((k) => changed.has(k))) maybeRedraw(state);
  });
  let resizing = null;
  window.addEventListener("resize", () => {
    clearTimeout(resizing);
    resizing = setTimeout(() => {
      drawn = null;
      maybeRedraw(store.get());
    }, 200);
  });
  maybeRedraw(store.get());
  root.dataset.started = "true";
}
