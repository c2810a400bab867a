// One base error with a stable `code` so callers, logs and metrics can tell failures apart
// without parsing messages; subclasses only exist where a caller handles that family differently.

export class PipewardenError extends Error {
  readonly code: string;

  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}

/** Where in a YAML file a problem sits, so messages can say file:line:column. */
export interface SourceLocation {
  file: string;
  line: number;
  column: number;
}

/** One problem found in a config or runbook file. */
export interface ConfigProblem {
  location: SourceLocation;
  /** Path inside the document, e.g. `monitors[2].volume.bucket`. */
  path: string;
  message: string;
}

export function formatProblem(problem: ConfigProblem): string {
  const { file, line, column } = problem.location;
  const where = problem.path ? `${problem.path}: ` : '';
  return `${file}:${line}:${column}: ${where}${problem.message}`;
}

/** A config file that cannot be used; carries every problem found, not just the first. */
export class ConfigError extends PipewardenError {
  readonly problems: readonly ConfigProblem[];

  constructor(problems: readonly ConfigProblem[], options?: { cause?: unknown }) {
    super('config_invalid', problems.map(formatProblem).join('\n'), options);
    this.problems = problems;
  }
}

export type WarehouseErrorCode =
  | 'warehouse_unreachable'
  | 'warehouse_auth'
  | 'warehouse_timeout'
  | 'warehouse_missing_object'
  | 'warehouse_query';

/** A warehouse that could not answer: unreachable, refused, too slow, or a query it rejected. */
export class WarehouseError extends PipewardenError {
  readonly warehouse: string;

  constructor(code: WarehouseErrorCode, warehouse: string, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
    this.warehouse = warehouse;
  }
}

/** The state database is unreachable, ahead of this code, or otherwise unusable. */
export class StateError extends PipewardenError {}

export class RunbookError extends PipewardenError {}

export class DeliveryError extends PipewardenError {}

export class SignatureError extends PipewardenError {}

export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
