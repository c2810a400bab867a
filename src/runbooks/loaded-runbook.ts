// A runbook as the executor uses it: the validated definition with every CEL condition and
// `${…}` placeholder compiled once, at load time, so a mistake is reported by
// `pipewarden validate` with file:line instead of at 3am in the middle of a run.

import type { SourceLocation } from '../errors.ts';
import type { CompiledValue } from './bind-values.ts';
import type { CompiledExpression } from './cel.ts';
import type { RunbookDefinition, StepDefinition } from './runbook-schema.ts';

export interface LoadedStep {
  definition: StepDefinition;
  /** Where the step starts in its file, for messages: `runbooks/reload.yaml:12:5`. */
  location: SourceLocation;
  condition?: CompiledExpression;
  /** The step's `with`, compiled; bound against the run's variables right before it runs. */
  inputs: CompiledValue;
}

export interface LoadedRunbook {
  definition: RunbookDefinition;
  /** Absolute path of the YAML file. */
  file: string;
  /** The file's text: a run keeps its own copy, so a resumed run follows the version it started with. */
  source: string;
  /** sha256 of the file's text: a run records which version of the runbook it followed. */
  digest: string;
  when?: CompiledExpression;
  steps: LoadedStep[];
}
