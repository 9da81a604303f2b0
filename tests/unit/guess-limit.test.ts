import { describe, expect, it } from 'vitest';
import { DEFAULT_BRAKE, ShortCodeBrake } from '../../server/credentials/guess-limit.ts';

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
});
