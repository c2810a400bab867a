import { describe, expect, it } from 'vitest';
import { isDestructive, isIdempotent, StepFailedError } from '../../../src/runbooks/action.ts';
import { waitAction } from '../../../src/runbooks/actions/wait.ts';
import { testActionContext } from '../../helpers/action-context.ts';

function startedAgo(ms: number): Date {
  return new Date(Date.now() - ms);
}

describe('wait action', () => {
  it('waits the whole duration when the step has just started', async () => {
    const started = Date.now();
    const outputs = await waitAction.run(waitAction.input.parse({ for: '300ms' }), testActionContext({ overrides: { stepStartedAt: new Date() } }));
    expect(Date.now() - started).toBeGreaterThanOrEqual(290);
    expect(outputs.waited_ms).toBeGreaterThanOrEqual(300);
  }, 5_000);

  it('waits only what is left when a resumed step started earlier', async () => {
    const started = Date.now();
    const outputs = await waitAction.run(waitAction.input.parse({ for: '1m' }), testActionContext({ overrides: { stepStartedAt: startedAgo(59_800) } }));
    const took = Date.now() - started;
    expect(took).toBeGreaterThanOrEqual(150);
    expect(took).toBeLessThan(2_000);
    expect(outputs.waited_ms).toBeGreaterThanOrEqual(60_000);
  }, 5_000);

  it('returns at once when the wait was already over before a restart', async () => {
    const started = Date.now();
    const outputs = await waitAction.run(waitAction.input.parse({ for: '1m' }), testActionContext({ overrides: { stepStartedAt: startedAgo(120_000) } }));
    expect(Date.now() - started).toBeLessThan(100);
    expect(outputs.waited_ms).toBeGreaterThanOrEqual(120_000);
  }, 5_000);

  it('fails promptly as interrupted when the step is aborted', async () => {
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 50);
    const started = Date.now();
    const error: unknown = await waitAction.run(waitAction.input.parse({ for: '1h' }), testActionContext({ signal: controller.signal })).catch((caught: unknown) => caught);
    expect(Date.now() - started).toBeLessThan(1_000);
    expect(error).toBeInstanceOf(StepFailedError);
    expect((error as StepFailedError).message).toMatch(/^interrupted while waiting 1h/);
    expect((error as StepFailedError).outputs.waited_ms).toEqual(expect.any(Number));
  }, 5_000);

  it('is idempotent, not destructive, and needs a duration', () => {
    const input = waitAction.input.parse({ for: '10m' });
    expect(input).toEqual({ for: 600_000 });
    expect([isIdempotent(waitAction, input), isDestructive(waitAction, input)]).toEqual([true, false]);
    expect(waitAction.input.safeParse({}).success).toBe(false);
    expect(waitAction.input.safeParse({ for: 'soon' }).success).toBe(false);
  });
});
