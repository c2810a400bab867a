// A sliding one-minute budget per key: PagerDuty accepts about 120 events a minute per routing
// key and answers 429 beyond that. Holding back before the limit keeps a burst of incidents
// from spending its retries on 429s; an event held back is retried when the window has room.

export class RateWindow {
  private readonly limit: number;
  private readonly windowMs: number;
  private readonly sent = new Map<string, number[]>();

  constructor(limit: number, windowMs = 60_000) {
    this.limit = limit;
    this.windowMs = windowMs;
  }

  /** Takes one unit for `key` at `now` and resolves 0, or says how long until one is free. */
  take(key: string, now: number): number {
    const recent = (this.sent.get(key) ?? []).filter((at) => at > now - this.windowMs);
    if (recent.length >= this.limit) {
      this.sent.set(key, recent);
      return (recent[0] as number) + this.windowMs - now;
    }
    recent.push(now);
    this.sent.set(key, recent);
    return 0;
  }
}
