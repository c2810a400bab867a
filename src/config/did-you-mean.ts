// "did you mean" suggestions for misspelled keys and names.

import { distance } from 'fastest-levenshtein';

/**
 * The candidate closest to `word`, when close enough to be a likely typo: at most two edits, or a
 * third of the word's length for long words. Ties go to the earlier candidate.
 */
export function closestMatch(word: string, candidates: readonly string[]): string | undefined {
  const limit = Math.max(2, Math.floor(word.length / 3));
  let best: string | undefined;
  let bestDistance = Number.POSITIVE_INFINITY;
  for (const candidate of candidates) {
    if (candidate === word) continue;
    const edits = distance(word.toLowerCase(), candidate.toLowerCase());
    if (edits <= limit && edits < bestDistance) {
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
