// Numbers in messages are read by people: "12,100" and "0.4 %", never "12100.000001".

const integers = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });
const decimals = new Intl.NumberFormat('en-US', { maximumSignificantDigits: 3 });

/** Thousands separators; whole numbers as such, others to three significant digits. */
export function formatNumber(value: number): string {
  if (!Number.isFinite(value)) return String(value);
  if (Number.isInteger(value) || Math.abs(value) >= 1000) return integers.format(value);
  return decimals.format(value);
}

/** A share (0–1) as a percentage: "100 %", "0.4 %". */
export function formatPercent(share: number): string {
  return `${formatNumber(share * 100)} %`;
}

/** "9,800–12,100": the low end rounded down, the high end up, when the unit is whole (rows). */
export function formatRange(low: number, high: number, whole: boolean, format: (value: number) => string = formatNumber): string {
  const lo = whole ? Math.floor(low) : low;
  const hi = whole ? Math.ceil(high) : high;
  return lo === hi ? format(lo) : `${format(lo)}–${format(hi)}`;
}
