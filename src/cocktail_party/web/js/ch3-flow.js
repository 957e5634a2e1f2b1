// Chapter 3's layer flow: the logit lens stage by stage (embedding, then each layer's attention
// and neurons), with Play / Step controls bound to state.step and a curve of the answer's rise.

import { count, fillBars, pct, tokenLabel } from "./ch2-figures.js";

const TICK_MS = 350;
const SVG = "http://www.w3.org/2000/svg";
const CURVE = { width: 600, height: 220, left: 44, right: 12, top: 12, bottom: 34 };
const KIND_NAMES = { embedding: "Embedding", attention: "Attention", mlp: "Neurons" };

function svg(tag, attrs, text) {
  const node = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, String(v));
  if (text !== undefined) node.textContent = text;
  return node;
}

function stageName(stage, last) {
  if (stage.after === "embedding") return "the words' own embeddings, before any layer";
  const part = stage.after === "attention" ? "attention" : "neurons";
  const name = `after layer ${stage.layer}'s ${part}`;
  return last ? `${name}: the model's final output` : name;
}

// x position of stage i on the curve.
function xAt(i, n) {
  const { width, left, right } = CURVE;
  return left + (i / Math.max(1, n - 1)) * (width - left - right);
}

function yAt(p) {
  const { height, top, bottom } = CURVE;
  return top + (1 - p) * (height - top - bottom);
}

function drawCurve(node, stages, nLayers) {
  const n = stages.length;
  const parts = [];
  for (const p of [0, 0.5, 1]) {
    parts.push(svg("line", { x1: CURVE.left, x2: CURVE.width - CURVE.right, y1: yAt(p),
      y2: yAt(p), class: "c3-grid" }));
    parts.push(svg("text", { x: CURVE.left - 6, y: yAt(p) + 4, class: "c3-axis",
      "text-anchor": "end" }, pct(p, 0)));
  }
  for (let layer = 0; layer < nLayers; layer += 5) {
    const x = xAt(2 * layer + 1, n);
    parts.push(svg("text", { x, y: CURVE.height - 14, class: "c3-axis", "text-anchor": "middle" },
      `L${layer}`));
  }
  parts.push(svg("text", { x: CURVE.width - CURVE.right, y: CURVE.height - 1, class: "c3-axis",
    "text-anchor": "end" }, "layer →"));
  const points = stages.map((s, i) => `${xAt(i, n)},${yAt(s.target_prob)}`).join(" ");
  parts.push(svg("polyline", { points, class: "c3-line" }));
  stages.forEach((s, i) => {
    parts.push(svg("circle", { cx: xAt(i, n), cy: yAt(s.target_prob), r: 2.6,
      class: `c3-dot c3-${s.after}` }));
  });
  const marker = svg("line", { y1: CURVE.top - 4, y2: yAt(0) + 4, class: "c3-marker" });
  parts.push(marker);
  node.replaceChildren(...parts);
  return marker;
}

// initFlow wires the player; show(lens) draws a new prompt's stages and goTo(step) one stage.
export function initFlow(el, store, info) {
  const cfg = info.model.config;
  const barTemplate = el("bar");
  const slider = el("step");
  const play = el("play");
  let lens = null;
  let marker = null;
  let timer = null;

  el("vocab").textContent = count(cfg.d_vocab);
  const last = () => (lens ? lens.stages.length - 1 : 0);
  const current = () => Math.min(Math.max(store.get().step ?? 0, 0), last());
  const move = (step) => store.set({ step }, { history: "replace" });

  function stop() {
    clearTimeout(timer);
    timer = null;
    play.textContent = "Play";
    play.setAttribute("aria-pressed", "false");
  }

  function tick() {
    const next = current() + 1;
    if (next > last()) return stop();
    move(next);
    timer = next < last() ? setTimeout(tick, TICK_MS) : stop();
  }

  play.addEventListener("click", () => {
    if (timer) return stop();
    if (!lens) return;
    play.textContent = "Pause";
    play.setAttribute("aria-pressed", "true");
    if (current() >= last()) move(0);
    timer = setTimeout(tick, TICK_MS);
  });
  function jump(step) {
    stop();
    move(Math.min(Math.max(step, 0), last()));
  }

  el("back").addEventListener("click", () => jump(current() - 1));
  el("next").addEventListener("click", () => jump(current() + 1));
  el("end").addEventListener("click", () => jump(last()));
  slider.addEventListener("input", () => jump(Number(slider.value)));
  el("track").addEventListener("click", (event) => {
    const cell = event.target.closest("[data-stage]");
    if (cell) jump(Number(cell.dataset.stage));
  });

  function goTo() {
    if (!lens) return;
    const i = current();
    const stage = lens.stages[i];
    slider.value = String(i);
    slider.setAttribute("aria-valuetext", `${i} of ${last()}: ${stageName(stage, i === last())}`);
    el("kind").textContent = KIND_NAMES[stage.after];
    el("kind").dataset.kind = stage.after;
    el("where").textContent = stageName(stage, i === last());
    const items = stage.top.map((t) => ({
      label: tokenLabel(t.token),
      value: t.prob,
      text: pct(t.prob),
    }));
    fillBars(el("guesses"), barTemplate, items);
    el("target-prob").textContent = pct(stage.target_prob, 2);
    el("target-rank").textContent = count(stage.target_rank + 1);
    for (const cell of el("track").children) {
      cell.classList.toggle("c3-here", Number(cell.dataset.stage) === i);
    }
    const x = xAt(i, lens.stages.length);
    marker.setAttribute("x1", x);
    marker.setAttribute("x2", x);
    el("flow").dataset.step = String(i);
  }

  function showRise(stages) {
    const first = stages.findIndex((s) => s.target_rank === 0);
    el("rise-yes").hidden = first < 0;
    el("rise-no").hidden = first >= 0;
    if (first >= 0) el("rise-top1").textContent = stageName(stages[first], first === last());
  }

  function show(answer) {
    lens = answer;
    showRise(answer.stages);
    slider.max = String(last());
    el("track").replaceChildren(
      ...answer.stages.map((s, i) => {
        const li = document.createElement("li");
        li.dataset.stage = String(i);
        li.className = `c3-${s.after}`;
        li.style.setProperty("--p", String(Math.sqrt(s.target_prob)));
        li.title = `${stageName(s, i === last())}: ${pct(s.target_prob, 2)}`;
        return li;
      }),
    );
    marker = drawCurve(el("curve"), answer.stages, cfg.n_layers);
    el("curve").setAttribute(
      "aria-label",
      `Probability of the answer after each of ${answer.stages.length} steps, ending at ` +
        pct(answer.stages.at(-1).target_prob),
    );
    goTo();
  }

  return { show, goTo, stop };
}
