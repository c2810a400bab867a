import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { SignatureError } from '../../src/errors.ts';
import { signPagerDutyBody, verifyPagerDutySignature } from '../../src/http/pagerduty-signature.ts';

const BODY = Buffer.from('{"event":{"id":"01DEN3F0YQ9D4GJMGT6P8Y9EZ3","event_type":"incident.acknowledged","note":"café ☕"}}', 'utf8');
const SECRET = 'whsec-current-0123456789abcdef';
const OLD_SECRET = 'whsec-previous-fedcba9876543210';

function v1(secret: string, body: Buffer = BODY): string {
  return `v1=${createHmac('sha256', secret).update(body).digest('hex')}`;
}

describe('verifyPagerDutySignature', () => {
  it('accepts the HMAC-SHA256 of the raw body (UTF-8 bytes included)', () => {
    expect(verifyPagerDutySignature(BODY, v1(SECRET), [SECRET])).toEqual({ status: 'valid' });
    expect(verifyPagerDutySignature(BODY, v1(SECRET).toUpperCase().replace('V1=', 'v1='), [SECRET])).toEqual({ status: 'valid' });
  });

  it('accepts any of several configured secrets during a rotation', () => {
    expect(verifyPagerDutySignature(BODY, v1(OLD_SECRET), [SECRET, OLD_SECRET])).toEqual({ status: 'valid' });
    expect(verifyPagerDutySignature(BODY, v1(SECRET), [OLD_SECRET, SECRET])).toEqual({ status: 'valid' });
  });

  it('accepts a header carrying several v1 entries when one matches, with or without spaces', () => {
    expect(verifyPagerDutySignature(BODY, `${v1('someone-else')},${v1(SECRET)}`, [SECRET])).toEqual({ status: 'valid' });
    expect(verifyPagerDutySignature(BODY, `${v1(SECRET)}, ${v1('someone-else')}`, [SECRET])).toEqual({ status: 'valid' });
    expect(verifyPagerDutySignature(BODY, `v2=abc,${v1(SECRET)}`, [SECRET])).toEqual({ status: 'valid' });
    expect(verifyPagerDutySignature(BODY, signPagerDutyBody(BODY, [OLD_SECRET, SECRET]), [SECRET])).toEqual({ status: 'valid' });
  });

  it('refuses a tampered body, a wrong secret and a signature for another body', () => {
    const tampered = Buffer.from(BODY.toString('utf8').replace('acknowledged', 'resolved'), 'utf8');
    expect(verifyPagerDutySignature(tampered, v1(SECRET), [SECRET])).toEqual({ status: 'mismatch' });
    expect(verifyPagerDutySignature(BODY, v1('guessed'), [SECRET])).toEqual({ status: 'mismatch' });
    expect(verifyPagerDutySignature(BODY, v1(SECRET, Buffer.from('{}')), [SECRET])).toEqual({ status: 'mismatch' });
  });

  it('reports a missing or empty header as missing', () => {
    expect(verifyPagerDutySignature(BODY, undefined, [SECRET])).toEqual({ status: 'missing' });
    expect(verifyPagerDutySignature(BODY, '  ', [SECRET])).toEqual({ status: 'missing' });
  });

  it('reports headers without a readable v1 entry as malformed, including hex of another length', () => {
    const hex = v1(SECRET).slice(3);
    for (const header of ['garbage', `sha256=${hex}`, 'v1=', `v1=${hex.slice(0, 62)}`, `v1=${hex}00`, `v1=${'z'.repeat(64)}`]) {
      expect(verifyPagerDutySignature(BODY, header, [SECRET])).toMatchObject({ status: 'malformed' });
    }
  });

  it('still finds the matching entry next to one of another length (never comparing unequal lengths)', () => {
    const hex = v1(SECRET).slice(3);
    expect(verifyPagerDutySignature(BODY, `v1=${hex.slice(0, 10)},v1=${hex}`, [SECRET])).toEqual({ status: 'valid' });
  });

  it('throws a SignatureError saying what to set when no secret is configured', () => {
    expect(() => verifyPagerDutySignature(BODY, v1(SECRET), [])).toThrow(SignatureError);
    expect(() => verifyPagerDutySignature(BODY, v1(''), [''])).toThrow(/pagerduty\.webhook_secrets/);
  });
});
