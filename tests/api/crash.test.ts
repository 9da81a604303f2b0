/**
 * kill -9 of the real server process at random moments during bursts of phone ballots: nothing
 * acknowledged is lost, nothing is half-written, no token counts twice, the file stays whole.
 * A few cycles here; `npm run soak:crash` runs a hundred (tests/helpers/crash-cycles.ts says what is checked).
 */
import { describe, expect, it } from 'vitest';
import { runCrashCycles } from '../helpers/crash-cycles.ts';

describe('crash durability (real process, SIGKILL mid-burst)', () => {
  it('every acknowledged ballot survives, ballots = spent tokens = receipts, nothing usable twice, integrity ok', async () => {
    const report = await runCrashCycles({ cycles: 4, burst: 10, seed: 20261129 });
    expect(report.problems).toEqual([]);
    expect(report.cycles).toBe(4);
    // The kills really came mid-burst: replies were outstanding, and replies had come before.
    expect(report.killedMidBurst).toBeGreaterThanOrEqual(1);
    expect(report.acknowledged).toBeGreaterThanOrEqual(4);
    expect(report.inFlight).toBeGreaterThan(0);
  }, 180_000);
});
