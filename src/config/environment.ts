// The only module that reads the process environment. Everything else receives the snapshot
// taken here, so tests pass their own environment and nothing reads secrets behind one's back.

export type Environment = Readonly<Record<string, string | undefined>>;

export function readEnvironment(): Environment {
  return Object.freeze({ ...process.env });
}
