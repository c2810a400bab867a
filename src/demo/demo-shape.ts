// The numbers that give the demo marketplace its shape: how many stores and SKUs, how busy each
// weekday and hour is, how long "current" lasts in demo time. Kept in one place so the seed, the
// loader and the README tell the same story, and so a test can compute what the data should show.

/** A store's place in the week: ISO weekday (1 = Monday … 7 = Sunday) → order-rate factor. */
export const WEEKDAY_FACTORS: readonly number[] = [
  0.85, // Monday
  0.85, // Tuesday
  0.9, // Wednesday
  1.0, // Thursday
  1.6, // Friday
  1.6, // Saturday
  1.1, // Sunday
];

// Relative order rate per UTC hour: quiet nights, a lunchtime bump, a long evening peak.
const HOUR_WEIGHTS = [
  0.2, 0.1, 0.05, 0.05, 0.05, 0.1, 0.2, 0.4, 0.6, 0.8, 1.0, 1.1, 1.3, 1.2, 1.1, 1.2, 1.4, 1.8, 2.2, 2.4, 2.2, 1.8, 1.2, 0.6,
];
const HOUR_WEIGHT_TOTAL = HOUR_WEIGHTS.reduce((sum, weight) => sum + weight, 0);

/** Share of a day's orders placed in each UTC hour (0 … 23); sums to 1. */
export const HOUR_SHARES: readonly number[] = HOUR_WEIGHTS.map((weight) => weight / HOUR_WEIGHT_TOTAL);

export interface DemoShape {
  stores: number;
  skus: number;
  /** Orders per day of an average-sized store on a factor-1 weekday. */
  ordersPerStoreDay: number;
  /** Carry probability of the best-selling SKU falls toward `carryFloor` with this rank scale. */
  carryRankScale: number;
  carryFloor: number;
  carryCeiling: number;
  /** Exponent of the Zipf-like popularity: an order picks rank r with weight r^-popularityExponent. */
  popularityExponent: number;
  /** How many of the marketplace's best sellers the derived table considers. */
  topSkus: number;
  /** How many not-carried best sellers it keeps per store. */
  itemsPerStore: number;
}

export const DEMO_SHAPE: DemoShape = {
  stores: 40,
  skus: 500,
  ordersPerStoreDay: 32,
  carryRankScale: 100,
  carryFloor: 0.08,
  carryCeiling: 0.9,
  popularityExponent: 0.9,
  topSkus: 100,
  itemsPerStore: 10,
};

/**
 * Demo time. The real inventory feed lands once a day; in the demo it refreshes every store
 * within a minute so a broken feed shows within minutes. The derived table trusts a store's
 * assortment for `assortmentCurrentMs` (the demo's "today") and its prices only for
 * `priceCurrentMs` (prices are time-sensitive: the retailer app must not show stale ones), so a
 * stopped feed first blanks prices, then empties the table.
 */
export const DEMO_TIMING = {
  tickMs: 15_000,
  /** Stores whose snapshot the feed reloads per tick: every store within four ticks. */
  storesPerTick: 10,
  priceCurrentMs: 3 * 60_000,
  assortmentCurrentMs: 8 * 60_000,
  /** After a long stop, the orders feed back-fills at most this much (keeps one tick small). */
  maxCatchUpMs: 24 * 60 * 60_000,
} as const;

export const DEFAULT_DEMO_SEED = 20_240_601;
export const DEFAULT_DEMO_DAYS = 30;
