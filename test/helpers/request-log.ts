// What the loopback test servers (PagerDuty, the recording HTTP server) share: a log of the
// requests they received that a test can wait on, and a queue of scripted answers.

/** Requests in the order they arrived; `waitFor` resolves once enough have come. */
export class RequestLog<R> {
  /** The same array for the log's whole life: servers hand it out as their `requests`. */
  readonly requests: R[] = [];
  private waiters: { count: number; resolve: () => void }[] = [];

  record(request: R): void {
    this.requests.push(request);
    this.waiters = this.waiters.filter((waiter) => {
      if (this.requests.length < waiter.count) return true;
      waiter.resolve();
      return false;
    });
  }

  clear(): void {
    this.requests.length = 0;
  }

  /** Resolves with the first `count` requests once they have been recorded (rejects after `timeoutMs`). */
  waitFor(count: number, timeoutMs: number): Promise<R[]> {
    if (this.requests.length >= count) return Promise.resolve(this.requests.slice(0, count));
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`expected ${count} requests within ${timeoutMs} ms, got ${this.requests.length}`)), timeoutMs);
      this.waiters.push({
        count,
        resolve: () => {
          clearTimeout(timer);
          resolve(this.requests.slice(0, count));
        },
      });
    });
  }
}

/** Answers given in order, then `fallback` for every request after the script runs out. */
export class ScriptedAnswers<A> {
  private script: A[] = [];
  private fallback: A;

  constructor(fallback: A) {
    this.fallback = fallback;
  }

  set(script: readonly A[], then: A): void {
    this.script = [...script];
    this.fallback = then;
  }

  next(): A {
    return this.script.shift() ?? this.fallback;
  }
}
