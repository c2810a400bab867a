// One Airflow source, read and judged: what a sweep calls for each entry of `airflow:`.

import type { Finding } from '../../types.ts';
import { airflowEvaluationSettings } from './airflow-findings-common.ts';
import { evaluateAirflow } from './airflow-evaluator.ts';
import type { AirflowReader } from './airflow-reader.ts';

export interface AirflowCollection {
  source: string;
  /** The source's `owner`, for routing the DAGs' assets (`airflow:<dag_id>`). */
  owner: string | undefined;
  version: 2 | 3;
  findings: Finding[];
}

/** Reads one snapshot and evaluates it. Throws a WarehouseError/PipewardenError when the read fails. */
export async function collectAirflowFindings(reader: AirflowReader, now: Date): Promise<AirflowCollection> {
  const snapshot = await reader.read(now);
  return {
    source: reader.source.name,
    owner: reader.source.owner,
    version: snapshot.version,
    findings: evaluateAirflow(snapshot, airflowEvaluationSettings(reader.source), now),
  };
}
