// `_intervals` is an append-only log: each row adds a processed range or, with is_removed, takes
// one away (a restatement or invalidation); compaction later rewrites many rows as a few with
// is_compacted set. Read the way SQLMesh reads it: rows in created_ts order (at equal times an
// addition before a removal), ranges added and subtracted. Compacted and uncompacted rows are the
// same kind of record, so they fold together.

/** A half-open range of epoch milliseconds: [start, end). */
export type TimeRange = readonly [start: number, end: number];

export interface IntervalRecord {
  start: number;
  end: number;
  createdAt: number;
  removed: boolean;
}

/** The processed ranges the records leave, sorted, with touching ranges joined. */
export function mergeIntervalRecords(records: readonly IntervalRecord[]): TimeRange[] {
  const ordered = [...records].sort((a, b) => a.createdAt - b.createdAt || Number(a.removed) - Number(b.removed));
  let ranges: TimeRange[] = [];
  for (const record of ordered) {
    if (record.end <= record.start) continue;
    ranges = record.removed ? subtractRange(ranges, [record.start, record.end]) : addRange(ranges, [record.start, record.end]);
  }
  return ranges;
}

function addRange(ranges: readonly TimeRange[], added: TimeRange): TimeRange[] {
  const result: TimeRange[] = [];
  let [start, end] = added;
  for (const range of ranges) {
    if (range[1] < start || range[0] > end) {
      result.push(range);
    } else {
      start = Math.min(start, range[0]);
      end = Math.max(end, range[1]);
    }
  }
  result.push([start, end]);
  return result.sort((a, b) => a[0] - b[0]);
}

function subtractRange(ranges: readonly TimeRange[], removed: TimeRange): TimeRange[] {
  const result: TimeRange[] = [];
  for (const range of ranges) {
    if (range[1] <= removed[0] || range[0] >= removed[1]) {
      result.push(range);
      continue;
    }
    if (range[0] < removed[0]) result.push([range[0], removed[0]]);
    if (range[1] > removed[1]) result.push([removed[1], range[1]]);
  }
  return result;
}

/** Whether [start, end) lies wholly inside one of the sorted, joined ranges. */
export function rangeCovered(ranges: readonly TimeRange[], start: number, end: number): boolean {
  return ranges.some((range) => range[0] <= start && range[1] >= end);
}
