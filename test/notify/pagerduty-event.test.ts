import { describe, expect, it } from 'vitest';
import { DeliveryError } from '../../src/errors.ts';
import {
  buildPagerDutyEvent,
  fitDedupKey,
  MAX_DEDUP_KEY_LENGTH,
  MAX_EVENT_BYTES,
  MAX_SUMMARY_LENGTH,
  truncateText,
  type IncidentPage,
  type PagerDutySeverity,
} from '../../src/notify/pagerduty-event.ts';

function page(overrides: Partial<IncidentPage> = {}): IncidentPage {
  return {
    action: 'trigger',
    routingKey: 'R0UTING0KEY0FOR0THE0INVENTORY0T',
    incident: { id: '42', dedupKey: 'pipewarden-incident-42', summary: 'analytics.public.orders: 12 rows in the last hour, expected 800–1,100', severity: 'critical', detectedAt: new Date('2026-11-22T08:00:00Z') },
    check: { id: 'volume:analytics.public.orders', kind: 'volume' },
    asset: 'analytics.public.orders',
    owner: 'inventory-team',
    evidence: { observed: 12, expected: { low: 800, high: 1100 } },
    ...overrides,
  };
}

describe('buildPagerDutyEvent', () => {
  it('builds a trigger with the incident as PagerDuty fields and the evidence as custom details', () => {
    const event = buildPagerDutyEvent(page({ blastRadius: { summary: '1 exposure: CRM email sync (application, owner: crm)', downstream_exposures: 1 }, attempts: [{ runbook: 'reload', outcome: 'failed' }] }));
    expect(event).toEqual({
      routing_key: 'R0UTING0KEY0FOR0THE0INVENTORY0T',
      event_action: 'trigger',
      dedup_key: 'pipewarden-incident-42',
      client: 'pipewarden',
      payload: {
        summary: 'analytics.public.orders: 12 rows in the last hour, expected 800–1,100',
        source: 'analytics.public.orders',
        severity: 'critical',
        timestamp: '2026-11-22T08:00:00.000Z',
        component: 'volume',
        group: 'inventory-team',
        class: 'volume',
        custom_details: {
          incident: '42',
          check: 'volume:analytics.public.orders',
          asset: 'analytics.public.orders',
          owner: 'inventory-team',
          evidence: { observed: 12, expected: { low: 800, high: 1100 } },
          blast_radius: { summary: '1 exposure: CRM email sync (application, owner: crm)', downstream_exposures: 1 },
          runbook_attempts: [{ runbook: 'reload', outcome: 'failed' }],
        },
      },
    });
  });

  it('names the column as the component of a column check', () => {
    const event = buildPagerDutyEvent(page({ check: { id: 'distribution:analytics.public.orders:status', kind: 'distribution', column: 'status' } }));
    expect(event.payload).toMatchObject({ component: 'status', class: 'distribution' });
  });

  it('sends acknowledge and resolve with only the key, the action and the dedup key', () => {
    for (const action of ['acknowledge', 'resolve'] as const) {
      expect(buildPagerDutyEvent(page({ action }))).toEqual({ routing_key: 'R0UTING0KEY0FOR0THE0INVENTORY0T', event_action: action, dedup_key: 'pipewarden-incident-42' });
    }
  });

  it('accepts each PagerDuty severity and refuses anything else', () => {
    for (const severity of ['critical', 'error', 'warning', 'info'] as const) {
      expect(buildPagerDutyEvent(page({ incident: { ...page().incident, severity } })).payload?.severity).toBe(severity);
    }
    const wrong = page({ incident: { ...page().incident, severity: 'fail' as PagerDutySeverity } });
    expect(() => buildPagerDutyEvent(wrong)).toThrow(DeliveryError);
  });

  it('cuts a summary over 1024 characters with an ellipsis and keeps shorter ones whole', () => {
    const long = buildPagerDutyEvent(page({ incident: { ...page().incident, summary: 'x'.repeat(5000) } }));
    expect(long.payload?.summary).toHaveLength(MAX_SUMMARY_LENGTH);
    expect(long.payload?.summary.endsWith('x…')).toBe(true);
    const exact = 'y'.repeat(MAX_SUMMARY_LENGTH);
    expect(buildPagerDutyEvent(page({ incident: { ...page().incident, summary: exact } })).payload?.summary).toBe(exact);
  });

  it('never cuts a summary inside a character', () => {
    const text = `${'a'.repeat(MAX_SUMMARY_LENGTH - 2)}🚨🚨`;
    const cut = truncateText(text, MAX_SUMMARY_LENGTH);
    expect(cut).toBe(`${'a'.repeat(MAX_SUMMARY_LENGTH - 2)}…`);
    expect(cut.length).toBeLessThanOrEqual(MAX_SUMMARY_LENGTH);
  });

  it('fits a dedup key over 255 characters as a readable prefix plus a stable hash', () => {
    const key = `volume:${'analytics.public.very_long_table_name_'.repeat(10)}`;
    const fitted = fitDedupKey(key);
    expect(fitted).toHaveLength(MAX_DEDUP_KEY_LENGTH);
    expect(fitted.startsWith('volume:analytics.public.very_long_table_name_')).toBe(true);
    expect(fitDedupKey(key)).toBe(fitted);
    expect(fitDedupKey(`${key}x`)).not.toBe(fitted);
    expect(fitDedupKey('a'.repeat(255))).toBe('a'.repeat(255));
    expect(buildPagerDutyEvent(page({ action: 'resolve', incident: { ...page().incident, dedupKey: key } })).dedup_key).toBe(fitted);
  });

  it('adds http(s) links with their text and refuses other schemes', () => {
    const event = buildPagerDutyEvent(page({ links: [{ href: 'https://grafana.example.com/d/pipewarden?var-asset=orders', text: 'Grafana' }, { href: 'http://runbooks.local/reload' }] }));
    expect(event.links).toEqual([{ href: 'https://grafana.example.com/d/pipewarden?var-asset=orders', text: 'Grafana' }, { href: 'http://runbooks.local/reload' }]);
    expect(buildPagerDutyEvent(page()).links).toBeUndefined();
    expect(() => buildPagerDutyEvent(page({ links: [{ href: 'javascript:alert(1)' }] }))).toThrow(/not an http\(s\) URL/);
  });

  it('replaces evidence too large for PagerDuty by a pointer to the incident, keeping the page', () => {
    const event = buildPagerDutyEvent(page({ evidence: { sample: 'z'.repeat(MAX_EVENT_BYTES) } }));
    expect(Buffer.byteLength(JSON.stringify(event))).toBeLessThan(MAX_EVENT_BYTES);
    expect(event.payload?.custom_details).toEqual({ incident: '42', evidence_omitted: expect.stringMatching(/too large for PagerDuty.*incident 42/) });
    expect(event.payload?.summary).toBe(page().incident.summary);
  });

  it('refuses an empty routing key, dedup key or summary without naming the routing key', () => {
    expect(() => buildPagerDutyEvent(page({ routingKey: ' ' }))).toThrow(/routing key is empty/);
    expect(() => buildPagerDutyEvent(page({ incident: { ...page().incident, dedupKey: '' } }))).toThrow(/dedup key is empty/);
    let message = '';
    try {
      buildPagerDutyEvent(page({ incident: { ...page().incident, summary: '  ' } }));
    } catch (error) {
      message = (error as Error).message;
      expect((error as DeliveryError).code).toBe('pagerduty_event_invalid');
    }
    expect(message).toMatch(/empty summary/);
    expect(message).not.toContain('R0UTING0KEY');
  });
});
