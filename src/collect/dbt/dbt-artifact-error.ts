// A dbt artifact pipewarden cannot use. It names the file and the JSON path of what is wrong, so
// a person can open the file at the right place; the reader turns it into a per-file problem
// instead of letting one bad artifact hide the others.

import { PipewardenError } from '../../errors.ts';

export class DbtArtifactError extends PipewardenError {
  readonly file: string;
  /** JSON path of the offending value, `$` for the whole document. */
  readonly path: string;

  constructor(file: string, path: string, message: string, options?: { cause?: unknown }) {
    super('dbt_artifact_invalid', `${file}: ${path}: ${message}`, options);
    this.file = file;
    this.path = path;
  }
}
