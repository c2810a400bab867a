// "Expected" feedback: a person says a finding was expected (a planned migration, a holiday).
// The finding's bucket then leaves the baseline of its check, so the next profile neither learns
// the odd value as normal nor keeps comparing with it. Used by Slack buttons and the CLI.

import type pg from 'pg';
import { PipewardenError } from '../errors.ts';
import { selectFindingForMark, upsertExpectedMark } from '../store/expected-marks.ts';

export interface ExpectedMark {
  findingId: number;
  check: string;
  /** The bucket that leaves the baseline. */
  bucket: Date;
  by: string;
  at: Date;
}

export async function markFindingExpected(state: pg.Pool, findingId: number, by: string, now: Date): Promise<ExpectedMark> {
  const finding = await selectFindingForMark(state, findingId);
  if (finding === undefined) {
    throw new PipewardenError('finding_not_found', `Finding ${findingId} does not exist (it may have been removed by retention); check the id.`);
  }
  if (finding.bucket === null) {
    throw new PipewardenError(
      'finding_without_bucket',
      `Finding ${findingId} (${finding.check_id}) is not about a time bucket, so there is no baseline point to leave out; only volume and distribution findings can be marked expected.`,
    );
  }
  await upsertExpectedMark(state, findingId, by, now);
  return { findingId, check: finding.check_id, bucket: finding.bucket, by, at: now };
}
