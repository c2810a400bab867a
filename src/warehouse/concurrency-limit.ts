// Callers queue here, not in pg-pool: pg-pool applies `connectionTimeoutMillis` to time spent
// waiting for a busy pool too, so twenty profiles queued behind two slow ones would be reported
// as an unreachable warehouse. Waiting for our turn is not a failure; failing to connect is.
// Hand-written because it is a dozen lines and the project adds no dependency for it.

export type ConcurrencyLimit = <T>(work: () => Promise<T>) => Promise<T>;

export function createConcurrencyLimit(max: number): ConcurrencyLimit {
  if (!Number.isInteger(max) || max < 1) throw new RangeError(`concurrency limit must be a positive integer, got ${max}`);
  let running = 0;
  const waiting: Array<() => void> = [];

  const release = () => {
    const next = waiting.shift();
    // Hand the slot straight to the next caller so a newcomer cannot overtake the queue.
    if (next) next();
    else running -= 1;
  };

  return async <T>(work: () => Promise<T>): Promise<T> => {
    if (running < max) running += 1;
    else await new Promise<void>((resolve) => waiting.push(resolve));
    try {
      return await work();
    } finally {
      release();
    }
  };
}
