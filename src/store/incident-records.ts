// The incident tables (migrations/0004_incidents.sql): check tracking, incidents, their timeline
// and the outbox. Callers run these inside one transaction per batch of findings, so an
// incident change, its timeline and the notifications it causes land together or not at all.

import type pg from 'pg';
import type { CheckTracking } from '../incidents/lifecycle.ts';
import type { Finding } from '../types.ts';

export interface IncidentRow {
  id: string;
  check_id: string;
  kind: string;
  asset: string;
  column_name: string | null;
  dedup_key: string;
  status: 'open' | 'acknowledged' | 'resolved';
  severity: 'warning' | 'error' | 'critical';
  flapping: boolean;
  owner: string | null;
  opened_at: Date;
  acknowledged_at: Date | null;
  acknowledged_by: string | null;
  resolved_at: Date | null;
  resolved_by: string | null;
  last_notified_at: Date;
  paged_at: Date | null;
  last_finding: Finding;
  /** The incident upstream (in lineage) that explains this one; it does not page while set. */
  caused_by: string | null;
  /** What read the asset when the incident opened; null when lineage knows no readers. */
  blast_radius: StoredBlastRadius | null;
  /** When its cause resolved and released it: its next failing evaluation pages. */
  released_at: Date | null;
}

export interface StoredBlastRadius {
  summary: string;
  details: Record<string, unknown>;
}

/** The lifecycle's memory of a check without its incident (that lives in `incidents`). */
export type StoredTracking = Omit<CheckTracking, 'incident'>;

export interface TrackingRow {
  check_id: string;
  tracking: StoredTracking;
  incident: IncidentRow | null;
}

const INSERT_MISSING_TRACKING = `
INSERT INTO check_tracking (check_id, tracking, evaluated_at)
SELECT check_id, $2::jsonb, $3 FROM unnest($1::text[]) AS check_id
ON CONFLICT (check_id) DO NOTHING`;

// Ordered by check id so two jobs locking overlapping checks never deadlock.
const SELECT_TRACKING_FOR_UPDATE = `
SELECT t.check_id, t.tracking, to_jsonb(i.*) AS incident
FROM check_tracking t LEFT JOIN incidents i ON i.id = t.incident_id
WHERE t.check_id = ANY($1::text[])
ORDER BY t.check_id
FOR UPDATE OF t`;

/** Locks the tracking rows of these checks (creating missing ones) until the transaction ends. */
export async function lockTracking(client: pg.ClientBase, checkIds: readonly string[], initial: StoredTracking, now: Date): Promise<Map<string, TrackingRow>> {
  if (checkIds.length === 0) return new Map();
  await client.query(INSERT_MISSING_TRACKING, [checkIds, JSON.stringify(initial), now]);
  const result = await client.query<{ check_id: string; tracking: StoredTracking; incident: (Omit<IncidentRow, 'id'> & { id: number | string }) | null }>(
    SELECT_TRACKING_FOR_UPDATE,
    [checkIds],
  );
  return new Map(result.rows.map((row) => [row.check_id, { check_id: row.check_id, tracking: row.tracking, incident: row.incident === null ? null : incidentFromJson(row.incident) }]));
}

// to_jsonb turns timestamps into strings and bigints into numbers: back to the row's types.
function incidentFromJson(json: Omit<IncidentRow, 'id'> & { id: number | string }): IncidentRow {
  const date = (value: Date | string | null): Date | null => (value === null ? null : new Date(value));
  return {
    ...json,
    id: String(json.id),
    opened_at: new Date(json.opened_at),
    acknowledged_at: date(json.acknowledged_at),
    resolved_at: date(json.resolved_at),
    last_notified_at: new Date(json.last_notified_at),
    paged_at: date(json.paged_at),
  };
}

const UPSERT_TRACKING = `
INSERT INTO check_tracking (check_id, tracking, incident_id, evaluated_at)
SELECT r.check_id, r.tracking, r.incident_id, $2
FROM jsonb_to_recordset($1::jsonb) AS r(check_id text, tracking jsonb, incident_id bigint)
ON CONFLICT (check_id) DO UPDATE SET tracking = excluded.tracking, incident_id = excluded.incident_id, evaluated_at = excluded.evaluated_at`;

export async function saveTracking(
  client: pg.ClientBase,
  rows: ReadonlyArray<{ checkId: string; tracking: StoredTracking; incidentId: string | null }>,
  now: Date,
): Promise<void> {
  if (rows.length === 0) return;
  const records = rows.map((row) => ({ check_id: row.checkId, tracking: row.tracking, incident_id: row.incidentId }));
  await client.query(UPSERT_TRACKING, [JSON.stringify(records), now]);
}

export interface NewIncident {
  finding: Finding;
  severity: IncidentRow['severity'];
  flapping: boolean;
  owner: string | undefined;
  openedAt: Date;
}

// The dedup key comes from the row's own id: the same from every replica, across restarts.
const INSERT_INCIDENT = `
WITH next AS (SELECT nextval(pg_get_serial_sequence('incidents', 'id')) AS id)
INSERT INTO incidents (id, check_id, kind, asset, column_name, dedup_key, status, severity, flapping, owner,
  opened_at, last_notified_at, last_finding)
SELECT next.id, $1, $2, $3, $4, 'pipewarden/' || next.id || '/' || $1, 'open', $5, $6, $7, $8, $8, $9::jsonb
FROM next
RETURNING *`;

export async function insertIncident(client: pg.ClientBase, incident: NewIncident): Promise<IncidentRow> {
  const { finding } = incident;
  const result = await client.query<IncidentRow>(INSERT_INCIDENT, [
    finding.check,
    finding.kind,
    finding.asset,
    finding.column ?? null,
    incident.severity,
    incident.flapping,
    incident.owner ?? null,
    incident.openedAt,
    JSON.stringify(finding),
  ]);
  return normalizeId(result.rows[0] as IncidentRow);
}

export interface IncidentUpdate {
  status?: IncidentRow['status'];
  severity?: IncidentRow['severity'];
  flapping?: boolean;
  lastNotifiedAt?: Date;
  pagedAt?: Date;
  acknowledged?: { at: Date; by: string };
  resolved?: { at: Date; by: string };
  lastFinding?: Finding;
}

const UPDATE_INCIDENT = `
UPDATE incidents SET
  status = coalesce($2, status),
  severity = coalesce($3, severity),
  flapping = coalesce($4, flapping),
  last_notified_at = coalesce($5, last_notified_at),
  paged_at = coalesce(paged_at, $6),
  acknowledged_at = coalesce($7, acknowledged_at),
  acknowledged_by = coalesce($8, acknowledged_by),
  resolved_at = coalesce($9, resolved_at),
  resolved_by = coalesce($10, resolved_by),
  last_finding = coalesce($11::jsonb, last_finding)
WHERE id = $1
RETURNING *`;

export async function updateIncident(client: pg.ClientBase, id: string, update: IncidentUpdate): Promise<IncidentRow> {
  const result = await client.query<IncidentRow>(UPDATE_INCIDENT, [
    id,
    update.status ?? null,
    update.severity ?? null,
    update.flapping ?? null,
    update.lastNotifiedAt ?? null,
    update.pagedAt ?? null,
    update.acknowledged?.at ?? null,
    update.acknowledged?.by ?? null,
    update.resolved?.at ?? null,
    update.resolved?.by ?? null,
    update.lastFinding === undefined ? null : JSON.stringify(update.lastFinding),
  ]);
  const row = result.rows[0];
  if (row === undefined) throw new Error(`incident ${id} vanished inside its own transaction`);
  return normalizeId(row);
}

function normalizeId(row: IncidentRow): IncidentRow {
  return { ...row, id: String(row.id), caused_by: row.caused_by === null || row.caused_by === undefined ? null : String(row.caused_by), blast_radius: row.blast_radius ?? null, released_at: row.released_at ?? null };
}

/** The active incidents on these assets that no other incident explains: candidate causes. */
export async function selectActiveRootIncidents(client: pg.ClientBase, assets: readonly string[]): Promise<IncidentRow[]> {
  if (assets.length === 0) return [];
  const result = await client.query<IncidentRow>("SELECT * FROM incidents WHERE asset = ANY($1::text[]) AND status <> 'resolved' AND caused_by IS NULL ORDER BY opened_at, id", [assets]);
  return result.rows.map(normalizeId);
}

/** The active incidents an incident explains. */
export async function selectGroupedIncidents(client: pg.ClientBase | pg.Pool, causeId: string): Promise<IncidentRow[]> {
  const result = await client.query<IncidentRow>("SELECT * FROM incidents WHERE caused_by = $1 AND status <> 'resolved' ORDER BY id", [causeId]);
  return result.rows.map(normalizeId);
}

/** Joins an incident to its cause (or, with null, releases it); `unpaged` forgets a page PagerDuty was told to close. */
export async function setIncidentCause(client: pg.ClientBase, id: string, causeId: string | null, options: { unpaged?: boolean; releasedAt?: Date } = {}): Promise<IncidentRow> {
  const result = await client.query<IncidentRow>(
    'UPDATE incidents SET caused_by = $2, paged_at = CASE WHEN $3 THEN NULL ELSE paged_at END, released_at = $4 WHERE id = $1 RETURNING *',
    [id, causeId, options.unpaged === true, options.releasedAt ?? null],
  );
  return normalizeId(result.rows[0] as IncidentRow);
}

export async function clearIncidentRelease(client: pg.ClientBase, id: string): Promise<IncidentRow> {
  const result = await client.query<IncidentRow>('UPDATE incidents SET released_at = NULL WHERE id = $1 RETURNING *', [id]);
  return normalizeId(result.rows[0] as IncidentRow);
}

export async function setIncidentBlastRadius(client: pg.ClientBase, id: string, radius: StoredBlastRadius): Promise<IncidentRow> {
  const result = await client.query<IncidentRow>('UPDATE incidents SET blast_radius = $2 WHERE id = $1 RETURNING *', [id, JSON.stringify(radius)]);
  return normalizeId(result.rows[0] as IncidentRow);
}

export interface IncidentEventRecord {
  incidentId: string;
  type: string;
  actor?: string | undefined;
  source?: string | undefined;
  detail?: Record<string, unknown>;
}

const INSERT_INCIDENT_EVENTS = `
INSERT INTO incident_events (incident_id, at, type, actor, source, detail)
SELECT e.incident_id, $2, e.type, e.actor, e.source, coalesce(e.detail, '{}'::jsonb)
FROM jsonb_to_recordset($1::jsonb) AS e(incident_id bigint, type text, actor text, source text, detail jsonb)`;

export async function insertIncidentEvents(client: pg.ClientBase, events: readonly IncidentEventRecord[], at: Date): Promise<void> {
  if (events.length === 0) return;
  const records = events.map((event) => ({ incident_id: event.incidentId, type: event.type, actor: event.actor ?? null, source: event.source ?? null, detail: event.detail ?? {} }));
  await client.query(INSERT_INCIDENT_EVENTS, [JSON.stringify(records), at]);
}

export type OutboxChannel = 'console' | 'slack' | 'pagerduty';

export interface OutboxItem {
  incidentId: string;
  channel: OutboxChannel;
  payload: Record<string, unknown>;
}

const INSERT_OUTBOX_ITEMS = `
INSERT INTO outbox (incident_id, channel, payload, next_attempt_at, created_at)
SELECT o.incident_id, o.channel, o.payload, $2, $2
FROM ROWS FROM (jsonb_to_recordset($1::jsonb) AS (incident_id bigint, channel text, payload jsonb)) WITH ORDINALITY AS o(incident_id, channel, payload, n)
ORDER BY o.n`;

/** Queues notifications; ids (delivery order per incident and channel) follow the given order. */
export async function insertOutboxItems(client: pg.ClientBase, items: readonly OutboxItem[], at: Date): Promise<void> {
  if (items.length === 0) return;
  const records = items.map((item) => ({ incident_id: item.incidentId, channel: item.channel, payload: item.payload }));
  await client.query(INSERT_OUTBOX_ITEMS, [JSON.stringify(records), at]);
}

const SELECT_INCIDENT_FOR_UPDATE = `
SELECT i.*, t.tracking
FROM incidents i LEFT JOIN check_tracking t ON t.check_id = i.check_id AND t.incident_id = i.id
WHERE i.id = $1
FOR UPDATE OF i`;

/** An incident and, while it is its check's active one, the check's tracking; both locked. */
export async function lockIncident(client: pg.ClientBase, id: string): Promise<{ incident: IncidentRow; tracking: StoredTracking | null } | undefined> {
  if (!/^\d+$/.test(id)) return undefined;
  // Lock order as in lockTracking (tracking before incident) so a job and a person never deadlock.
  await client.query('SELECT 1 FROM check_tracking WHERE incident_id = $1 FOR UPDATE', [id]);
  const result = await client.query<IncidentRow & { tracking: StoredTracking | null }>(SELECT_INCIDENT_FOR_UPDATE, [id]);
  const row = result.rows[0];
  if (row === undefined) return undefined;
  const { tracking, ...incident } = row;
  return { incident: normalizeId(incident), tracking };
}

export type IncidentListFilter = 'active' | 'open' | 'acknowledged' | 'resolved' | 'all';

const SELECT_INCIDENTS = `
SELECT * FROM incidents
WHERE CASE $1::text WHEN 'all' THEN true WHEN 'active' THEN status <> 'resolved' ELSE status = $1 END
ORDER BY id DESC
LIMIT $2`;

export async function selectIncidents(client: pg.ClientBase | pg.Pool, filter: IncidentListFilter, limit: number): Promise<IncidentRow[]> {
  const result = await client.query<IncidentRow>(SELECT_INCIDENTS, [filter, limit]);
  return result.rows.map(normalizeId);
}

/** Status back to open, acknowledgement and resolution cleared. */
export async function markIncidentOpen(client: pg.ClientBase, id: string): Promise<IncidentRow> {
  const result = await client.query<IncidentRow>(
    "UPDATE incidents SET status = 'open', acknowledged_at = NULL, acknowledged_by = NULL, resolved_at = NULL, resolved_by = NULL WHERE id = $1 RETURNING *",
    [id],
  );
  return normalizeId(result.rows[0] as IncidentRow);
}

/**
 * Makes a resolved incident its check's active one again, when the check has none: the tracking
 * row points back at it. False when another incident of the check is active (that one stands).
 */
export async function reopenResolvedIncident(client: pg.ClientBase, incident: IncidentRow, now: Date): Promise<boolean> {
  const active = await client.query("SELECT 1 FROM incidents WHERE check_id = $1 AND status <> 'resolved' AND id <> $2", [incident.check_id, incident.id]);
  if ((active.rowCount ?? 0) > 0) return false;
  await client.query('UPDATE check_tracking SET incident_id = $2, evaluated_at = $3 WHERE check_id = $1', [incident.check_id, incident.id, now]);
  return true;
}

export async function selectIncidentIdByDedupKey(client: pg.ClientBase | pg.Pool, dedupKey: string): Promise<string | undefined> {
  const result = await client.query<{ id: string }>('SELECT id FROM incidents WHERE dedup_key = $1', [dedupKey]);
  const id = result.rows[0]?.id;
  return id === undefined ? undefined : String(id);
}

/** Incidents whose dedup key starts with `prefix` (to match a key PagerDuty received shortened). */
export async function selectIncidentKeysByPrefix(client: pg.ClientBase | pg.Pool, prefix: string): Promise<Array<{ id: string; dedupKey: string }>> {
  const result = await client.query<{ id: string; dedup_key: string }>('SELECT id, dedup_key FROM incidents WHERE left(dedup_key, length($1)) = $1', [prefix]);
  return result.rows.map((row) => ({ id: String(row.id), dedupKey: row.dedup_key }));
}

/** Open and acknowledged incidents by severity and status. */
export async function countActiveIncidents(client: pg.ClientBase | pg.Pool): Promise<Array<{ severity: string; status: string; count: number }>> {
  const result = await client.query<{ severity: string; status: string; count: number }>(
    "SELECT severity, status, count(*)::int AS count FROM incidents WHERE status <> 'resolved' GROUP BY severity, status",
  );
  return result.rows;
}

export interface IncidentEventRow {
  at: Date;
  type: string;
  actor: string | null;
  source: string | null;
  detail: Record<string, unknown>;
}

/** One incident as it is now; undefined when there is none (or `id` is not an id at all). */
export async function selectIncident(client: pg.ClientBase | pg.Pool, id: string): Promise<IncidentRow | undefined> {
  if (!/^\d+$/.test(id)) return undefined;
  const result = await client.query<IncidentRow>('SELECT * FROM incidents WHERE id = $1', [id]);
  const row = result.rows[0];
  return row === undefined ? undefined : normalizeId(row);
}

export async function selectIncidentTimeline(client: pg.ClientBase | pg.Pool, id: string): Promise<{ incident: IncidentRow; events: IncidentEventRow[] } | undefined> {
  const incident = await selectIncident(client, id);
  if (incident === undefined) return undefined;
  const events = await client.query<IncidentEventRow>('SELECT at, type, actor, source, detail FROM incident_events WHERE incident_id = $1 ORDER BY id', [id]);
  return { incident, events: events.rows };
}
