// Where the demo's config lives, found from this module rather than the working directory so
// `pipewarden demo` works from anywhere once installed. Both src/demo/ and the built dist/demo/
// sit two folders below the package root, next to examples/.

import { fileURLToPath } from 'node:url';

/** Absolute path of examples/demo/pipewarden.yaml in this package. */
export function demoConfigPath(): string {
  return fileURLToPath(new URL('../../examples/demo/pipewarden.yaml', import.meta.url));
}

/** The variable the demo config reads its warehouse URL from; the demo command sets it. */
export const DEMO_WAREHOUSE_URL_VARIABLE = 'DEMO_WAREHOUSE_URL';
