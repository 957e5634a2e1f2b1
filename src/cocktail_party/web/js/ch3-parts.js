// Chapter 3's parts: each layer's direct share of the answer (attention and neurons), the heads
// and neurons with the largest shares, and what happens to the answer when one part is removed.

import { count, fillBars, fixed, pct, signed, tokenLabel } from "./ch2-figures.js";

const TOP_HEADS = 6;

// state.ablate names one removed part: "mlp<layer>", "attn<layer>" (all of the layer's heads)
// or "head<layer>.<head>".
export function parseCut(text, nHeads) {
  const mlp = /^mlp(\d+)$/.exec(text);
  if (mlp) return { heads: [], mlps: [Number(mlp[1])] };
  const attn = /^attn(\d+)$/.exec(text);
  if (attn) {
    const layer = Number(attn[1]);
    return { heads: Array.from({ length: nHeads }, (_, h) => [layer, h]), mlps: [] };
  }
  const head = /^head(\d+)\.(\d+)$/.exec(text);
  if (head) return { heads: [[Number(head[1]), Number(head[2])]], mlps: [] };
  return null;
}

export const headCut = (layer, head) => `head${layer}.${head}`;
const mlpCut = (layer) => `mlp${layer}`;

function cutName(cut) {
  if (cut.mlps.length) return `the neurons (MLP) of layer ${cut.mlps[0]}`;
  const [layer, head] = cut.heads[0];
  if (cut.heads.length > 1) return `all ${cut.heads.length} heads of layer ${layer}`;
  return `head ${layer}.${head}`;
}

function sum(values) {
  return values.reduce((a, b) => a + b, 0);
}

function argmax(values) {
  return values.indexOf(Math.max(...values));
}

// A button that removes a head, labelled with its measured figure.
export function headButton(store, layer, head, figure) {
  const button = document.createElement("button");
  button.type = "button";
  button.className = "c3-head";
  button.dataset.cut = headCut(layer, head);
  button.textContent = `${layer}.${head}`;
  const value = document.createElement("span");
  value.textContent = figure;
  button.append(" ", value);
  button.addEventListener("click", () => store.set({ ablate: headCut(layer, head) }));
  return button;
}

export function initParts(root, el, store, info) {
  const cfg = info.model.config;
  const rowTemplate = el("attr-row");
  const barTemplate = el("bar");
  el("d-mlp").textContent = count(cfg.d_mlp);
  el("restore").addEventListener("click", () => store.set({ ablate: "" }));

  function share(button, value, scale, cut, label) {
    const bar = button.querySelector(".c3-share-bar");
    const size = (Math.abs(value) / scale) * 50;
    bar.style.width = `${size}%`;
    bar.style.left = value < 0 ? `${50 - size}%` : "50%";
    button.querySelector(".c3-share-value").textContent = signed(value);
    button.dataset.cut = cut;
    button.dataset.value = String(value);
    button.setAttribute("aria-label", `${label}: ${signed(value)}. Remove it and rerun.`);
    button.addEventListener("click", () => store.set({ ablate: cut }));
  }

  function showAttribution(attr) {
    const scale = Math.max(...attr.attn.map(Math.abs), ...attr.mlp.map(Math.abs), 1e-9);
    el("attribution").replaceChildren(
      ...attr.attn.map((a, layer) => {
        const li = rowTemplate.content.firstElementChild.cloneNode(true);
        li.querySelector("[data-a=layer]").textContent = String(layer);
        const attnLabel = `Attention of layer ${layer}`;
        share(li.querySelector("[data-a=attn]"), a, scale, `attn${layer}`, attnLabel);
        const mlpLabel = `Neurons of layer ${layer}`;
        share(li.querySelector("[data-a=mlp]"), attr.mlp[layer], scale, mlpCut(layer), mlpLabel);
        return li;
      }),
    );
    const heads = attr.heads.flatMap((row, layer) => row.map((v, head) => ({ layer, head, v })));
    heads.sort((a, b) => Math.abs(b.v) - Math.abs(a.v));
    el("top-heads").replaceChildren(
      ...heads.slice(0, TOP_HEADS).map(({ layer, head, v }) => {
        const li = document.createElement("li");
        li.append(headButton(store, layer, head, signed(v)));
        return li;
      }),
    );
    showVerdict(attr);
  }

  function showVerdict(attr) {
    el("sum-mlp").textContent = signed(sum(attr.mlp));
    el("sum-attn").textContent = signed(sum(attr.attn));
    el("sum-embed").textContent = signed(attr.embed);
    el("sum-total").textContent = attr.total.toFixed(2);
    const bestMlp = argmax(attr.mlp);
    const bestAttn = argmax(attr.attn);
    const mlpWins = attr.mlp[bestMlp] >= attr.attn[bestAttn];
    el("top-part").textContent = mlpWins
      ? `the neurons of layer ${bestMlp}`
      : `the attention of layer ${bestAttn}`;
    el("top-part-value").textContent = signed(mlpWins ? attr.mlp[bestMlp] : attr.attn[bestAttn]);
    el("top-attn").textContent = `layer ${bestAttn}`;
    el("top-attn-value").textContent = signed(attr.attn[bestAttn]);
    const bestHead = argmax(attr.heads[bestAttn]);
    el("top-head").textContent = `${bestAttn}.${bestHead}`;
    el("top-head-value").textContent = signed(attr.heads[bestAttn][bestHead]);
  }

  function showNeurons(answer, attr) {
    el("n-neurons").textContent = String(answer.neurons.length);
    el("neurons-sum").textContent = signed(sum(answer.neurons.map((n) => n.push)));
    el("neurons-all").textContent = signed(sum(attr.mlp));
    el("neurons").replaceChildren(
      ...answer.neurons.map((n) => {
        const tr = document.createElement("tr");
        const cells = [
          `${n.layer}.${n.neuron}`,
          signed(n.push),
          fixed(n.activation),
          n.promotes.map((t) => tokenLabel(t.token)).join(" · "),
        ];
        tr.append(
          ...cells.map((text, i) => {
            const td = document.createElement(i === 0 ? "th" : "td");
            if (i === 0) td.scope = "row";
            td.textContent = text;
            return td;
          }),
        );
        return tr;
      }),
    );
  }

  function markPressed(cut) {
    for (const button of root.querySelectorAll("button[data-cut]")) {
      button.setAttribute("aria-pressed", String(button.dataset.cut === cut));
    }
  }

  // showAblation(null) shows the invitation; otherwise the rerun's answer.
  function showAblation(answer, cut, text) {
    el("ablate-empty").hidden = answer !== null;
    el("ablate-result").hidden = answer === null;
    el("ablation").dataset.cut = text;
    markPressed(text);
    if (answer === null) return;
    const t = answer.target;
    el("ablate-what").textContent = cutName(cut);
    el("ablate-before").textContent = pct(t.prob_before);
    el("ablate-after").textContent = pct(t.prob_after);
    el("ablate-rank").textContent = count(t.rank_after + 1);
    const items = answer.after.map((a) => ({
      label: tokenLabel(a.token),
      value: a.prob,
      text: pct(a.prob),
    }));
    fillBars(el("ablate-top"), barTemplate, items);
  }

  return { showAttribution, showNeurons, showAblation, markPressed };
}
