// Ages in messages are read by people at 3am: "7m 12s" beats "432000ms".

const UNITS: ReadonlyArray<readonly [string, number]> = [
  ['d', 86_400_000],
  ['h', 3_600_000],
  ['m', 60_000],
  ['s', 1_000],
];

/** The two largest non-zero units of a duration, e.g. "2h 5m", "7m 12s", "0s". */
export function formatAge(ms: number): string {
  const parts: string[] = [];
  let rest = Math.max(0, Math.round(ms));
  for (const [unit, size] of UNITS) {
    const amount = Math.floor(rest / size);
    rest -= amount * size;
    if (amount > 0 || parts.length > 0) parts.push(`${amount}${unit}`);
    if (parts.length === 2) break;
  }
  const nonZero = parts.filter((part) => !/^0[a-z]$/.test(part));
  return nonZero.length > 0 ? nonZero.join(' ') : '0s';
}
