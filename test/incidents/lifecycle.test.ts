// The incident lifecycle of one check, table-driven: a sequence of evaluations in, the events
// each one causes out. One evaluation per minute unless a row says otherwise.

import { describe, expect, it } from 'vitest';
import {
  acknowledgeIncident,
  advanceIncident,
  NEW_TRACKING,
  resolveIncidentByHand,
  type CheckTracking,
  type LifecycleEvent,
  type LifecycleSettings,
} from '../../src/incidents/lifecycle.ts';
import type { FindingStatus } from '../../src/types.ts';

const MINUTE = 60_000;

const SETTINGS: LifecycleSettings = {
  pendingEvaluations: { warn: 2, error: 3, fail: 1 },
  resolveAfter: 2,
  flapWindowMs: 30 * MINUTE,
  flapMaxChanges: 4,
};

/** Runs the statuses one minute apart; returns each step's events in a compact form and the final tracking. */
function play(statuses: readonly FindingStatus[], settings: LifecycleSettings = SETTINGS, start: CheckTracking = NEW_TRACKING) {
  let tracking = start;
  const steps: string[] = [];
  statuses.forEach((status, index) => {
    const step = advanceIncident(tracking, status, settings, index * MINUTE);
    tracking = step.tracking;
    steps.push(step.events.filter((event) => event.type !== 'status_changed').map(label).join(',') || '-');
  });
  return { steps, tracking };
}

function label(event: LifecycleEvent): string {
  switch (event.type) {
    case 'opened':
      return `open:${event.severity}`;
    case 'severity_raised':
      return `raise:${event.to}`;
    case 'flapping':
      return `flapping:${event.severity}`;
    default:
      return event.type;
  }
}

const cases: Array<{ name: string; statuses: FindingStatus[]; expected: string[]; settings?: Partial<LifecycleSettings> }> = [
  { name: 'ok stays quiet', statuses: ['ok', 'ok', 'ok'], expected: ['-', '-', '-'] },
  { name: 'a failing evaluation opens at once when fail needs one', statuses: ['ok', 'fail'], expected: ['-', 'open:critical'] },
  { name: 'warnings open only after their pending count', statuses: ['warn', 'warn', 'warn'], expected: ['-', 'open:warning', '-'] },
  { name: 'a single warning between oks never opens', statuses: ['warn', 'ok', 'warn', 'ok'], expected: ['-', '-', '-', '-'] },
  { name: 'could-not-measure needs three in a row', statuses: ['error', 'error', 'ok', 'error', 'error', 'error'], expected: ['-', '-', '-', '-', '-', 'open:error'] },
  { name: 'could-not-measure is not a data warning', statuses: ['error', 'warn', 'error', 'warn'], expected: ['-', '-', '-', '-'] },
  { name: 'an error incident rises to critical when the data fails', statuses: ['error', 'error', 'error', 'fail'], expected: ['-', '-', 'open:error', 'raise:critical'] },
  { name: 'a warning incident rises to critical when the check fails', statuses: ['warn', 'warn', 'fail', 'warn'], expected: ['-', 'open:warning', 'raise:critical', '-'] },
  { name: 'fail counts toward the warning streak too', statuses: ['fail', 'ok', 'warn', 'fail'], settings: { pendingEvaluations: { warn: 2, error: 3, fail: 2 } }, expected: ['-', '-', '-', 'open:warning'] },
  { name: 'severity never falls while open', statuses: ['fail', 'warn', 'warn'], expected: ['open:critical', '-', '-'] },
  { name: 'resolves after two oks in a row, not one', statuses: ['fail', 'ok', 'fail', 'ok', 'ok'], expected: ['open:critical', '-', '-', '-', 'resolved'] },
  { name: 'opens again after a resolve', statuses: ['fail', 'ok', 'ok', 'fail'], expected: ['open:critical', '-', 'resolved', 'open:critical'] },
  {
    name: 'a flapping check gets one notice, not a storm',
    statuses: ['fail', 'ok', 'ok', 'fail', 'ok', 'ok', 'fail', 'ok', 'ok', 'fail', 'ok', 'ok', 'fail', 'ok', 'ok'],
    // Open, resolve, open: three changes in the window; the fourth (a resolve) would be one too
    // many, so the incident stays open as flapping and everything after is quiet.
    expected: ['open:critical', '-', 'resolved', 'open:critical', '-', 'flapping:critical', '-', '-', '-', '-', '-', '-', '-', '-', '-'],
    settings: { flapMaxChanges: 3 },
  },
];

describe('advanceIncident', () => {
  it.each(cases)('$name', ({ statuses, expected, settings }) => {
    expect(play(statuses, { ...SETTINGS, ...settings }).steps).toEqual(expected);
  });

  it('resolves a flapping incident only after a whole flap window of oks', () => {
    const settings = { ...SETTINGS, flapMaxChanges: 2, flapWindowMs: 10 * MINUTE };
    const flapping = play(['fail', 'ok', 'ok', 'fail', 'ok', 'ok'], settings);
    expect(flapping.steps).toEqual(['open:critical', '-', 'resolved', 'flapping:critical', '-', '-']);
    expect(flapping.tracking.incident).toMatchObject({ flapping: true, status: 'open' });
    // ok since minute 4: still flapping at minute 13, resolved at minute 14 (ten minutes of oks).
    let tracking = flapping.tracking;
    const events: string[] = [];
    for (let minute = 6; minute <= 14; minute += 1) {
      const step = advanceIncident(tracking, 'ok', settings, minute * MINUTE);
      tracking = step.tracking;
      events.push(step.events.map(label).join(',') || '-');
    }
    expect(events).toEqual(['-', '-', '-', '-', '-', '-', '-', '-', 'resolved']);
    expect(tracking.incident).toBeUndefined();
  });

  it('keeps quiet about failures while flapping but still announces a rise to critical', () => {
    const settings = { ...SETTINGS, flapMaxChanges: 2, pendingEvaluations: { warn: 1, error: 3, fail: 1 } };
    const { steps } = play(['warn', 'ok', 'ok', 'warn', 'ok', 'ok', 'warn', 'warn', 'fail'], settings);
    expect(steps).toEqual(['open:warning', '-', 'resolved', 'flapping:warning', '-', '-', '-', '-', 'raise:critical']);
  });

  it('opens straight into flapping when the check keeps coming back within the window', () => {
    const settings = { ...SETTINGS, flapMaxChanges: 2, resolveAfter: 1 };
    const { steps } = play(['fail', 'ok', 'fail'], settings);
    expect(steps).toEqual(['open:critical', 'resolved', 'flapping:critical']);
  });

  it('forgets changes older than the flap window', () => {
    const settings = { ...SETTINGS, flapMaxChanges: 2, resolveAfter: 1, flapWindowMs: 2 * MINUTE };
    const { steps } = play(['fail', 'ok', 'ok', 'ok', 'fail', 'ok'], settings);
    expect(steps).toEqual(['open:critical', 'resolved', '-', '-', 'open:critical', 'resolved']);
  });

  it('reminds about an open, unacknowledged incident every interval, and not once acknowledged', () => {
    const settings = { ...SETTINGS, renotifyIntervalMs: 3 * MINUTE };
    const open = play(['fail', 'fail', 'fail', 'fail', 'fail', 'fail', 'fail'], settings);
    expect(open.steps).toEqual(['open:critical', '-', '-', 'reminded', '-', '-', 'reminded']);
    const acknowledged = acknowledgeIncident(open.tracking);
    expect(acknowledged.incident?.status).toBe('acknowledged');
    const later = advanceIncident(acknowledged, 'fail', settings, 20 * MINUTE);
    expect(later.events).toEqual([]);
  });

  it('records status changes of an open incident for its timeline', () => {
    const opened = advanceIncident(NEW_TRACKING, 'fail', SETTINGS, 0).tracking;
    expect(advanceIncident(opened, 'warn', SETTINGS, MINUTE).events).toEqual([{ type: 'status_changed', from: 'fail', to: 'warn' }]);
    expect(advanceIncident(NEW_TRACKING, 'warn', SETTINGS, 0).events).toEqual([]);
  });

  it('never changes the tracking it was given', () => {
    const opened = advanceIncident(NEW_TRACKING, 'fail', { ...SETTINGS, renotifyIntervalMs: MINUTE }, 0).tracking;
    const frozen = structuredClone(opened);
    advanceIncident(opened, 'fail', { ...SETTINGS, renotifyIntervalMs: MINUTE }, 5 * MINUTE);
    advanceIncident(opened, 'ok', SETTINGS, 5 * MINUTE);
    expect(opened).toEqual(frozen);
    expect(NEW_TRACKING).toEqual({ streaks: { warn: 0, error: 0, fail: 0 }, okStreak: 0, changes: [] });
  });
});

describe('resolveIncidentByHand', () => {
  it('closes the incident and restarts the pending period', () => {
    const settings = { ...SETTINGS, pendingEvaluations: { warn: 2, error: 3, fail: 2 } };
    const open = play(['fail', 'fail'], settings);
    expect(open.steps).toEqual(['-', 'open:critical']);
    const resolved = resolveIncidentByHand(open.tracking, 2 * MINUTE);
    expect(resolved.incident).toBeUndefined();
    const again = play(['fail', 'fail'], settings, resolved);
    expect(again.steps).toEqual(['-', 'open:critical']);
  });

  it('changes nothing without an incident', () => {
    expect(resolveIncidentByHand(NEW_TRACKING, 0)).toBe(NEW_TRACKING);
    expect(acknowledgeIncident(NEW_TRACKING)).toBe(NEW_TRACKING);
  });
});

describe('steady checks', () => {
  it('leave their tracking unchanged, so the store has nothing to write', () => {
    const settings = { ...SETTINGS, renotifyIntervalMs: undefined };
    const ok = play(['ok', 'ok', 'ok'], settings).tracking;
    expect(advanceIncident(ok, 'ok', settings, 3 * MINUTE).tracking).toEqual(ok);
    const failing = play(['fail', 'fail', 'fail'], settings).tracking;
    expect(advanceIncident(failing, 'fail', settings, 3 * MINUTE).tracking).toEqual(failing);
  });
});
