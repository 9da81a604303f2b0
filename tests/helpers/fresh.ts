/** For test files that start a fresh app per test: each one closed after its test, and a clock moved by hand. */
import { afterEach } from 'vitest';
import { makeTestApp, type TestApp, type TestAppOptions } from './harness.ts';

/** Registers an afterEach that closes every app made through the returned function during the test. */
export function freshApps(): (opts?: TestAppOptions) => Promise<TestApp> {
  let open: TestApp[] = [];
  afterEach(async () => {
    await Promise.all(open.map((t) => t.close()));
    open = [];
  });
  return async (opts) => {
    const t = await makeTestApp(opts);
    open.push(t);
    return t;
  };
}

/** A clock the test moves by hand. */
export function manualClock(start = '2026-12-01T08:00:00.000Z') {
  let now = new Date(start);
  return {
    now: () => now,
    ms: () => now.getTime(),
    set(ms: number) {
      now = new Date(ms);
    },
    advance(ms: number) {
      now = new Date(now.getTime() + ms);
    },
  };
}
