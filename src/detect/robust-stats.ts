// Robust statistics for baselines: median, MAD and quantiles. Hand-written rather than taken
// from a library because scoring runs millions of points per second (bench/scoring-throughput.ts):
// every function selects in place on a module-level scratch buffer that only grows, so the hot
// path allocates nothing. JavaScript is single-threaded, so one scratch buffer per purpose is safe
// as long as no function here calls another while holding the same buffer (they don't).

/** MAD × this estimates the standard deviation when the data are normal. */
export const MAD_SCALE = 1.4826;

let scratch = new Float64Array(1024);
let deviations = new Float64Array(1024);

function ensureScratch(n: number): Float64Array {
  if (scratch.length < n) scratch = new Float64Array(Math.max(n, scratch.length * 2));
  return scratch;
}

function ensureDeviations(n: number): Float64Array {
  if (deviations.length < n) deviations = new Float64Array(Math.max(n, deviations.length * 2));
  return deviations;
}

function copyInto(target: Float64Array, values: ArrayLike<number>, n: number): void {
  for (let i = 0; i < n; i++) target[i] = values[i]!;
}

/**
 * Rearranges `a[0..n)` so that `a[k]` holds the k-th smallest value, smaller ones before it and
 * larger ones after (Hoare's quickselect, median-of-three pivot: linear on sorted input too).
 */
export function selectInPlace(a: Float64Array, n: number, k: number): number {
  let left = 0;
  let right = n - 1;
  while (right > left) {
    const mid = (left + right) >>> 1;
    const pivot = medianOfThree(a[left]!, a[mid]!, a[right]!);
    let i = left;
    let j = right;
    while (i <= j) {
      while (a[i]! < pivot) i++;
      while (a[j]! > pivot) j--;
      if (i <= j) {
        const t = a[i]!;
        a[i] = a[j]!;
        a[j] = t;
        i++;
        j--;
      }
    }
    if (k <= j) right = j;
    else if (k >= i) left = i;
    else break;
  }
  return a[k]!;
}

function medianOfThree(x: number, y: number, z: number): number {
  if (x < y) return y < z ? y : x < z ? z : x;
  return x < z ? x : y < z ? z : y;
}

/** Smallest value of `a[from..n)`: after selecting k, the (k+1)-th smallest is the minimum above k. */
function minFrom(a: Float64Array, from: number, n: number): number {
  let min = a[from]!;
  for (let i = from + 1; i < n; i++) if (a[i]! < min) min = a[i]!;
  return min;
}

/** Median of `a[0..n)`, reordering `a`. NaN when n = 0. */
export function medianInPlace(a: Float64Array, n: number): number {
  if (n === 0) return Number.NaN;
  const upper = n >>> 1;
  const high = selectInPlace(a, n, upper);
  if (n % 2 === 1) return high;
  // After selecting `upper`, everything below it is ≤ high: the lower middle is their maximum.
  let low = a[0]!;
  for (let i = 1; i < upper; i++) if (a[i]! > low) low = a[i]!;
  return (low + high) / 2;
}

/** Median of the first n values (all by default). Does not modify `values`. */
export function median(values: ArrayLike<number>, n: number = values.length): number {
  const a = ensureScratch(n);
  copyInto(a, values, n);
  return medianInPlace(a, n);
}

/** Scaled median absolute deviation around `center` (the median by default): ≈ σ for normal data. */
export function mad(values: ArrayLike<number>, center?: number, n: number = values.length): number {
  if (n === 0) return Number.NaN;
  const c = center ?? median(values, n);
  const d = ensureDeviations(n);
  for (let i = 0; i < n; i++) d[i] = Math.abs(values[i]! - c);
  return medianInPlace(d, n) * MAD_SCALE;
}

/**
 * Quantile q ∈ [0, 1] with linear interpolation between order statistics (Hyndman & Fan type 7,
 * what numpy and R use by default). Does not modify `values`. NaN when n = 0.
 */
export function quantile(values: ArrayLike<number>, q: number, n: number = values.length): number {
  if (n === 0) return Number.NaN;
  const a = ensureScratch(n);
  copyInto(a, values, n);
  const position = Math.min(Math.max(q, 0), 1) * (n - 1);
  const k = Math.floor(position);
  const low = selectInPlace(a, n, k);
  const fraction = position - k;
  if (fraction === 0 || k + 1 >= n) return low;
  return low + fraction * (minFrom(a, k + 1, n) - low);
}
