// Verifies X-PagerDuty-Signature on a webhooks v3 delivery. PagerDuty signs the raw body with
// HMAC-SHA256 once per subscription secret and sends every signature as a comma-separated
// `v1=<hex>` list; pipewarden may itself hold several secrets while one is being rotated. The
// request is authentic when any configured secret's HMAC equals any v1 entry. Comparison is
// constant-time over equal-length digests; an entry of another length never reaches it.

import { createHmac, timingSafeEqual } from 'node:crypto';
import { SignatureError } from '../errors.ts';

export const PAGERDUTY_SIGNATURE_HEADER = 'x-pagerduty-signature';

export type SignatureCheck =
  | { status: 'valid' }
  /** No header, or an empty one. */
  | { status: 'missing' }
  /** A header with no readable `v1=<64 hex>` entry. */
  | { status: 'malformed'; reason: string }
  /** Well-formed, but no entry matches any configured secret. */
  | { status: 'mismatch' };

const V1_PREFIX = 'v1=';
const SHA256_HEX = /^[0-9a-f]{64}$/i;

/**
 * Checks `header` against `rawBody` (the bytes exactly as received) for each secret. Throws a
 * SignatureError when no secret is configured: that is a setup mistake, not a bad request.
 */
export function verifyPagerDutySignature(rawBody: Buffer, header: string | readonly string[] | undefined, secrets: readonly string[]): SignatureCheck {
  const usable = secrets.filter((secret) => secret !== '');
  if (usable.length === 0) {
    throw new SignatureError('pagerduty_webhook_secret_missing', 'No PagerDuty webhook secret is configured; set pagerduty.webhook_secrets to the secret of the webhook subscription.');
  }
  const text = Array.isArray(header) ? header.join(',') : (header as string | undefined);
  if (text === undefined || text.trim() === '') return { status: 'missing' };
  const signatures = v1Signatures(text);
  if (signatures.length === 0) return { status: 'malformed', reason: 'no v1=<sha256 hex> entry in X-PagerDuty-Signature' };
  const expected = usable.map((secret) => createHmac('sha256', secret).update(rawBody).digest());
  // Every pair is compared, so the time taken does not depend on which one matched.
  let matched = false;
  for (const digest of expected) {
    for (const signature of signatures) matched = timingSafeEqual(digest, signature) || matched;
  }
  return matched ? { status: 'valid' } : { status: 'mismatch' };
}

/** The v1 entries as 32-byte digests; other versions and unreadable entries are skipped. */
function v1Signatures(header: string): Buffer[] {
  return header
    .split(',')
    .map((entry) => entry.trim())
    .filter((entry) => entry.startsWith(V1_PREFIX))
    .map((entry) => entry.slice(V1_PREFIX.length))
    .filter((hex) => SHA256_HEX.test(hex))
    .map((hex) => Buffer.from(hex, 'hex'));
}

/** The header value for `rawBody` signed with each secret (what PagerDuty sends; for tests and tools). */
export function signPagerDutyBody(rawBody: Buffer | string, secrets: readonly string[]): string {
  return secrets.map((secret) => `${V1_PREFIX}${createHmac('sha256', secret).update(rawBody).digest('hex')}`).join(',');
}
