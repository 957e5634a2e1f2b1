// One state object for the whole guide, mirrored in the URL so a copied link reopens the view.

// A switch that is off by default and shows in the URL as `param=word` when on.
function flag(param, word) {
  return {
    param,
    parse: (v) => v === word,
    fallback: false,
    write: (v) => (v ? word : null),
  };
}

const FIELDS = {
  chapter: { param: "ch", parse: Number, fallback: 1 },
  text: { param: "text", parse: String, fallback: "" },
  word: { param: "word", parse: Number, fallback: null },
  layer: { param: "layer", parse: Number, fallback: null },
  head: { param: "head", parse: Number, fallback: null },
  source: { param: "src", parse: Number, fallback: null },
  hideSink: flag("sink", "hide"),
  rawTokens: flag("tokens", "raw"),
  untrained: flag("twin", "1"),
  prompt: { param: "prompt", parse: String, fallback: "" },
  target: { param: "target", parse: String, fallback: "" },
  step: { param: "step", parse: Number, fallback: null },
  ablate: { param: "cut", parse: String, fallback: "" },
};

export function readUrl(search = window.location.search) {
  const params = new URLSearchParams(search);
  const state = {};
  for (const [key, f] of Object.entries(FIELDS)) {
    const raw = params.get(f.param);
    let value = raw === null ? f.fallback : f.parse(raw);
    if (typeof value === "number" && !Number.isFinite(value)) value = f.fallback;
    state[key] = value;
  }
  return state;
}

function toSearch(state) {
  const params = new URLSearchParams();
  for (const [key, f] of Object.entries(FIELDS)) {
    const value = f.write ? f.write(state[key]) : state[key];
    if (value !== null && value !== undefined && value !== "" && value !== f.fallback) {
      params.set(f.param, String(value));
    }
  }
  const search = params.toString();
  return search ? `?${search}` : window.location.pathname;
}

// createStore returns { get, set, subscribe }. set(changes, {history}) merges changes, writes
// the URL (push for a new view, replace for small moves) and calls every subscriber once with
// the new state and the set of keys that changed. With mirrorUrl false the URL and the history
// stay untouched: a notebook view's page (about:srcdoc) may not rewrite its address.
export function createStore(initial, { mirrorUrl = true } = {}) {
  let state = { ...initial };
  const listeners = [];

  function notify(changed) {
    if (changed.size === 0) return;
    for (const fn of listeners) fn(state, changed);
  }

  function set(changes, { history = "push" } = {}) {
    const changed = new Set();
    for (const [key, value] of Object.entries(changes)) {
      if (!(key in FIELDS)) throw new Error(`unknown state field ${key}`);
      if (state[key] !== value) changed.add(key);
    }
    state = { ...state, ...changes };
    if (changed.size && history !== "none" && mirrorUrl) {
      const url = toSearch(state);
      if (history === "push") window.history.pushState(null, "", url);
      else window.history.replaceState(null, "", url);
    }
    notify(changed);
  }

  if (mirrorUrl) {
    window.addEventListener("popstate", () => {
      const next = readUrl();
      const changes = {};
      for (const key of Object.keys(FIELDS)) if (next[key] !== state[key]) changes[key] = next[key];
      set(changes, { history: "none" });
    });
  }

  return {
    get: () => state,
    set,
    subscribe(fn) {
      listeners.push(fn);
    },
  };
}
