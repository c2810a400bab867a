// A path inside a YAML document (`monitors[2].volume.bucket`), the shared language between zod
// issues, semantic rules and source positions.

export type DocumentPath = readonly (string | number)[];

const PLAIN_KEY = /^[A-Za-z_][A-Za-z0-9_-]*$/;

/** `['monitors', 2, 'volume', 'bucket']` → `monitors[2].volume.bucket`; odd keys are quoted. */
export function formatPath(path: DocumentPath): string {
  let text = '';
  for (const segment of path) {
    if (typeof segment === 'number') text += `[${segment}]`;
    else if (PLAIN_KEY.test(segment)) text += text === '' ? segment : `.${segment}`;
    else text += `[${JSON.stringify(segment)}]`;
  }
  return text;
}

/** The value at `path` in plain data, or undefined when any step is missing. */
export function valueAtPath(data: unknown, path: DocumentPath): unknown {
  let current = data;
  for (const segment of path) {
    if (current === null || typeof current !== 'object') return undefined;
    current = (current as Record<string | number, unknown>)[segment];
  }
  return current;
}
