function distance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      current.push(
        Math.min((previous[j] ?? 0) + 1, (current[j - 1] ?? 0) + 1, (previous[j - 1] ?? 0) + cost),
      );
    }
    previous = current;
  }
  return previous[b.length] ?? 0;
}

/**
 * The one candidate that starts with the word (`vault` for vault-agent): a shortened name is
 * far in edit distance but plainly meant. Too short a word, or several such candidates, say nothing.
 */
function completion(word: string, candidates: readonly string[]): string | undefined {
  if (word.length < 3) return undefined;
  const matches = candidates.filter((c) => c !== word && c.startsWith(word));
  return matches.length === 1 ? matches[0] : undefined;
}

/**
 * The closest candidate within a third of the word's length, for "did you mean" hints, or
 * else the only one the word is the beginning of.
 */
export function closest(word: string, iterable: Iterable<string>): string | undefined {
  const candidates = [...iterable];
  let best: string | undefined;
  let bestDistance = Math.max(2, Math.ceil(word.length / 3)) + 1;
  for (const candidate of candidates) {
    if (Math.abs(candidate.length - word.length) >= bestDistance) continue;
    const d = distance(word, candidate);
    if (d < bestDistance) {
      best = candidate;
      bestDistance = d;
    }
  }
  return best ?? completion(word, candidates);
}

export function hint(word: string, candidates: Iterable<string>): string {
  const match = closest(word, candidates);
  return match === undefined ? '' : ` (did you mean '${match}'?)`;
}
