// Chapter 3, "Neurons vs attention": a fact prompt followed through every layer (logit lens),
// each part's share of the answer, the top neurons, measured head roles, and removing a part.

import { get, post, showError } from "./api.js";
import { tokenLabel } from "./ch2-figures.js";
import { initFlow } from "./ch3-flow.js";
import { initParts, parseCut } from "./ch3-parts.js";
import { initRoles } from "./ch3-roles.js";

// The prompt on show and the answer to follow: the answer the state names, else a fact
// prompt's own answer, else the model's top guess (the API's default when no target is given).
function resolve(state, facts) {
  const text = state.prompt || facts[0]?.text || "";
  const fact = facts.find((f) => f.text === text);
  if (state.target) return { text, target: state.target, why: "chosen" };
  return fact ? { text, target: fact.answer, why: "fact" } : { text, target: null, why: "own" };
}

export function initChapter3(root, ctx) {
  const { store, info } = ctx;
  const facts = info.fact_prompts;
  const el = (name) => root.querySelector(`[data-c3="${name}"]`);
  const flow = initFlow(el, store, info);
  const parts = initParts(root, el, store, info);
  const roles = initRoles(el, store);
  let loaded = null; // the prompt and answer whose lens, shares and neurons are on screen
  let cutShown = null; // the prompt and removed part whose rerun is on screen
  let rolesAsked = false;
  let latest = 0;

  const picker = el("facts");
  picker.replaceChildren(
    ...facts.map((f) => new Option(f.text, f.text)),
    new Option("Your own prompt…", ""),
  );
  picker.addEventListener("change", () => {
    if (picker.value) store.set({ prompt: picker.value, target: "", ablate: "", step: null });
    else el("text").focus();
  });
  el("form").addEventListener("submit", (event) => {
    event.preventDefault();
    const text = el("text").value;
    if (text.trim()) store.set({ prompt: text, target: "", ablate: "", step: null });
  });

  function showTarget(view, token) {
    for (const q of root.querySelectorAll(".c3-target")) q.textContent = tokenLabel(token);
    for (const why of ["fact", "own", "chosen"]) el(`why-${why}`).hidden = view.why !== why;
  }

  async function load(view) {
    const mine = ++latest;
    root.dataset.drawn = "false";
    el("text").value = view.text;
    picker.value = facts.some((f) => f.text === view.text) ? view.text : "";
    const body = { text: view.text, target: view.target };
    const [lens, attr, neurons] = await Promise.all([
      post("/api/lens", { ...body, k: 5 }),
      post("/api/attribution", body),
      post("/api/neurons", { ...body, k: 8 }),
    ]);
    if (mine !== latest) return;
    showTarget(view, lens.target.token);
    flow.show(lens);
    parts.showAttribution(attr);
    parts.showNeurons(neurons, attr);
    loaded = JSON.stringify([view.text, view.target]);
    root.dataset.drawn = "true";
  }

  async function loadAblation(view, text) {
    const key = JSON.stringify([view.text, view.target, text]);
    if (key === cutShown) return;
    cutShown = key;
    const cut = parseCut(text, info.model.config.n_heads);
    if (cut === null) return parts.showAblation(null, null, "");
    el("ablation").setAttribute("aria-busy", "true");
    const answer = await post("/api/ablate", { text: view.text, target: view.target, ...cut });
    if (cutShown !== key) return;
    el("ablation").removeAttribute("aria-busy");
    parts.showAblation(answer, cut, text);
  }

  async function loadRoles() {
    rolesAsked = true;
    roles.show(await get("/api/roles"));
    parts.markPressed(store.get().ablate);
  }

  function fail(error) {
    root.dataset.drawn = "error";
    showError(error);
  }

  async function update(state) {
    if (state.chapter !== 3) return flow.stop();
    const view = resolve(state, facts);
    if (!rolesAsked) loadRoles().catch(showError);
    if (JSON.stringify([view.text, view.target]) !== loaded) await load(view);
    flow.goTo();
    await loadAblation(view, state.ablate);
  }

  store.subscribe((state, changed) => {
    const watched = ["chapter", "prompt", "target", "step", "ablate"];
    if (watched.some((k) => changed.has(k))) update(state).catch(fail);
  });
  update(store.get()).catch(fail);
  root.dataset.started = "true";
}
