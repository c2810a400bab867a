// Verifies X-Slack-Signature: `v0=` + hex HMAC-SHA256 of `v0:<timestamp>:<raw body>` under the
// app's signing secret. Hand-written rather than Bolt's `verifySlackRequest` because that one only
// refuses old timestamps: a request dated in the future passes it, and a captured future-dated
// request could be replayed until its time came. Here either direction beyond 5 minutes is
// refused, and the digests are compared in constant time over equal lengths.

import { createHmac, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { SignatureError } from '../errors.ts';

export const SLACK_SIGNATURE_HEADER = 'x-slack-signature';
export const SLACK_TIMESTAMP_HEADER = 'x-slack-request-timestamp';
/** Slack's own rule: a request more than five minutes from our clock is refused. */
export const MAX_CLOCK_SKEW_SECONDS = 5 * 60;

export type SlackSignatureCheck =
  | { status: 'valid' }
  | { status: 'missing' }
  | { status: 'malformed'; reason: string }
  | { status: 'stale' }
  | { status: 'future' }
  | { status: 'mismatch' };

const VERSION = 'v0';
const SIGNATURE = /^v0=([0-9a-f]{64})$/i;
const TIMESTAMP = /^\d{1,12}$/;

function header(headers: IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name];
  const text = Array.isArray(value) ? value[0] : value;
  return text === undefined || text.trim() === '' ? undefined : text.trim();
}

/**
 * Checks the signature headers against `rawBody` (the bytes exactly as received). Throws a
 * SignatureError when no secret is configured: a setup mistake, not a bad request.
 */
export function verifySlackSignature(rawBody: Buffer, headers: IncomingHttpHeaders, secret: string, nowMs: number): SlackSignatureCheck {
  if (secret === '') throw new SignatureError('slack_signing_secret_missing', 'No Slack signing secret is configured; set slack.signing_secret to the Signing Secret under Basic Information of the Slack app.');
  const signature = header(headers, SLACK_SIGNATURE_HEADER);
  const timestamp = header(headers, SLACK_TIMESTAMP_HEADER);
  if (signature === undefined || timestamp === undefined) return { status: 'missing' };
  if (!TIMESTAMP.test(timestamp)) return { status: 'malformed', reason: `${SLACK_TIMESTAMP_HEADER} is not a number of seconds` };
  const match = SIGNATURE.exec(signature);
  if (match === null) return { status: 'malformed', reason: `${SLACK_SIGNATURE_HEADER} is not v0=<sha256 hex>` };
  const skew = Number(timestamp) - Math.floor(nowMs / 1000);
  if (skew < -MAX_CLOCK_SKEW_SECONDS) return { status: 'stale' };
  if (skew > MAX_CLOCK_SKEW_SECONDS) return { status: 'future' };
  const expected = digest(secret, timestamp, rawBody);
  return timingSafeEqual(expected, Buffer.from(match[1] as string, 'hex')) ? { status: 'valid' } : { status: 'mismatch' };
}

function digest(secret: string, timestamp: string, rawBody: Buffer | string): Buffer {
  return createHmac('sha256', secret).update(`${VERSION}:${timestamp}:`).update(rawBody).digest();
}

/** The two headers Slack would send for `rawBody` at `timestampSeconds` (for tests and tools). */
export function signSlackRequest(rawBody: Buffer | string, secret: string, timestampSeconds: number): Record<string, string> {
  const timestamp = String(timestampSeconds);
  return { [SLACK_TIMESTAMP_HEADER]: timestamp, [SLACK_SIGNATURE_HEADER]: `${VERSION}=${digest(secret, timestamp, rawBody).toString('hex')}` };
}
