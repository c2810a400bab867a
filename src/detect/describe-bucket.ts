// A bucket in words, in the check's time zone: "in the hour to 14:00", "on Tuesday 2025-03-04",
// "in the 15m to 09:15". People think of a bucket by when it ended (hours) or by its date (days).

import { formatAge } from './format-age.ts';
import { localTime } from './local-time.ts';
import { DAY_MS, HOUR_MS, slotInstant } from './seasonality.ts';

const WEEKDAYS = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];

const pad = (value: number): string => String(value).padStart(2, '0');

/** "14:00"; with the date when `withDate`: "2025-03-04 14:00". */
export function formatLocalTime(at: Date, timezone?: string, withDate = false): string {
  const t = localTime(at, timezone);
  const time = `${pad(t.hour)}:${pad(t.minute)}`;
  return withDate ? `${t.year}-${pad(t.month)}-${pad(t.day)} ${time}` : time;
}

export function describeBucket(bucket: Date, bucketMs: number, timezone?: string): string {
  if (bucketMs === DAY_MS) {
    const t = localTime(new Date(slotInstant(bucket.getTime(), bucketMs)), timezone);
    return `on ${WEEKDAYS[t.weekday]} ${t.year}-${pad(t.month)}-${pad(t.day)}`;
  }
  const end = new Date(bucket.getTime() + bucketMs);
  const span = bucketMs === HOUR_MS ? 'hour' : formatAge(bucketMs);
  return `in the ${span} to ${formatLocalTime(end, timezone, bucketMs > DAY_MS)}`;
}
