import { describe, expect, it } from 'vitest';
import { DEFAULT_BRAKE, ShortCodeBrake } from '../../server/credentials/guess-limit.ts';
import { clientAddress } from '../../server/net.ts';

/** A brake on a clock the test moves; sleeping moves the clock. */
function brake(o = {}) {
  let now = 1_000_000;
  const slept: number[] = [];
  const b = new ShortCodeBrake(o, () => now, async (ms) => {
    slept.push(ms);
    now += ms;
  });
  return { b, slept, advance: (ms: number) => (now += ms) };
}

describe('the short-code brake', () => {
  it('lets an address miss perAddress times a minute at full speed, then spaces its codes delayMs apart, never refusing a right one', async () => {
    const { b, slept } = brake();
    for (let i = 0; i < DEFAULT_BRAKE.perAddress; i++) {
      expect(await b.admit('10.0.0.66')).toBe(true);
      b.miss('10.0.0.66');
    }
    expect(slept).toEqual([]);
    expect(b.slowed('10.0.0.66')).toBe(true);
    // Its next codes, right or wrong, wait their turn.
    expect(await b.admit('10.0.0.66')).toBe(true);
    expect(await b.admit('10.0.0.66')).toBe(true);
    expect(slept.reduce((a, x) => a + x, 0)).toBeGreaterThanOrEqual(DEFAULT_BRAKE.delayMs);
  });

  it('never slows an address that has not missed, however many others miss', async () => {
    const { b, slept } = brake();
    for (let i = 0; i < 2 * DEFAULT_BRAKE.serverCeiling; i++) b.miss(`10.1.${i % 250}.${i % 7}`);
    expect(await b.admit('10.0.0.5')).toBe(true);
    expect(slept).toEqual([]);
    expect(b.slowed('10.0.0.5')).toBe(false);
  });

  it('past the server-wide ceiling, every address with a miss of its own is slowed', async () => {
    const { b } = brake();
    b.miss('10.0.0.7');
    expect(b.slowed('10.0.0.7')).toBe(false);
    for (let i = 0; i < DEFAULT_BRAKE.serverCeiling; i++) b.miss(`10.2.${i % 250}.${i % 3}`);
    expect(b.slowed('10.0.0.7')).toBe(true);
  });

  it('forgets misses after the window', async () => {
    const { b, advance } = brake();
    for (let i = 0; i < DEFAULT_BRAKE.perAddress; i++) b.miss('10.0.0.8');
    expect(b.slowed('10.0.0.8')).toBe(true);
    advance(DEFAULT_BRAKE.windowMs + 1);
    expect(b.slowed('10.0.0.8')).toBe(false);
  });

  it('tells an address with too many codes waiting to slow down', async () => {
    let now = 0;
    const gates: (() => void)[] = [];
    const b = new ShortCodeBrake({ maxWaiting: 3 }, () => now, () => new Promise<void>((r) => gates.push(r)));
    for (let i = 0; i < DEFAULT_BRAKE.perAddress; i++) b.miss('10.0.0.9');
    const waiting = [b.admit('10.0.0.9'), b.admit('10.0.0.9'), b.admit('10.0.0.9')];
    expect(await b.admit('10.0.0.9')).toBe(false);
    expect(await b.admit('10.0.0.10')).toBe(true);
    for (const g of gates) g();
    expect(await Promise.all(waiting)).toEqual([true, true, true]);
    now += 1;
  });

  it('keys IPv4 as is (also dual-stack ::ffff: forms) and IPv6 in one canonical form with its /64', () => {
    expect(clientAddress('10.0.0.1')).toEqual({ key: '10.0.0.1', prefix: null });
    expect(clientAddress('::ffff:10.0.0.1')).toEqual({ key: '10.0.0.1', prefix: null });
    expect(clientAddress('::FFFF:10.0.0.1')).toEqual({ key: '10.0.0.1', prefix: null });
    const a = clientAddress('2001:db8::1');
    expect(a).toEqual({ key: '2001:db8:0:0:0:0:0:1', prefix: '2001:db8:0:0' });
    expect(clientAddress('2001:0DB8:0000:0000:0000:0000:0000:0001')).toEqual(a);
    expect(clientAddress('fe80::1%eth0')).toEqual({ key: 'fe80:0:0:0:0:0:0:1', prefix: 'fe80:0:0:0' });
    expect(clientAddress('64:ff9b::192.0.2.1').key).toBe('64:ff9b:0:0:0:0:c000:201');
    expect(clientAddress('2001:db8:1:2:3:4:5:6').prefix).toBe('2001:db8:1:2');
  });

  it('under attack, one shared lane takes every address that missed in turn; an address that never missed is not slowed', async () => {
    const { b, advance } = brake({ laneMs: 1000 });
    for (let i = 0; i < DEFAULT_BRAKE.serverCeiling; i++) b.miss(`10.3.0.${i + 1}`);
    expect(b.underAttack()).toBe(true);
    // One miss, 50 minutes ago, is enough to wait in the lane while the attack lasts.
    advance(50 * 60_000);
    expect(b.underAttack()).toBe(true);
    expect(b.slowed('10.3.0.1')).toBe(true);
    expect(b.slowed('10.3.0.200')).toBe(false);
    // An hour after the last miss the attack is over.
    advance(11 * 60_000);
    expect(b.underAttack()).toBe(false);
    expect(b.slowed('10.3.0.1')).toBe(false);
  });

  it('on IPv6, once enough addresses of a /64 missed, every address of that /64 waits in the lane; another /64 does not', async () => {
    const { b } = brake();
    for (let i = 0; i < DEFAULT_BRAKE.serverCeiling; i++) b.miss(`2001:db8:0:1::${(i + 1).toString(16)}`);
    expect(b.underAttack()).toBe(true);
    expect(b.slowed('2001:db8:0:1::ffff')).toBe(true);
    expect(b.slowed('2001:db8:0:2::ffff')).toBe(false);
    // The same phone seen through a dual-stack listener is one address.
    b.miss('::ffff:10.9.9.9');
    expect(b.slowed('10.9.9.9')).toBe(true);
  });

  /**
   * A simulated meeting on a clock the test moves: `attackers` addresses each keep `pipeline` typed codes
   * in flight (50 ms per round trip), and every code misses. Returns how many codes were looked up.
   */
  async function siege(addresses: string[], hours: number, pipeline = 2, honest?: { address: string; at: number }) {
    let now = 0;
    const timers: { at: number; run: () => void }[] = [];
    const sleep = (ms: number) => new Promise<void>((run) => timers.push({ at: now + Math.max(ms, 0), run }));
    const b = new ShortCodeBrake({}, () => now, sleep);
    const end = hours * 3_600_000;
    let guesses = 0;
    let honestWait: number | null = null;
    const loop = async (address: string) => {
      while (now < end) {
        await sleep(50);
        if (!(await b.admit(address))) {
          await sleep(1000);
          continue;
        }
        guesses += 1;
        b.miss(address);
      }
    };
    for (const a of addresses) for (let i = 0; i < pipeline; i++) void loop(a);
    if (honest) {
      // The honest phone mistyped once, at the start; it comes back hours later with its right code.
      b.miss(honest.address);
      void sleep(honest.at).then(async () => {
        const from = now;
        expect(await b.admit(honest.address)).toBe(true);
        honestWait = now - from;
      });
    }
    for (;;) {
      // Let every continuation of the last timer run (and set its own timers) before looking for the next.
      await new Promise((r) => setImmediate(r));
      if (timers.length === 0 || now >= end) break;
      timers.sort((x, y) => x.at - y.at);
      const t = timers.shift()!;
      now = t.at;
      t.run();
    }
    return { guesses, honestWait };
  }

  it('a whole /24 hall guessing for 4 hours gets about the lane\'s rate, not 253 addresses\' worth (README arithmetic)', { timeout: 120_000 }, async () => {
    const hall = Array.from({ length: 253 }, (_, i) => `192.168.1.${i + 1}`);
    // An honest phone (its own address) that mistyped once is caught in the lane too: late, never refused.
    const { guesses, honestWait } = await siege(hall, 4, 2, { address: '192.168.2.7', at: 30 * 60_000 });
    console.log(`4 h siege from 253 addresses: ${guesses} codes looked up; an honest phone waited ${honestWait} ms`);
    // The lane: 4 h × 30 a minute = 7,200; each address's first miss before it is marked: 253; the first minute.
    const bound = 4 * 60 * (60_000 / DEFAULT_BRAKE.laneMs) + 253 + 2 * DEFAULT_BRAKE.serverCeiling;
    expect(guesses).toBeLessThanOrEqual(bound);
    expect(guesses).toBeGreaterThan(0.9 * 4 * 60 * (60_000 / DEFAULT_BRAKE.laneMs));
    // The chance to hit one of W = 500 waiting tickets: guesses × W ÷ 31^7.
    expect((guesses * 500) / 31 ** 7).toBeLessThan(2e-4);
    expect(honestWait).not.toBeNull();
    expect(honestWait!).toBeGreaterThan(0);
    expect(honestWait!).toBeLessThanOrEqual(253 * DEFAULT_BRAKE.laneMs + 60_000);
  });
});
