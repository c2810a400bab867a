// Decisions on `approve` steps. One per run and step: the first decision stands (a second click
// on another button, or a CLI approval racing a Slack one, changes nothing).

import type pg from 'pg';

type Queryable = pg.ClientBase | pg.Pool;

export type ApprovalDecision = 'approved' | 'rejected';

export interface ApprovalRow {
  run_id: string;
  step: string;
  decision: ApprovalDecision;
  decided_by: string;
  decided_at: Date;
  comment: string | null;
}

/** Records the decision unless one exists; returns the decision that stands. */
export async function decideApproval(
  client: Queryable,
  decision: { runId: string; step: string; decision: ApprovalDecision; by: string; comment?: string | undefined; now: Date },
): Promise<ApprovalRow> {
  await client.query(
    'INSERT INTO runbook_approvals (run_id, step, decision, decided_by, decided_at, comment) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (run_id, step) DO NOTHING',
    [decision.runId, decision.step, decision.decision, decision.by, decision.now, decision.comment ?? null],
  );
  return (await selectApproval(client, decision.runId, decision.step)) as ApprovalRow;
}

export async function selectApproval(client: Queryable, runId: string, step: string): Promise<ApprovalRow | undefined> {
  const result = await client.query<ApprovalRow>('SELECT * FROM runbook_approvals WHERE run_id = $1 AND step = $2', [runId, step]);
  const row = result.rows[0];
  return row === undefined ? undefined : { ...row, run_id: String(row.run_id) };
}
