import { describe, it, expect } from 'vitest';
import { generateSecret, hashScrypt, hashSecret, parseSecretHash, SecretHashError, verifyAgainstDecoy, verifySecret } from '../../../broker/auth/secrets.js';

describe('terminal secrets', () => {
  it('generates url-safe secrets of at least 128 random bits, all different', () => {
    const secrets = new Set(Array.from({ length: 50 }, generateSecret));
    expect(secrets.size).toBe(50);
    for (const secret of secrets) {
      expect(secret).toMatch(/^[A-Za-z0-9_-]+$/);
      expect(Buffer.from(secret, 'base64url').length * 8).toBeGreaterThanOrEqual(128);
    }
  });

  it('stores hmac-sha256$salt$hash, salted, and never the secret', async () => {
    const secret = generateSecret();
    const stored = await hashSecret(secret);
    expect(stored).toMatch(/^hmac-sha256\$[A-Za-z0-9+/]+=*\$[A-Za-z0-9+/]+=*$/);
    expect(stored).not.toContain(secret);
    expect(await hashSecret(secret)).not.toBe(stored);
  });

  it('verifies the right secret and refuses a wrong one', async () => {
    const secret = generateSecret();
    const stored = await hashSecret(secret);
    expect(await verifySecret(secret, stored)).toBe(true);
    expect(await verifySecret(`${secret}x`, stored)).toBe(false);
    expect(await verifySecret('', stored)).toBe(false);
    // The salt keys the hash: the same secret under another row's salt does not match.
    const other = parseSecretHash(await hashSecret(secret));
    const mine = parseSecretHash(stored);
    expect(`hmac-sha256$${other.salt.toString('base64')}$${mine.hash.toString('base64')}`).not.toBe(stored);
    expect(await verifySecret(secret, `hmac-sha256$${other.salt.toString('base64')}$${mine.hash.toString('base64')}`)).toBe(false);
  });

  it('still admits a terminal whose secret was stored as scrypt before, and refuses a wrong one', async () => {
    const secret = generateSecret();
    const legacy = await hashScrypt(secret, { N: 16_384, r: 8, p: 1 });
    expect(legacy).toMatch(/^scrypt\$16384\$8\$1\$[A-Za-z0-9+/]+=*\$[A-Za-z0-9+/]+=*$/);
    expect(await verifySecret(secret, legacy)).toBe(true);
    expect(await verifySecret(`${secret}x`, legacy)).toBe(false);
  });

  it('checks a secret with no stored hash too, and refuses it', async () => {
    await expect(verifyAgainstDecoy(generateSecret())).resolves.toBe(false);
  });

  it.each([
    ['neither format', 'bcrypt$10$abc'],
    ['N not a power of two', 'scrypt$1000$8$1$c2FsdHNhbHQ=$aGFzaGhhc2hoYXNoaGFzaA=='],
    ['N absurdly large', `scrypt$${2 ** 24}$8$1$c2FsdHNhbHQ=$aGFzaGhhc2hoYXNoaGFzaA==`],
    ['p zero', 'scrypt$16384$8$0$c2FsdHNhbHQ=$aGFzaGhhc2hoYXNoaGFzaA=='],
    ['salt not base64', 'scrypt$16384$8$1$not*base64$aGFzaGhhc2hoYXNoaGFzaA=='],
    ['hash too short', 'scrypt$16384$8$1$c2FsdHNhbHQ=$aGFzaA=='],
    ['hmac with a field missing', 'hmac-sha256$aGFzaGhhc2hoYXNoaGFzaA=='],
    ['hmac with a field too many', 'hmac-sha256$c2FsdHNhbHQ=$aGFzaGhhc2hoYXNoaGFzaA==$x'],
    ['hmac salt not base64', 'hmac-sha256$not*base64$aGFzaGhhc2hoYXNoaGFzaA=='],
    ['hmac hash too short', 'hmac-sha256$c2FsdHNhbHQ=$aGFzaA=='],
  ])('refuses a stored hash that is %s before computing', async (_what, stored) => {
    expect(() => parseSecretHash(stored)).toThrow(SecretHashError);
    await expect(verifySecret('whatever', stored)).rejects.toMatchObject({ code: 'secret-hash-malformed' });
  });

  it('refuses, not throws, a well-formed hash of another length than the HMAC', async () => {
    await expect(verifySecret('whatever', 'hmac-sha256$c2FsdHNhbHQ=$aGFzaGhhc2hoYXNoaGFzaA==')).resolves.toBe(false);
  });
});
