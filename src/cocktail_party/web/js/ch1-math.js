// Chapter 1's arithmetic on one head's attention: words from tokens, shares, the sink toggle.

// units: the groups of token indices drawn as chips, one per word or one per token.
export function unitsOf(att, rawTokens) {
  return rawTokens ? att.tokens.map((_, i) => [i]) : att.words;
}

export function unitOf(units, token) {
  return units.findIndex((unit) => unit.includes(token));
}

// The token a unit listens with: its last one, which has read the whole word.
export function listeningToken(units, token) {
  const unit = units[unitOf(units, token)];
  return unit[unit.length - 1];
}

// The shares a row shows: the real weights, or with the first token hidden the others divided
// by 1 − w0 so that they add up to 1 again. null when there is nothing left to renormalise.
export function shownShares(row, hideSink) {
  if (!hideSink) return row;
  const rest = 1 - row[0];
  if (row.length < 2 || rest <= 1e-9) return null;
  return row.map((w, j) => (j === 0 ? 0 : w / rest));
}

// Each unit's share: the sum over its tokens up to the query; null for units not yet spoken.
export function unitShares(units, shares, query) {
  return units.map((unit) => {
    if (unit[0] > query) return null;
    return unit.reduce((sum, t) => (t <= query ? sum + shares[t] : sum), 0);
  });
}

// The source the figure explains when none is chosen: the strongest after the first token.
export function strongestSource(row) {
  if (row.length < 2) return 0;
  let best = 1;
  for (let j = 2; j < row.length; j++) if (row[j] > row[best]) best = j;
  return best;
}

export function softmaxAt(scores, j) {
  const top = Math.max(...scores);
  const total = scores.reduce((sum, s) => sum + Math.exp(s - top), 0);
  return Math.exp(scores[j] - top) / total;
}
