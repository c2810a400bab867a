// Wall-clock time in an IANA zone, for seasonal keys and messages. Intl is slow (microseconds per
// call) and scoring runs a million points a second, so the zone's UTC offset is computed once per
// quarter hour of UTC time and cached: every zone in the tz database changes offset on a quarter
// hour, so an offset is constant within one. UTC (the default) never touches Intl.

const HOUR_MS = 3_600_000;
const DAY_MS = 86_400_000;
const QUARTER_MS = 900_000;
/** Enough for ten years of hourly buckets per zone; beyond it the cache starts over. */
const MAX_CACHED_OFFSETS = 400_000;

export interface LocalTime {
  year: number;
  /** 1–12. */
  month: number;
  day: number;
  hour: number;
  minute: number;
  /** 0 = Sunday … 6 = Saturday. */
  weekday: number;
}

const formatters = new Map<string, Intl.DateTimeFormat>();
const offsetCaches = new Map<string, Map<number, number>>();

function isUtc(timezone: string | undefined): boolean {
  return timezone === undefined || timezone === 'UTC' || timezone === 'Etc/UTC';
}

function formatterFor(timezone: string): Intl.DateTimeFormat {
  let formatter = formatters.get(timezone);
  if (formatter === undefined) {
    // Throws RangeError for an unknown zone: config validation should have caught it.
    formatter = new Intl.DateTimeFormat('en-US', {
      timeZone: timezone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    formatters.set(timezone, formatter);
  }
  return formatter;
}

/** True when Intl knows the zone. */
export function isValidTimeZone(timezone: string): boolean {
  try {
    formatterFor(timezone);
    return true;
  } catch {
    return false;
  }
}

function computeOffsetMs(ms: number, timezone: string): number {
  const fields: Record<string, number> = {};
  for (const part of formatterFor(timezone).formatToParts(new Date(ms))) {
    if (part.type !== 'literal') fields[part.type] = Number(part.value);
  }
  const wall = Date.UTC(fields.year!, fields.month! - 1, fields.day!, fields.hour!, fields.minute!, fields.second!);
  return wall - Math.floor(ms / 1000) * 1000;
}

/** Milliseconds to add to a UTC instant to get the zone's wall-clock time. */
export function offsetMs(ms: number, timezone?: string): number {
  if (isUtc(timezone)) return 0;
  const zone = timezone as string;
  let cache = offsetCaches.get(zone);
  if (cache === undefined) {
    cache = new Map();
    offsetCaches.set(zone, cache);
  }
  const quarter = Math.floor(ms / QUARTER_MS);
  let offset = cache.get(quarter);
  if (offset === undefined) {
    if (cache.size >= MAX_CACHED_OFFSETS) cache.clear();
    offset = computeOffsetMs(quarter * QUARTER_MS, zone);
    cache.set(quarter, offset);
  }
  return offset;
}

/** Hour of day (0–23) in the zone. */
export function localHour(ms: number, timezone?: string): number {
  const local = ms + offsetMs(ms, timezone);
  return Math.floor(local / HOUR_MS) - Math.floor(local / DAY_MS) * 24;
}

/** Day of week (0 = Sunday) in the zone. 1970-01-01 was a Thursday. */
export function localWeekday(ms: number, timezone?: string): number {
  const days = Math.floor((ms + offsetMs(ms, timezone)) / DAY_MS);
  return (((days + 4) % 7) + 7) % 7;
}

export function localTime(date: Date, timezone?: string): LocalTime {
  const ms = date.getTime();
  const wall = new Date(ms + offsetMs(ms, timezone));
  return {
    year: wall.getUTCFullYear(),
    month: wall.getUTCMonth() + 1,
    day: wall.getUTCDate(),
    hour: wall.getUTCHours(),
    minute: wall.getUTCMinutes(),
    weekday: wall.getUTCDay(),
  };
}
