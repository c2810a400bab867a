// The shape of every background loop (the outbox, the demo loader): a pass, then a pause, until
// stopped. A pass that throws never escapes: it is logged, counted in
// pipewarden_loop_errors_total{loop}, and the loop backs off exponentially with jitter before the
// next pass. `wake()` asks for a pass now rather than at the end of the pause.

import type { Logger } from 'pino';
import { errorMessage } from '../errors.ts';
import type { Metrics } from '../telemetry/metrics.ts';

export interface TimerLoopOptions {
  /** The `loop` label in logs and metrics. */
  name: string;
  logger: Logger;
  /** Pause between passes unless a pass asks for another. */
  intervalMs: number;
  metrics?: Pick<Metrics, 'loopErrors'> | undefined;
  random?: () => number;
}

const MAX_BACKOFF_MS = 5 * 60_000;

/** Exponential from `baseMs` in the number of failures, capped, with full jitter over its upper half. */
export function backoffMs(baseMs: number, failures: number, random: () => number = Math.random, maxMs = MAX_BACKOFF_MS): number {
  const ceiling = Math.min(maxMs, baseMs * 2 ** Math.min(Math.max(0, failures), 16));
  return Math.round(ceiling / 2 + (ceiling / 2) * random());
}

export abstract class TimerLoop {
  protected readonly logger: Logger;
  private readonly options: TimerLoopOptions;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private started = false;
  private wakeAgain = false;
  private failures = 0;

  protected constructor(options: TimerLoopOptions) {
    this.options = options;
    this.logger = options.logger.child({ loop: options.name });
  }

  /** Runs a pass at once, then keeps going; idempotent. */
  start(): void {
    if (this.started) return;
    this.started = true;
    this.schedule(0);
  }

  /** A pass soon rather than after the pause (or right after the pass in flight). */
  wake(): void {
    if (!this.started) return;
    if (this.running !== undefined) this.wakeAgain = true;
    else this.schedule(0);
  }

  /** Stops scheduling and waits for the pass in flight. */
  async stop(): Promise<void> {
    this.started = false;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    await this.running;
  }

  /** One pass. Resolves to the pause before the next (default: the interval); may throw. */
  protected abstract pass(): Promise<number | undefined>;

  private schedule(delayMs: number): void {
    if (!this.started) return;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.running = this.runPass().finally(() => {
        this.running = undefined;
      });
    }, delayMs);
  }

  private async runPass(): Promise<void> {
    let delayMs = this.options.intervalMs;
    try {
      delayMs = (await this.pass()) ?? delayMs;
      this.failures = 0;
    } catch (error) {
      this.failures += 1;
      this.options.metrics?.loopErrors.inc({ loop: this.options.name });
      delayMs = backoffMs(this.options.intervalMs, this.failures, this.options.random);
      this.logger.error({ err: error, failures: this.failures, retryInMs: delayMs }, `${this.options.name} pass failed: ${errorMessage(error)}`);
    }
    if (this.wakeAgain) delayMs = 0;
    this.wakeAgain = false;
    this.schedule(delayMs);
  }
}
