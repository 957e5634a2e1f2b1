// The sentence as word chips: each shows its share of the chosen word's attention as a number,
// a bar and a shade, and an arc runs from every source to the word that listens.

import { clone, fill, percent, tokenLabel, wordLabel } from "./ch1-dom.js";
import { shownShares, unitOf, unitShares, unitsOf } from "./ch1-math.js";

const SVG = "http://www.w3.org/2000/svg";
const MIN_DRAWN = 0.002; // arcs thinner than this share would be invisible anyway
const LIFT = 52; // the highest an arc rises above its chips, in pixels, within the row gap

export function unitText(att, unit, rawTokens) {
  const text = unit.map((t) => att.tokens[t].text).join("");
  return rawTokens ? tokenLabel(text) : wordLabel(text);
}

// createSentence(parts, onPick) draws into parts.chips and parts.arcs; onPick(token) is called
// with the listening token of the chip that was clicked.
export function createSentence(parts, onPick) {
  let built = { att: null, rawTokens: null, units: [], chips: [], pcts: [] };
  let arcs = []; // [unit index, share] of the last drawing, kept for redrawing on resize
  let queryUnit = -1;

  function build(att, rawTokens) {
    const units = unitsOf(att, rawTokens);
    const chips = units.map((unit) => {
      const chip = clone(parts["chip-template"]);
      const token = unit[unit.length - 1];
      fill(chip, { text: unitText(att, unit, rawTokens) });
      chip.dataset.token = String(token);
      chip.addEventListener("click", () => onPick(token));
      return chip;
    });
    parts.chips.replaceChildren(...chips);
    parts.chips.classList.toggle("is-raw", rawTokens);
    const pcts = chips.map((chip) => chip.querySelector(".ch1-chip-pct"));
    built = { att, rawTokens, units, chips, pcts };
  }

  function draw(att, state, query) {
    if (built.att !== att || built.rawTokens !== state.rawTokens) build(att, state.rawTokens);
    const { units, chips, pcts } = built;
    const row = att.pattern[query];
    const renormalised = shownShares(row, state.hideSink);
    const shares = unitShares(units, renormalised || row, query);
    const hidden = state.hideSink && renormalised !== null;
    queryUnit = unitOf(units, query);
    arcs = [];
    chips.forEach((chip, i) => {
      const share = shares[i];
      const isHidden = hidden && units[i].length === 1 && units[i][0] === 0;
      chip.classList.toggle("is-query", i === queryUnit);
      chip.classList.toggle("is-later", share === null);
      chip.classList.toggle("is-hidden", isHidden);
      chip.setAttribute("aria-pressed", String(i === queryUnit));
      const shown = share !== null && !isHidden;
      pcts[i].textContent = shown ? percent(share) : "";
      chip.style.setProperty("--w", shown ? share.toFixed(3) : "0");
      if (shown && share >= MIN_DRAWN) arcs.push([i, share]);
    });
    parts.chips.classList.toggle("is-renormalised", hidden);
    parts["renorm-note"].hidden = !hidden;
    parts["renorm-none"].hidden = !(state.hideSink && renormalised === null);
    fill(parts["renorm-note"], { w0: percent(row[0]) });
    drawArcs();
  }

  // Arcs run from every source chip to the listening chip: over the top within a row, and
  // from the source's bottom down to the listener's top when the sentence has wrapped.
  function drawArcs() {
    const svg = parts.arcs;
    const box = parts.sentence.getBoundingClientRect();
    svg.setAttribute("width", String(box.width));
    svg.setAttribute("height", String(box.height));
    if (queryUnit < 0 || box.width === 0) return svg.replaceChildren();
    const at = (chip) => {
      const r = chip.getBoundingClientRect();
      const x = r.left + r.width / 2 - box.left;
      return { x, top: r.top - box.top, bottom: r.bottom - box.top };
    };
    const q = at(built.chips[queryUnit]);
    const paths = arcs.map(([i, share]) => {
      const path = document.createElementNS(SVG, "path");
      path.setAttribute("d", i === queryUnit ? loop(q) : curve(at(built.chips[i]), q));
      path.setAttribute("stroke-width", String(1 + 14 * share));
      return path;
    });
    svg.replaceChildren(...paths);
  }

  return { draw, drawArcs };
}

function curve(s, q) {
  if (Math.abs(s.top - q.top) < 4) {
    const y = q.top - Math.min(LIFT, 12 + 0.2 * Math.abs(q.x - s.x));
    return `M${s.x},${s.top} C${s.x},${y} ${q.x},${y} ${q.x},${q.top}`;
  }
  const bend = (q.top - s.bottom) / 2;
  return `M${s.x},${s.bottom} C${s.x},${s.bottom + bend} ${q.x},${q.top - bend} ${q.x},${q.top}`;
}

function loop({ x, top }) {
  return `M${x - 8},${top} C${x - 18},${top - 30} ${x + 18},${top - 30} ${x + 8},${top}`;
}
