// The Query, Key and Value cards: the real q·k, its scaling, the mask and the softmax for one
// pair of tokens, and a table of every source with the value each one contributes.

import { clone, fill, fixed, percent, tokenLabel } from "./ch1-dom.js";
import { shownShares, softmaxAt } from "./ch1-math.js";

const SAME = 5e-4; // scores arrive rounded to 5 decimals; their softmax agrees far closer
const MAX_ROWS = 16; // a long sentence lists its loudest sources and sums up the rest

// The sources the table lists, in order: all of them, or for a long row the first token, the
// chosen source and the loudest others.
function listed(row, source) {
  const all = row.map((_, j) => j);
  if (row.length <= MAX_ROWS) return all;
  const loudest = [...all].sort((a, b) => row[b] - row[a]).slice(0, MAX_ROWS - 2);
  return [...new Set([0, source, ...loudest])].sort((a, b) => a - b);
}

// createInside(parts, onSource) draws into the cards, parts.steps and parts.rows; onSource(j)
// is called when a source token is picked in the table.
export function createInside(parts, onSource) {
  const cards = parts.inside.querySelector(".ch1-cards");
  const table = parts.inside.querySelector(".ch1-table");

  function draw(att, state, query, source) {
    const n = att.tokens.length;
    const label = (t) => tokenLabel(att.tokens[t].text);
    const row = att.pattern[query];
    const scores = att.scores[query];
    const sizes = att.value_size;
    const softmax = softmaxAt(scores, source);
    const sharing = att.heads_sharing_kv.join(", ");
    const common = {
      query: label(query),
      source: label(source),
      layer: att.layer,
      head: att.head,
      kv: att.kv_head,
      sharing,
      "d-head": att.d_head,
    };
    fill(cards, {
      ...common,
      size: fixed(sizes[source]),
      weight: percent(row[source], 2),
      contrib: fixed(row[source] * sizes[source]),
    });
    fill(parts.steps, {
      ...common,
      dot: fixed(att.dot[query][source], 3),
      sqrt: String(Number(Math.sqrt(att.d_head).toFixed(3))),
      score: fixed(scores[source], 3),
      masked: n - 1 - query,
      allowed: query + 1,
      softmax: percent(softmax, 2),
      pattern: percent(row[source], 2),
    });
    const same = Math.abs(softmax - row[source]) < SAME;
    parts["check-ok"].hidden = !same;
    parts["check-bad"].hidden = same;
    fill(table.caption, common);
    drawRows(att, state, query, source);
  }

  function drawRows(att, state, query, source) {
    const row = att.pattern[query];
    const renormalised = shownShares(row, state.hideSink);
    const contribs = row.map((w, j) => w * att.value_size[j]);
    const most = Math.max(...contribs) || 1;
    const kept = listed(row, source);
    const rows = kept.map((j) => {
      const tr = clone(parts["row-template"]);
      fill(tr, {
        position: `#${j}`,
        token: tokenLabel(att.tokens[j].text),
        dot: fixed(att.dot[query][j], 3),
        score: fixed(att.scores[query][j], 3),
        weight: percent(row[j], 2),
        renorm: renormalised ? percent(renormalised[j], 2) : "—",
        size: fixed(att.value_size[j]),
        contrib: fixed(contribs[j]),
      });
      tr.querySelector(".ch1-bar").style.width = `${(contribs[j] / most) * 100}%`;
      const button = tr.querySelector(".ch1-src");
      button.setAttribute("aria-pressed", String(j === source));
      tr.classList.toggle("is-source", j === source);
      button.addEventListener("click", () => onSource(j));
      return tr;
    });
    const quiet = row.map((_, j) => j).filter((j) => !kept.includes(j));
    if (quiet.length) {
      const tr = clone(parts["quiet-template"]);
      const sum = (values) => quiet.reduce((total, j) => total + values[j], 0);
      fill(tr, {
        count: quiet.length,
        weight: percent(sum(row), 2),
        renorm: renormalised ? percent(sum(renormalised), 2) : "—",
        contrib: fixed(sum(contribs)),
      });
      rows.push(tr);
    }
    const later = att.tokens.length - 1 - query;
    if (later > 0) {
      const tr = clone(parts["masked-template"]);
      fill(tr, { count: later });
      rows.push(tr);
    }
    parts.rows.replaceChildren(...rows);
    table.classList.toggle("show-renorm", state.hideSink);
  }

  return { draw };
}
