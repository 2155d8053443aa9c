import { describe, it, expect } from 'vitest';
import { generateSecret, hashSecret, parseSecretHash, SecretHashError, verifySecret } from '../../../broker/auth/secrets.js';

describe('terminal secrets', () => {
  it('generates url-safe secrets of at least 128 random bits, all different', () => {
    const secrets = new Set(Array.from({ length: 50 }, generateSecret));
    expect(secrets.size).toBe(50);
    for (const secret of secrets) {
      expect(secret).toMatch(/^[A-Za-z0-9_-]+$/);
      expect(Buffer.from(secret, 'base64url').length * 8).toBeGreaterThanOrEqual(128);
    }
  });

  it('stores scrypt$N$r$p$salt$hash and never the secret', async () => {
    const secret = generateSecret();
    const stored = await hashSecret(secret);
    expect(stored).toMatch(/^scrypt\$16384\$8\$1\$[A-Za-z0-9+/]+=*\$[A-Za-z0-9+/]+=*$/);
    expect(stored).not.toContain(secret);
    expect(await hashSecret(secret)).not.toBe(stored); // salted
  });

  it('verifies the right secret and refuses a wrong one', async () => {
    const secret = generateSecret();
    const stored = await hashSecret(secret);
    expect(await verifySecret(secret, stored)).toBe(true);
    expect(await verifySecret(`${secret}x`, stored)).toBe(false);
    expect(await verifySecret('', stored)).toBe(false);
  });

  it.each([
    ['not scrypt', 'bcrypt$10$abc'],
    ['N not a power of two', 'scrypt$1000$8$1$c2FsdHNhbHQ=$aGFzaGhhc2hoYXNoaGFzaA=='],
    ['N absurdly large', `scrypt$${2 ** 24}$8$1$c2FsdHNhbHQ=$aGFzaGhhc2hoYXNoaGFzaA==`],
    ['p zero', 'scrypt$16384$8$0$c2FsdHNhbHQ=$aGFzaGhhc2hoYXNoaGFzaA=='],
    ['salt not base64', 'scrypt$16384$8$1$not*base64$aGFzaGhhc2hoYXNoaGFzaA=='],
    ['hash too short', 'scrypt$16384$8$1$c2FsdHNhbHQ=$aGFzaA=='],
  ])('refuses a stored hash that is %s before running scrypt', async (_what, stored) => {
    expect(() => parseSecretHash(stored)).toThrow(SecretHashError);
    await expect(verifySecret('whatever', stored)).rejects.toMatchObject({ code: 'secret-hash-malformed' });
  });
});
