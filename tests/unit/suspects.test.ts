import { describe, expect, it } from 'vitest';
import { SuspectSenders } from '../../server/ballots/suspects.ts';

describe('the senders of forged tokens (the low lane of the token check)', () => {
  it('holds a sender from its failure until holdMs after it, and a new failure extends it', () => {
    const s = new SuspectSenders(1000, 10);
    expect(s.isSuspect('10.0.0.66', 0)).toBe(false);
    s.mark('10.0.0.66', 5000);
    expect(s.isSuspect('10.0.0.66', 5000)).toBe(true);
    expect(s.isSuspect('10.0.0.66', 5999)).toBe(true);
    // Until, not through: at exactly holdMs after the failure it is free again.
    expect(s.isSuspect('10.0.0.66', 6000)).toBe(false);
    s.mark('10.0.0.66', 5500);
    expect(s.isSuspect('10.0.0.66', 6499)).toBe(true);
    expect(s.isSuspect('10.0.0.5', 5500)).toBe(false);
    expect(s.size).toBe(1);
  });

  it('holds at most max senders: the expired go first, then the longest-held, never the newest', () => {
    const s = new SuspectSenders(1000, 3);
    s.mark('a', 0);
    s.mark('b', 500);
    s.mark('c', 600);
    // At 1200 'a' has expired: it goes, the others stay.
    s.mark('d', 1200);
    expect(s.size).toBe(3);
    expect(['b', 'c', 'd'].map((k) => s.isSuspect(k, 1200))).toEqual([true, true, true]);
    // Nothing expired at 1300: the longest-held ('b') goes for 'e'.
    s.mark('e', 1300);
    expect(s.size).toBe(3);
    expect(['b', 'c', 'd', 'e'].map((k) => s.isSuspect(k, 1300))).toEqual([false, true, true, true]);
    // A sender failing again is moved to the back: 'c' is kept over 'd' next time.
    s.mark('c', 1400);
    s.mark('f', 1450);
    expect(['c', 'd', 'e', 'f'].map((k) => s.isSuspect(k, 1450))).toEqual([true, false, true, true]);
    // Marking one already held never drops another.
    s.mark('e', 1460);
    expect(['c', 'e', 'f'].map((k) => s.isSuspect(k, 1460))).toEqual([true, true, true]);
    expect(s.size).toBe(3);
  });

  it('clears out the expired only when full, and then every one of them (until, not through)', () => {
    const s = new SuspectSenders(1000, 3);
    s.mark('a', 0);
    // Not full: an expired sender is simply left there.
    s.mark('b', 2000);
    expect(s.size).toBe(2);
    s.mark('c', 2100);
    // Full at 3050: 'a' (expired long ago) and 'b' (expired at 3000) both go, not just enough for one.
    s.mark('d', 3050);
    expect(s.size).toBe(2);
    expect(['c', 'd'].map((k) => s.isSuspect(k, 3050))).toEqual([true, true]);
    // Expiring this very millisecond counts as expired.
    const t = new SuspectSenders(1000, 2);
    t.mark('x', 0);
    t.mark('y', 0);
    t.mark('z', 1000);
    expect(t.size).toBe(1);
  });

  it('defaults: ten minutes, ten thousand senders', () => {
    const s = new SuspectSenders();
    expect([s.holdMs, s.max]).toEqual([600_000, 10_000]);
  });
});
