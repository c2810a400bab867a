// "did you mean" suggestions for misspelled keys and names.

import { distance } from 'fastest-levenshtein';

/**
 * The candidate closest to `word`, when close enough to be a likely typo: at most two edits, or a
 * third of the word's length for long words. Edits must leave something of both words: "c" is not
 * a typo of "a", though only one edit apart. Ties go to the earlier candidate.
 */
export function closestMatch(word: string, candidates: readonly string[]): string | undefined {
  const limit = Math.min(Math.max(2, Math.floor(word.length / 3)), word.length - 1);
  let best: string | undefined;
  let bestDistance = Number.POSITIVE_INFINITY;
  for (const candidate of candidates) {
    if (candidate === word) continue;
    const edits = distance(word.toLowerCase(), candidate.toLowerCase());
    if (edits <= limit && edits < candidate.length && edits < bestDistance) {
      best = candidate;
      bestDistance = edits;
    }
  }
  return best;
}

/** ` (did you mean "x"?)` or, when nothing is close, a list of what is allowed. */
export function suggestion(word: string, candidates: readonly string[]): string {
  const match = closestMatch(word, candidates);
  if (match !== undefined) return `did you mean "${match}"?`;
  if (candidates.length === 0) return 'nothing is allowed here';
  return `expected one of: ${candidates.join(', ')}`;
}
