// The shapes the detectors share. Detectors are pure: a series of observations, the check's
// settings and `now` come in; a finding comes out. No clock reads, no I/O.
//
// Words: a *series* is one asset × metric (× column) over time buckets, oldest first; the
// *point under test* is the newest complete bucket; the *baseline* is what the comparable past
// buckets (same hour-of-week, day-of-week… when the series is seasonal) say to expect, computed
// robustly and without the points that were anomalies or marked expected.

export interface SeriesPoint {
  /** Start of the bucket (UTC). */
  bucket: Date;
  value: number;
  /**
   * Left out of baselines: the point was flagged as an anomaly when it was scored, or a person
   * marked its finding as expected (a planned migration, a holiday). It is still scored itself.
   */
  excluded?: boolean;
}

export type Sensitivity = 'low' | 'medium' | 'high';
export type Direction = 'drop' | 'spike' | 'both';
export type SeasonalityChoice = 'auto' | 'none' | 'hour_of_day' | 'day_of_week' | 'hour_of_week';
export type Seasonality = Exclude<SeasonalityChoice, 'auto'>;

export interface BaselineSettings {
  bucketMs: number;
  sensitivity: Sensitivity;
  direction: Direction;
  /** Deviations smaller than this (in the metric's unit) never alert. */
  minAbsoluteChange: number;
  /** Deviations smaller than this share of the expected value never alert. */
  minRelativeChange: number;
  seasonality: SeasonalityChoice;
  /** IANA zone in which hours and weekdays are read for seasonality; UTC by default. */
  timezone?: string;
  /**
   * Smallest robust spread (in the metric's unit), so a perfectly flat history does not turn
   * every wiggle into an infinite score: volume uses 1 row. Default: none beyond 5 % of the centre.
   */
  minSpread?: number;
  /**
   * The spread is at least the series' own noise, fitted on every slot of the history
   * (baseline.ts): `counts` for rows per bucket (grows with the level, skewed band), `additive`
   * for measures. Default: the slot's points alone.
   */
  noise?: 'counts' | 'additive';
  /** The metric is a share of rows (null fraction…): its band is skewed like a binomial count. */
  share?: boolean;
}

/** What the baseline says about one bucket. */
export interface Expectation {
  low: number;
  high: number;
  /** The robust centre (median of the comparable past). */
  center: number;
  /** The seasonality that was used (the resolved one when the setting was `auto`). */
  seasonality: Seasonality;
  /** How many past points the baseline rests on. */
  sampleSize: number;
  /** The robust spread (scaled MAD, floored) the score is measured in. */
  spread: number;
  /** Share of the comparable past points that were exactly zero (empty buckets, for volume). */
  zeroShare: number;
}
