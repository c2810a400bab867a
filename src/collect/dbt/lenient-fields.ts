// Field schemas for values pipewarden reads but can do without. dbt versions disagree about
// these (null vs absent, `meta` at the top or under `config`, tags as a string or a list), so a
// malformed one reads as absent instead of refusing the whole artifact. Fields pipewarden
// cannot do without (unique_id, status, …) are declared strictly where they are used.

import { z } from 'zod';

export const optionalString = z.string().nullish().catch(null).transform((value) => value ?? null);

export const optionalNumber = z.number().nullish().catch(null).transform((value) => value ?? null);

export const optionalBoolean = z.boolean().nullish().catch(null).transform((value) => value ?? null);

export const optionalRecord = z
  .record(z.string(), z.unknown())
  .nullish()
  .catch(null)
  .transform((value) => value ?? {});

export const stringList = z
  .union([z.array(z.string()), z.string().transform((one) => [one])])
  .nullish()
  .catch(null)
  .transform((value) => value ?? []);

export const dependsOnNodes = z
  .looseObject({ nodes: stringList })
  .nullish()
  .catch(null)
  .transform((value) => value?.nodes ?? []);

/** A dbt status as written, lower-cased: dbt Fusion writes `Error` where dbt-core writes `error`. */
export const statusText = z.string().transform((status) => status.trim().toLowerCase());

export interface FreshnessRule {
  count: number;
  /** `minute`, `hour` or `day`, lower-cased. */
  period: string;
}

export interface FreshnessCriteria {
  warnAfter: FreshnessRule | null;
  errorAfter: FreshnessRule | null;
  filter: string | null;
}

// dbt writes `{count: null, period: null}` for "no rule"; that reads as null here.
const freshnessRule = z
  .looseObject({ count: optionalNumber, period: optionalString })
  .nullish()
  .catch(null)
  .transform((rule): FreshnessRule | null =>
    rule && rule.count !== null && rule.period !== null ? { count: rule.count, period: rule.period.toLowerCase() } : null,
  );

export const freshnessCriteria = z
  .looseObject({ warn_after: freshnessRule, error_after: freshnessRule, filter: optionalString })
  .nullish()
  .catch(null)
  .transform((criteria): FreshnessCriteria | null =>
    criteria && (criteria.warn_after || criteria.error_after)
      ? { warnAfter: criteria.warn_after ?? null, errorAfter: criteria.error_after ?? null, filter: criteria.filter }
      : null,
  );

const PERIOD_SECONDS: Readonly<Record<string, number>> = { minute: 60, hour: 3_600, day: 86_400 };

/** Seconds a freshness rule allows, or null for a period dbt does not define. */
export function ruleSeconds(rule: FreshnessRule | null): number | null {
  if (!rule) return null;
  const unit = PERIOD_SECONDS[rule.period];
  return unit === undefined ? null : rule.count * unit;
}
