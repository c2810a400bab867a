import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { WarehouseError } from '../../src/errors.ts';
import { createLogger, scrubText } from '../../src/telemetry/logger.ts';

function capture(level = 'debug'): { logger: ReturnType<typeof createLogger>; lines: () => Record<string, unknown>[]; text: () => string } {
  const stream = new PassThrough();
  let text = '';
  stream.on('data', (chunk: Buffer) => (text += chunk.toString()));
  const logger = createLogger({ level, destination: stream });
  return {
    logger,
    text: () => text,
    lines: () => text.trim().split('\n').filter(Boolean).map((line) => JSON.parse(line) as Record<string, unknown>),
  };
}

const SECRET = 's3cr3t-Value-42';

describe('createLogger', () => {
  it('writes JSON lines with a level label, time and message', () => {
    const { logger, lines } = capture();
    logger.info({ table: 'orders' }, 'swept');
    const [line] = lines();
    expect(line).toMatchObject({ level: 'info', msg: 'swept', table: 'orders', service: 'pipewarden' });
    expect(typeof line?.time).toBe('string');
  });

  it('respects the level', () => {
    const { logger, lines } = capture('warn');
    logger.info('hidden');
    logger.warn('shown');
    expect(lines().map((line) => line.msg)).toEqual(['shown']);
  });

  it('never writes a secret, wherever it sits', () => {
    const { logger, text, lines } = capture();
    const url = `postgres://reader:${SECRET}@db.internal:5432/analytics`;
    logger.info(
      {
        config: {
          warehouses: { analytics: { type: 'postgres', url } },
          state: { url: `postgresql://pw:${SECRET}@state/pipewarden?sslmode=require` },
          slack: { bot_token: `xoxb-${SECRET}`, signing_secret: SECRET, app_token: SECRET },
          pagerduty: { routing_key: SECRET, webhook_secrets: [SECRET] },
          owners: { inventory: { pagerduty: 'kept', slack: '#inventory' } },
        },
        headers: { authorization: `Bearer ${SECRET}`, cookie: `session=${SECRET}`, 'content-type': 'application/json' },
        password: SECRET,
        nested: { deeper: { still: { password: SECRET, link: `https://api.example.com/x?token=${SECRET}&page=2` } } },
        err: new WarehouseError('warehouse_unreachable', 'analytics', `connect to ${url} failed`),
      },
      `connecting to ${url}`,
    );
    logger.child({ dsn: url }).warn('%s failed', url);
    expect(text()).not.toContain(SECRET);
    const [first, second] = lines();
    expect(first?.msg).toBe('connecting to postgres://reader:[Redacted]@db.internal:5432/analytics');
    expect(first).toMatchObject({
      config: { slack: { bot_token: '[Redacted]' }, pagerduty: { routing_key: '[Redacted]' }, owners: { inventory: { slack: '#inventory' } } },
      headers: { authorization: '[Redacted]', 'content-type': 'application/json' },
      err: { type: 'WarehouseError', code: 'warehouse_unreachable', warehouse: 'analytics' },
    });
    expect(second).toMatchObject({ dsn: 'postgres://reader:[Redacted]@db.internal:5432/analytics', msg: 'postgres://reader:[Redacted]@db.internal:5432/analytics failed' });
  });

  it('keeps URLs without credentials as they are', () => {
    expect(scrubText('http://127.0.0.1:9464/metrics')).toBe('http://127.0.0.1:9464/metrics');
    expect(scrubText('postgres://reader@db/analytics')).toBe('postgres://reader@db/analytics');
  });
});
