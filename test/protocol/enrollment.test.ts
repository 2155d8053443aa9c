import { generateKeyPairSync } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { enrollmentQrPrefix, parseEnrollmentQr, signEnrollmentQr, verifyEnrollmentQr, type EnrollmentBody } from '../../protocol/enrollment.js';
import { keyId } from '../../protocol/keys.js';

const { privateKey, publicKey } = generateKeyPairSync('ed25519');
const body: EnrollmentBody = {
  v: 1,
  deployment: keyId(publicKey),
  url: 'mqtts://central.hue.example:8883',
  checkpoint: '10000000000008',
  token: 'q0H6bN3u1xZK4Yf8pP2sWw',
  expiresAt: 1_800_000_000,
};

describe('enrollment QR text', () => {
  it('round-trips: what is signed parses back to the same body and verifies with the authority key only', () => {
    const text = signEnrollmentQr(body, privateKey);
    expect(text.startsWith(enrollmentQrPrefix)).toBe(true);
    expect(text).toMatch(/^QGE1\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/); // nothing a keyboard layout could remap
    const parsed = parseEnrollmentQr(text);
    expect(parsed.ok).toBe(true);
    if (!parsed.ok) return;
    expect(parsed.qr.body).toEqual(body);
    expect(parsed.qr.text).toBe(text);
    expect(verifyEnrollmentQr(parsed.qr, publicKey)).toBe(true);
    expect(verifyEnrollmentQr(parsed.qr, generateKeyPairSync('ed25519').publicKey)).toBe(false);
  });

  it('refuses what is not one, naming the problem and never repeating the token', () => {
    const text = signEnrollmentQr(body, privateKey);
    const [encoded, signature] = text.slice(5).split('.') as [string, string];
    const cases: Array<[string, RegExp]> = [
      ['046190001234|123456789|Trần Thị Mai|01011990|Nữ|Huế|01012021', /no QGE1\. prefix/],
      [`${enrollmentQrPrefix}${encoded}`, /two dot-separated parts/],
      [`${enrollmentQrPrefix}${encoded}=.${signature}`, /canonical/],
      [`${enrollmentQrPrefix}${encoded}.${signature.slice(0, -2)}`, /64 bytes/],
      [`${enrollmentQrPrefix}${Buffer.from('{not json').toString('base64url')}.${signature}`, /not JSON/],
      [`${enrollmentQrPrefix}${Buffer.from(JSON.stringify({ ...body, checkpoint: '10000000000009' })).toString('base64url')}.${signature}`, /checkpoint/],
      [`${enrollmentQrPrefix}${'A'.repeat(2000)}.${signature}`, /longer than/],
    ];
    for (const [input, detail] of cases) {
      const parsed = parseEnrollmentQr(input);
      expect(parsed.ok, input.slice(0, 40)).toBe(false);
      if (parsed.ok) continue;
      expect(parsed.detail).toMatch(detail);
      expect(parsed.detail).not.toContain(body.token);
    }
  });

  it('any single changed character either fails to parse or fails to verify (fast-check, 2,000 cases)', () => {
    const text = signEnrollmentQr(body, privateKey);
    fc.assert(
      fc.property(fc.nat(text.length - 1), fc.integer({ min: 0x20, max: 0x7e }), (index, code) => {
        const changed = `${text.slice(0, index)}${String.fromCharCode(code)}${text.slice(index + 1)}`;
        fc.pre(changed !== text);
        const parsed = parseEnrollmentQr(changed);
        return !parsed.ok || !verifyEnrollmentQr(parsed.qr, publicKey);
      }),
      { numRuns: 2000 },
    );
  });
});
