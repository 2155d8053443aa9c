import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { isMosquittoHash, mosquittoPasswordHash, verifyMosquittoHash } from '../../../broker/mosquitto/passwordHash.js';
import { useTempDir } from '../../helpers/tempDir.js';

describe("Mosquitto's password hash ($7$, PBKDF2-SHA512)", () => {
  const tempDir = useTempDir();

  it('reads a line the machine\'s mosquitto_passwd wrote: the same algorithm, salt handling and encoding', async () => {
    const file = join(tempDir(), 'passwd');
    execFileSync('mosquitto_passwd', ['-c', '-b', file, 'gate-a', 'the-secret']);
    const [user, hash] = readFileSync(file, 'utf8').trim().split(/:(.*)/s) as [string, string];
    expect(user).toBe('gate-a');
    expect(isMosquittoHash(hash)).toBe(true);
    expect(await verifyMosquittoHash('the-secret', hash)).toBe(true);
    expect(await verifyMosquittoHash('the-secreT', hash)).toBe(false);
  });

  it("writes mosquitto_passwd's shape: 101 iterations, 12 bytes of salt, 64 of hash, a fresh salt each time", async () => {
    const a = await mosquittoPasswordHash('s');
    const b = await mosquittoPasswordHash('s');
    const [, kind, iterations, salt, hash] = a.split('$');
    expect([kind, iterations, Buffer.from(salt!, 'base64').length, Buffer.from(hash!, 'base64').length]).toEqual(['7', '101', 12, 64]);
    expect(a).not.toBe(b);
    expect(await verifyMosquittoHash('s', a)).toBe(true);
    expect(await verifyMosquittoHash('t', a)).toBe(false);
  });

  it('is not fooled by another format', async () => {
    for (const other of ['', 'hmac-sha256$abc$def', '$6$101$abcd$efgh', '$7$$abc$def', '$7$101$a b$def']) {
      expect(isMosquittoHash(other)).toBe(false);
      expect(await verifyMosquittoHash('s', other)).toBe(false);
    }
  });
});
