// The guide's entry point: reads the model's facts, builds the state, starts each chapter.

import { get, isExport, showError } from "./api.js";
import { createStore, readUrl } from "./state.js";
import { initChapter1 } from "./chapter1.js";
import { initChapter2 } from "./chapter2.js";
import { initChapter3 } from "./chapter3.js";

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
  for (const el of document.querySelectorAll("[data-when]")) {
    el.hidden = el.dataset.when !== (isExport ? "exported" : "live");
  }
  const info = await get("/api/info");
  const cfg = info.model.config;
  for (const el of document.querySelectorAll("[data-model-name]")) el.textContent = info.model.name;
  for (const el of document.querySelectorAll("[data-model-shape]")) {
    el.textContent = `${cfg.n_layers} layers × ${cfg.n_heads} heads`;
  }
  const initial = readUrl();
  if (![1, 2, 3].includes(initial.chapter)) initial.chapter = 1;
  const store = createStore(initial);
  initTabs(store);
  showChapter(initial.chapter);
  store.subscribe((state, changed) => {
    if (changed.has("chapter")) showChapter(state.chapter);
  });
  const ctx = { store, info };
  initChapter1(document.getElementById("chapter-1"), ctx);
  initChapter2(document.getElementById("chapter-2"), ctx);
  initChapter3(document.getElementById("chapter-3"), ctx);
  document.body.dataset.ready = "true";
}

main().catch((error) => {
  showError(error);
  document.body.dataset.ready = "error";
});
