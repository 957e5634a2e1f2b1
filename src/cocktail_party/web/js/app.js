// The guide's entry point: reads the model's facts, builds the state, starts each chapter.

import { get, isExport, showError } from "./api.js";
import { createStore, readUrl } from "./state.js";
import { initChapter1 } from "./chapter1.js";
import { initChapter2 } from "./chapter2.js";
import { initChapter3 } from "./chapter3.js";
import { initFigures } from "./save-figure.js";

function showChapter(n) {
  for (const tab of document.querySelectorAll("[role=tab]")) {
    const selected = Number(tab.dataset.chapter) === n;
    tab.setAttribute("aria-selected", String(selected));
    tab.tabIndex = selected ? 0 : -1;
  }
  for (const section of document.querySelectorAll(".chapter")) {
    section.hidden = section.id !== `chapter-${n}`;
  }
}

// A notebook view (cocktail_party.show) names its figure and state inside the page: {view, state}.
function embeddedView() {
  const data = document.getElementById("cocktail-party-view");
  return data ? JSON.parse(data.textContent) : null;
}

// Shows only the figure marked data-view=name: every sibling along its ancestors is hidden, but
// the alert region, which says what to do when a click asks for an answer the view lacks.
function showOnly(name) {
  const figure = document.querySelector(`[data-view="${CSS.escape(name)}"]`);
  if (!figure) throw new Error(`This page has no view named “${name}”.`);
  for (let node = figure; node !== document.body; node = node.parentElement) {
    for (const sibling of node.parentElement.children) {
      if (sibling !== node && !sibling.matches("[role=alert], script, template")) {
        sibling.hidden = true;
      }
    }
  }
}

// Tells the notebook around a view's page how tall the view is, so that its frame can fit it.
function reportHeight() {
  const send = () => {
    const height = Math.ceil(document.documentElement.getBoundingClientRect().height);
    window.parent.postMessage({ type: "cocktail-party-height", height }, "*");
  };
  new ResizeObserver(send).observe(document.documentElement);
}

function initTabs(store) {
  const tabs = [...document.querySelectorAll("[role=tab]")];
  for (const tab of tabs) {
    tab.addEventListener("click", () => store.set({ chapter: Number(tab.dataset.chapter) }));
    tab.addEventListener("keydown", (event) => {
      const i = tabs.indexOf(tab);
      const moves = { ArrowRight: i + 1, ArrowLeft: i - 1, Home: 0, End: tabs.length - 1 };
      const next = moves[event.key];
      if (next === undefined) return;
      event.preventDefault();
      const target = tabs[(next + tabs.length) % tabs.length];
      target.focus();
      store.set({ chapter: Number(target.dataset.chapter) });
    });
  }
}

async function main() {
  const embedded = embeddedView();
  if (embedded) {
    showOnly(embedded.view);
    reportHeight();
  }
  for (const el of document.querySelectorAll("[data-when]")) {
    el.hidden = el.dataset.when !== (isExport ? "exported" : "live");
  }
  const info = await get("/api/info");
  const cfg = info.model.config;
  for (const el of document.querySelectorAll("[data-model-name]")) el.textContent = info.model.name;
  for (const el of document.querySelectorAll("[data-model-shape]")) {
    el.textContent = `${cfg.n_layers} layers × ${cfg.n_heads} heads`;
  }
  const initial = embedded ? { ...readUrl(""), ...embedded.state } : readUrl();
  if (![1, 2, 3].includes(initial.chapter)) initial.chapter = 1;
  const store = createStore(initial, { mirrorUrl: !embedded });
  initTabs(store);
  showChapter(initial.chapter);
  store.subscribe((state, changed) => {
    if (changed.has("chapter")) showChapter(state.chapter);
  });
  const ctx = { store, info };
  initChapter1(document.getElementById("chapter-1"), ctx);
  initChapter2(document.getElementById("chapter-2"), ctx);
  initChapter3(document.getElementById("chapter-3"), ctx);
  initFigures(ctx, showError, embedded?.view ?? null);
  document.body.dataset.ready = "true";
}

main().catch((error) => {
  showError(error);
  document.body.dataset.ready = "error";
});
