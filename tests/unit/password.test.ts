import { describe, expect, it } from 'vitest';
import { assertPasswordPolicy, hashPassword, needsRehash, verifyPassword } from '../../server/auth/password.ts';
import { loadConfig } from '../../server/config.ts';
import { DomainError } from '../../server/errors.ts';

describe('password hashing', () => {
  it('uses the production cost N = 2^16, r = 8, p = 2 by default and verifies with the stored parameters', async () => {
    const logN = loadConfig({}).SCRYPT_LOG_N;
    expect(logN).toBe(16);
    const stored = await hashPassword('correct horse', logN);
    expect(stored).toMatch(/^scrypt\$16\$8\$2\$[A-Za-z0-9+/]{22}==\$[A-Za-z0-9+/]{43}=$/);
    expect(await verifyPassword('correct horse', stored)).toBe(true);
    expect(needsRehash(stored, logN)).toBe(false);
  });

  it('still verifies a hash made before p = 2 (N = 2^17, p = 1), and asks for it to be made again', async () => {
    // Made by the code before p = 2, with this salt: scrypt('old password', salt, 32, { N: 2^17, r: 8, p: 1 }).
    const { scryptSync } = await import('node:crypto');
    const salt = Buffer.alloc(16, 7);
    const key = scryptSync('old password', salt, 32, { N: 2 ** 17, r: 8, p: 1, maxmem: 256 * 1024 * 1024 });
    const stored = ['scrypt', 17, 8, 1, salt.toString('base64'), key.toString('base64')].join('$');
    expect(await verifyPassword('old password', stored)).toBe(true);
    expect(await verifyPassword('old passwort', stored)).toBe(false);
    expect(needsRehash(stored, 16)).toBe(true);
  });

  it('verifies the right password and rejects a wrong one', async () => {
    const stored = await hashPassword('s3cret-pass', 12);
    expect(stored.startsWith('scrypt$12$8$2$')).toBe(true);
    expect(await verifyPassword('s3cret-pass', stored)).toBe(true);
    expect(await verifyPassword('s3cret-pasS', stored)).toBe(false);
    expect(await verifyPassword('', stored)).toBe(false);
  });

  it('salts every hash', async () => {
    const a = await hashPassword('same password', 12);
    const b = await hashPassword('same password', 12);
    expect(a).not.toBe(b);
    expect(await verifyPassword('same password', b)).toBe(true);
  });

  it('treats full-width characters from a Chinese IME like their ASCII forms', async () => {
    const stored = await hashPassword('abc12345', 12);
    expect(await verifyPassword('ａｂｃ１２３４５', stored)).toBe(true);
  });

  it('rejects malformed or out-of-bounds stored hashes without throwing', async () => {
    const good = await hashPassword('password1', 12);
    const parts = good.split('$');
    expect(await verifyPassword('password1', 'plain')).toBe(false);
    expect(await verifyPassword('password1', ['bcrypt', ...parts.slice(1)].join('$'))).toBe(false);
    expect(await verifyPassword('password1', ['scrypt', '30', ...parts.slice(2)].join('$'))).toBe(false);
    expect(await verifyPassword('password1', [...parts.slice(0, 4), '', parts[5]].join('$'))).toBe(false);
  });

  it('asks for a re-hash when the cost changes', async () => {
    const stored = await hashPassword('password1', 12);
    expect(needsRehash(stored, 12)).toBe(false);
    expect(needsRehash(stored, 13)).toBe(true);
    expect(needsRehash('garbage', 12)).toBe(true);
  });

  it('requires at least 8 characters, with a Chinese message', () => {
    const err = (() => {
      try {
        assertPasswordPolicy('1234567');
      } catch (e) {
        return e;
      }
    })();
    expect(err).toBeInstanceOf(DomainError);
    expect(err).toMatchObject({ code: 'PASSWORD_WEAK', status: 400 });
    expect((err as DomainError).message).toContain('至少需要 8 个字符');
    expect(() => assertPasswordPolicy('12345678')).not.toThrow();
    expect(() => assertPasswordPolicy('八个汉字的密码串')).not.toThrow();
  });
});
