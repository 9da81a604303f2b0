/**
 * Behind a reverse proxy (README, "Running on PostgreSQL": nginx in front of two processes). Every request
 * then comes from the proxy's address: unless TRUST_PROXY names the proxy, the short-code brake would see
 * one address for the whole hall and slow every phone for one guesser's misses, and cookies set over the
 * proxy's HTTPS would not be marked Secure. With TRUST_PROXY the phone's own address and the scheme come
 * from X-Forwarded-For / X-Forwarded-Proto, and only from the named proxy.
 */
import { randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { makeTestApp, type TestApp } from '../helpers/harness.ts';
import { makeMeeting } from '../helpers/meeting.ts';
import { loginAs, SETUP_USERNAME, TEST_PASSWORD } from '../helpers/auth.ts';
import { newShortCode } from '../../server/credentials/secrets.ts';
import { loadConfig } from '../../server/config.ts';
import { testBackend } from '../helpers/pg.ts';

/**
 * On PostgreSQL (the `pg` project) the brake's two timings are left out: the brake is in this process's
 * memory whatever the store, and their limits (the right codes within 3 s, the guesser's 6 s) are about
 * time, which a second busy database cluster on two cores only makes noisier. The sessions behind the proxy
 * (rows in the database) run on both.
 */
const brakeTimings = testBackend === 'postgres' ? it.skip : it;

const PROXY = '127.0.0.1';

describe('behind a reverse proxy', () => {
  let t: TestApp;
  afterEach(async () => {
    await t?.close();
  });

  /** Ten wrong short codes from `guesser`, then two right ones from `phone`; how long the phone's two took. */
  async function guessThenType(forwarded: boolean): Promise<number> {
    const m = await makeMeeting(t, { kind: 'station', roster: 3, signIn: 3, redeem: false });
    const via = (ticket: string, client: string) =>
      t.app.inject({
        method: 'POST',
        url: '/api/voter/redeem',
        payload: { ticket, blinded: null },
        remoteAddress: PROXY,
        headers: forwarded ? { 'x-forwarded-for': client, 'x-forwarded-proto': 'https' } : {},
      });
    const codes = new Set<string>();
    while (codes.size < 10) codes.add(newShortCode(randomBytes));
    for (const c of codes) expect((await via(c, '10.0.0.66')).statusCode).toBe(404);
    const started = Date.now();
    for (const code of m.shortCodes.slice(0, 2)) expect((await via(code, '10.0.0.5')).statusCode).toBe(200);
    return Date.now() - started;
  }

  brakeTimings('with TRUST_PROXY, brakes the guessing phone only: a phone next to it types two right codes at once', async () => {
    t = await makeTestApp({ env: { TRUST_PROXY: 'loopback' } });
    expect(await guessThenType(true)).toBeLessThan(4500);
  });

  brakeTimings('without it, every phone is the proxy: one guesser slows the next right code by the brake’s 6 s (why the README says to set it)', async () => {
    t = await makeTestApp();
    expect(await guessThenType(true)).toBeGreaterThanOrEqual(5500);
  }, 60_000);

  it('marks the session cookie Secure when the proxy says the login came over HTTPS, and only when the proxy says so', async () => {
    t = await makeTestApp({ env: { TRUST_PROXY: PROXY } });
    await loginAs(t);
    const loginVia = (remoteAddress: string, proto: string) =>
      t.app.inject({ method: 'POST', url: '/api/auth/login', payload: { username: SETUP_USERNAME, password: TEST_PASSWORD }, remoteAddress, headers: { 'x-forwarded-proto': proto } });
    const secure = (r: Awaited<ReturnType<typeof loginVia>>) => r.cookies.find((c) => c.name === 'ceping_session')?.secure === true;
    expect(secure(await loginVia(PROXY, 'https'))).toBe(true);
    expect(secure(await loginVia(PROXY, 'http'))).toBe(false);
    // A client that is not the proxy cannot claim HTTPS (or an address) for itself.
    expect(secure(await loginVia('10.0.0.9', 'https'))).toBe(false);
  });

  it('refuses a TRUST_PROXY that is neither an address, a CIDR nor loopback', () => {
    expect(loadConfig({ TRUST_PROXY: '10.0.0.0/8, ::1' }).TRUST_PROXY).toEqual(['10.0.0.0/8', '::1']);
    expect(() => loadConfig({ TRUST_PROXY: 'nginx.local' })).toThrow(/TRUST_PROXY/);
    expect(loadConfig({ TRUST_PROXY: '' }).TRUST_PROXY).toBeUndefined();
  });
});
