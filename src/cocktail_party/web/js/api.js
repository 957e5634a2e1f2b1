// Talking to the guide's JSON API; every failure becomes an ApiError with a plain message.
// An exported copy (`cocktail-party export`) has no API: its index.html names a manifest of
// precomputed answers in a <meta> tag, and each request is answered from those files instead.
// A notebook view (`cocktail_party.show`) carries its answers inside the page itself.

export class ApiError extends Error {
  constructor(message, status) {
    super(message);
    this.name = "ApiError";
    this.status = status;
  }
}

const cache = new Map();
const exported = document.querySelector('meta[name="cocktail-party-export"]');
const inline = document.getElementById("cocktail-party-answers");

// Whether this page is an exported copy answered from precomputed files.
export const isExport = exported !== null;
const LIVE_ONLY =
  "This copy of the guide holds only its curated sentences and prompts. For a text of your " +
  "own, run the live guide: `cocktail-party serve`.";
let manifest = null;
let held = null; // the inline answers, parsed on first use

async function fromServer(method, path, body) {
  const options = { method };
  if (body !== undefined) {
    options.headers = { "content-type": "application/json" };
    options.body = JSON.stringify(body);
  }
  let response;
  try {
    response = await fetch(path, options);
  } catch {
    const message = "The guide's server cannot be reached. Is `cocktail-party serve` running?";
    throw new ApiError(message, 0);
  }
  let answer = null;
  try {
    answer = await response.json();
  } catch {
    const message = `The server answered ${response.status} without readable data.`;
    throw new ApiError(message, response.status);
  }
  if (!response.ok) {
    const message = answer?.error?.message || `The server answered ${response.status}.`;
    if (response.status === 503) throw new ApiError(`The model is busy: ${message}`, 503);
    throw new ApiError(message, response.status);
  }
  return answer;
}

// JSON with sorted keys and no spaces; the exporter writes the same text in Python.
function canonical(value) {
  if (Array.isArray(value)) return `[${value.map(canonical).join(",")}]`;
  if (value !== null && typeof value === "object") {
    const keys = Object.keys(value).sort();
    return `{${keys.map((k) => `${JSON.stringify(k)}:${canonical(value[k])}`).join(",")}}`;
  }
  return JSON.stringify(value);
}

// 64-bit FNV-1a of the key's UTF-8 bytes as 16 hex digits: the name the exporter gave it.
function keyHash(key) {
  let h = 0xcbf29ce484222325n;
  for (const byte of new TextEncoder().encode(key)) {
    h = ((h ^ BigInt(byte)) * 0x100000001b3n) & 0xffffffffffffffffn;
  }
  return h.toString(16).padStart(16, "0");
}

async function readFile(url) {
  let response;
  try {
    response = await fetch(url);
  } catch {
    throw new ApiError(`This copy of the guide cannot read ${url.pathname}.`, 0);
  }
  if (!response.ok) {
    throw new ApiError(`This copy of the guide is missing ${url.pathname} (${response.status}).`,
      response.status);
  }
  try {
    return await response.json();
  } catch {
    throw new ApiError(`This copy of the guide holds unreadable data in ${url.pathname}.`, 0);
  }
}

function loadManifest() {
  if (!manifest) {
    const url = new URL(exported.content, document.baseURI);
    manifest = readFile(url).then((m) => ({ url, answers: m.answers }));
    manifest.catch(() => {
      manifest = null;
    });
  }
  return manifest;
}

// A precomputed answer's entry in a table named by request hashes; a request the table lacks
// gets the message that says how to get it. The path is split by hand: a notebook view's page
// has no base URL to parse it against.
function lookUp(table, method, path, body, missing) {
  const [pathname, search = ""] = path.split("?");
  const params = body ?? Object.fromEntries(new URLSearchParams(search));
  const entry = table[keyHash(`${method} ${pathname} ${canonical(params)}`)];
  if (entry === undefined) throw new ApiError(missing, 404);
  return entry;
}

// Looks the request up in the manifest first, so a text the export lacks costs no request.
async function fromExport(method, path, body) {
  const { url: base, answers } = await loadManifest();
  const name = lookUp(answers, method, path, body, LIVE_ONLY);
  return readFile(new URL(`${name}.json`, base));
}

// The page's own answers: {answers: {hash: answer}, missing: what to do for any other}.
async function fromPage(method, path, body) {
  held ??= JSON.parse(inline.textContent);
  return lookUp(held.answers, method, path, body, held.missing);
}

function request(method, path, body) {
  if (inline) return fromPage(method, path, body);
  return exported ? fromExport(method, path, body) : fromServer(method, path, body);
}

// post(path, body) answers from a small in-page cache when the same request was made before.
export function post(path, body) {
  const key = `${path} ${JSON.stringify(body)}`;
  if (!cache.has(key)) {
    const pending = request("POST", path, body);
    pending.catch(() => cache.delete(key));
    cache.set(key, pending);
    if (cache.size > 200) cache.delete(cache.keys().next().value);
  }
  return cache.get(key);
}

export function get(path) {
  return request("GET", path);
}

// showError puts a message in the page's alert region; clearErrors empties it.
export function showError(error) {
  const box = document.getElementById("errors");
  const p = document.createElement("p");
  p.textContent = error instanceof Error ? error.message : String(error);
  const close = document.createElement("button");
  close.type = "button";
  close.textContent = "Dismiss";
  close.addEventListener("click", () => p.remove());
  p.append(" ", close);
  box.replaceChildren(p);
}

export function clearErrors() {
  document.getElementById("errors").replaceChildren();
}
