// A small seeded PRNG and the distributions the scenario generator draws from. Hand-written
// because the generator must be reproducible bit for bit from a seed across Node versions, which
// Math.random cannot be, and the few distributions needed are a handful of lines each.

export interface Random {
  /** Uniform in [0, 1). */
  next(): number;
  uniform(low: number, high: number): number;
  integer(low: number, highInclusive: number): number;
  normal(): number;
  /** Log-normal with median 1 and the given log-space sigma. */
  logNormal(sigma: number): number;
  /** Negative binomial with this mean and dispersion k (variance = mean + mean²/k). */
  negativeBinomial(mean: number, k: number): number;
  pick<T>(items: readonly T[]): T;
}

/** mulberry32: 32-bit state, fast, good enough for simulation (not for cryptography). */
export function createRandom(seed: number): Random {
  let state = seed >>> 0;
  const next = (): number => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const normal = (): number => {
    // Box–Muller; 1 - next() keeps the logarithm finite.
    return Math.sqrt(-2 * Math.log(1 - next())) * Math.cos(2 * Math.PI * next());
  };
  const gamma = (shape: number): number => gammaSample(shape, next, normal);
  const poisson = (mean: number): number => poissonSample(mean, next, normal);
  return {
    next,
    uniform: (low, high) => low + (high - low) * next(),
    integer: (low, high) => low + Math.floor(next() * (high - low + 1)),
    normal,
    logNormal: (sigma) => Math.exp(sigma * normal()),
    negativeBinomial: (mean, k) => (mean <= 0 ? 0 : poisson(mean * gamma(k) / k)),
    pick: (items) => items[Math.floor(next() * items.length)] as never,
  };
}

/** Marsaglia–Tsang for shape ≥ 1 (the generator only uses dispersions well above 1). */
function gammaSample(shape: number, next: () => number, normal: () => number): number {
  const d = Math.max(shape, 1) - 1 / 3;
  const c = 1 / Math.sqrt(9 * d);
  for (;;) {
    const x = normal();
    const v = (1 + c * x) ** 3;
    if (v <= 0) continue;
    const u = next();
    if (Math.log(1 - u) < 0.5 * x * x + d - d * v + d * Math.log(v)) return d * v;
  }
}

/** Knuth's method for small means; a rounded normal beyond, where the two are indistinguishable. */
function poissonSample(mean: number, next: () => number, normal: () => number): number {
  if (mean > 50) return Math.max(0, Math.round(mean + Math.sqrt(mean) * normal()));
  const limit = Math.exp(-mean);
  let product = next();
  let count = 0;
  while (product > limit) {
    product *= next();
    count += 1;
  }
  return count;
}
