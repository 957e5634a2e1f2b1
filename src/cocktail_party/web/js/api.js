// Talking to the guide's JSON API; every failure becomes an ApiError with a plain message.

export class ApiError extends Error {
  constructor(message, status) {
    super(message);
    this.name = "ApiError";
    this.status = status;
  }
}

const cache = new Map();

async function request(path, options) {
  let response;
  try {
    response = await fetch(path, options);
  } catch {
    throw new ApiError("The guide's server cannot be reached. Is `cocktail-party serve` running?", 0);
  }
  let body = null;
  try {
    body = await response.json();
  } catch {
    throw new ApiError(`The server answered ${response.status} without readable data.`, response.status);
  }
  if (!response.ok) {
    const message = body?.error?.message || `The server answered ${response.status}.`;
    if (response.status === 503) throw new ApiError(`The model is busy: ${message}`, 503);
    throw new ApiError(message, response.status);
  }
  return body;
}

// post(path, body) answers from a small in-page cache when the same request was made before.
export function post(path, body) {
  const key = `${path} ${JSON.stringify(body)}`;
  if (!cache.has(key)) {
    const pending = request(path, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(body),
    });
    pending.catch(() => cache.delete(key));
    cache.set(key, pending);
    if (cache.size > 200) cache.delete(cache.keys().next().value);
  }
  return cache.get(key);
}

export function get(path) {
  return request(path, { method: "GET" });
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
