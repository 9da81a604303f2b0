import { describe, expect, it } from 'vitest';
import type { TestApp } from '../helpers/harness.ts';
import { freshApps, manualClock } from '../helpers/fresh.ts';
import { loginAs, loginAsSetupAdmin, SETUP_USERNAME, TEST_PASSWORD } from '../helpers/auth.ts';
import { LoginBrake } from '../../server/auth/login-brake.ts';
import { addressKey } from '../../server/net.ts';
import { FairQueue } from '../../server/shared/fair-queue.ts';

const fresh = freshApps();

async function appWithClock() {
  const clock = manualClock();
  const t = await fresh({ now: clock.now });
  return { t, clock };
}

function attempt(t: TestApp, from: string, username: string, password: string) {
  return t.app.inject({ method: 'POST', url: '/api/auth/login', remoteAddress: from, payload: { username, password } });
}

describe('the brake arithmetic (server/auth/login-brake.ts)', () => {
  it('five free wrong guesses per address, then waits of 1 s, 2 s, 4 s … up to an hour', () => {
    const b = new LoginBrake();
    let now = 0;
    for (let i = 0; i < 5; i++) {
      expect(b.check('a', now)).toEqual({ ok: true });
      b.wrong('a', now);
    }
    const waits: number[] = [];
    for (let i = 0; i < 16; i++) {
      const d = b.check('a', now);
      expect(d.ok).toBe(false);
      const wait = d.ok ? 0 : d.retryAfterMs;
      waits.push(wait / 1000);
      now += wait;
      expect(b.check('a', now)).toEqual({ ok: true });
      b.wrong('a', now);
    }
    expect(waits).toEqual([1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 2048, 3600, 3600, 3600, 3600]);
    // Another address is untouched, and a right password clears the count.
    expect(b.check('b', now)).toEqual({ ok: true });
    b.right('a');
    expect(b.check('a', now)).toEqual({ ok: true });
  });

  it('forgets an address a day after its last wrong guess', () => {
    const b = new LoginBrake();
    for (let i = 0; i < 7; i++) b.wrong('a', 0);
    expect(b.check('a', 1000).ok).toBe(false);
    expect(b.check('a', 24 * 3600_000).ok).toBe(true);
  });

  it('while someone is guessing (over 30 wrong an hour, anywhere), each address has two free guesses, not five', () => {
    const b = new LoginBrake();
    for (let i = 0; i < 31; i++) b.wrong(`10.0.0.${i}`, 0);
    expect(b.underAttack(0)).toBe(true);
    // An address with no wrong guess, or one typo, is not slowed at all.
    expect(b.check('10.9.9.9', 0)).toEqual({ ok: true });
    b.wrong('10.9.9.9', 0);
    expect(b.check('10.9.9.9', 0)).toEqual({ ok: true });
    b.wrong('10.9.9.9', 0);
    expect(b.check('10.9.9.9', 0)).toEqual({ ok: false, retryAfterMs: 1000 });
    // An hour later the alarm is over.
    expect(b.underAttack(3601_000)).toBe(false);
  });

  it('keys IPv4 as is and IPv6 by its /64', () => {
    expect(addressKey('192.168.1.20')).toBe('192.168.1.20');
    expect(addressKey('::ffff:192.168.1.20')).toBe('192.168.1.20');
    expect(addressKey('fe80::1')).toBe('fe80:0:0:0::/64');
    expect(addressKey('fe80::abcd:1')).toBe(addressKey('fe80:0:0:0:1234:5678:abcd:1'));
    expect(addressKey('2001:db8:1:2::1')).not.toBe(addressKey('2001:db8:1:3::1'));
  });

  it('the queue of password checks takes turns between addresses and refuses a third waiting check from one', async () => {
    const q = new FairQueue(2);
    const order: string[] = [];
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const work = (name: string) => async () => {
      await gate;
      order.push(name);
    };
    const running = q.run('first', work('first'))!; // takes the turn at once and waits on the gate
    const flood = [q.run('attacker', work('a1')), q.run('attacker', work('a2'))];
    expect(q.run('attacker', work('a3'))).toBeNull();
    const admin = q.run('admin', work('admin'))!;
    release();
    await Promise.all([running, admin, ...flood]);
    expect(order).toEqual(['first', 'a1', 'admin', 'a2']);
  });
});

describe('logins: nobody can keep an account out by guessing', () => {
  it('wrong guesses from one machine never refuse the right password from another, nor the township admin', async () => {
    const { t } = await appWithClock();
    await loginAs(t, { role: 'inspector', username: 'kaocha' });
    const attacker = '192.168.1.66';
    for (let i = 0; i < 5; i++) expect((await attempt(t, attacker, 'kaocha', `wrong-${i}`)).statusCode).toBe(401);
    const braked = await attempt(t, attacker, 'kaocha', 'wrong-again');
    expect(braked.statusCode).toBe(429);
    expect(braked.json().error.code).toBe('RATE_LIMITED');
    expect(braked.json().error.message).toMatch(/请 1 秒后再试/);
    expect(braked.headers['retry-after']).toBe('1');
    // Spraying across usernames from the same machine meets the same brake.
    expect((await attempt(t, attacker, SETUP_USERNAME, 'guess')).statusCode).toBe(429);
    expect((await attempt(t, attacker, 'someone-else', 'guess')).statusCode).toBe(429);
    // The real users, at their own laptops, get in at once: the accounts were never locked.
    expect((await attempt(t, '192.168.1.20', 'kaocha', TEST_PASSWORD)).statusCode).toBe(200);
    expect((await attempt(t, '192.168.1.21', SETUP_USERNAME, TEST_PASSWORD)).statusCode).toBe(200);
  });

  it('a whole meeting day of optimal guessing from 4 addresses: every honest login succeeds, and each address gets at most 27 guesses (README)', async () => {
    const { t, clock } = await appWithClock();
    await loginAsSetupAdmin(t);
    await loginAs(t, { role: 'inspector', username: 'kaocha' });
    const start = clock.ms();
    const end = start + 12 * 3600_000;
    const attackers = Array.from({ length: 4 }, (_, i) => ({ address: `10.0.1.${i + 10}`, next: start, guesses: 0 }));
    let honestNext = start;
    let honest = 0;
    let n = 0;
    for (;;) {
      const a = attackers.reduce((x, y) => (y.next < x.next ? y : x));
      const at = Math.min(a.next, honestNext);
      if (at >= end) break;
      clock.set(at);
      if (honestNext <= a.next) {
        // The township admin and the team log in every hour, each from their own laptop.
        for (const [address, username] of [['10.0.2.1', SETUP_USERNAME], ['10.0.2.2', 'kaocha']] as const) {
          const res = await attempt(t, address, username, TEST_PASSWORD);
          expect(res.statusCode, `${username} at ${new Date(at).toISOString()}`).toBe(200);
          honest++;
        }
        honestNext = at + 60 * 60_000;
        continue;
      }
      const res = await attempt(t, a.address, n++ % 2 ? 'kaocha' : SETUP_USERNAME, `guess-${n}`);
      if (res.statusCode === 401) {
        a.guesses++;
        a.next = at;
      } else {
        expect(res.statusCode).toBe(429);
        a.next = at + Number(res.headers['retry-after']) * 1000;
      }
    }
    expect(honest).toBe(24);
    const most = Math.max(...attackers.map((a) => a.guesses));
    expect(most).toBeLessThanOrEqual(27);
    expect(most).toBeGreaterThanOrEqual(20); // the brake slows, it does not shut an address out for good
  });

  it('the set-up code: wrong codes from one machine do not stop the right code from another', async () => {
    const { t } = await appWithClock();
    const setup = (from: string, code: string) =>
      t.app.inject({ method: 'POST', url: '/api/auth/setup', remoteAddress: from, payload: { code, username: 'zhenwei', displayName: '镇党委办公室', password: TEST_PASSWORD } });
    for (let i = 0; i < 5; i++) expect((await setup('10.0.0.66', `WRONG${i}CODE`)).statusCode).toBe(403);
    expect((await setup('10.0.0.66', t.setupCode)).statusCode).toBe(429);
    expect((await setup('10.0.0.7', t.setupCode)).statusCode).toBe(201);
  });

  it('a flood of concurrent logins from many machines delays another machine by about one check per machine, not by the whole flood', async () => {
    const { t } = await appWithClock();
    await loginAsSetupAdmin(t);
    const finished: string[] = [];
    const refusedAtOnce = new Set<string>();
    const flood = Array.from({ length: 30 }, (_, i) => `10.0.3.${i + 1}`).flatMap((address) =>
      [0, 1, 2].map((k) =>
        attempt(t, address, SETUP_USERNAME, `wrong-${k}`).then((r) => {
          finished.push(`${r.statusCode}`);
          // Refused for a third check waiting, not by the brake (which says how long to wait).
          if (r.statusCode === 429 && String(r.json().error.message).includes('同时提交的登录太多')) refusedAtOnce.add(address);
          return r.statusCode;
        }),
      ),
    );
    const admin = attempt(t, '10.0.2.1', SETUP_USERNAME, TEST_PASSWORD).then((r) => {
      finished.push('admin');
      return r.statusCode;
    });
    const codes = await Promise.all(flood);
    expect(await admin).toBe(200);
    // A third concurrent try from one machine is refused at once for it (two may wait): so it goes for
    // every machine but the first, whose first try was already running when its third came. That third one
    // is refused later by the brake, or checked, as its turn falls (on PostgreSQL the account's look-ups
    // finish in another order than on SQLite). All the others were checked.
    expect(refusedAtOnce.size).toBeGreaterThanOrEqual(29);
    expect(codes.filter((c) => c === 429).length).toBeGreaterThanOrEqual(29);
    expect(codes.filter((c) => c === 429).length + codes.filter((c) => c === 401).length).toBe(90);
    const checkedBeforeAdmin = finished.slice(0, finished.indexOf('admin')).filter((c) => c === '401').length;
    expect(checkedBeforeAdmin).toBeLessThanOrEqual(31);
  });
});
