/**
 * What a cast costs the database, as a count (not a time, so it does not flake on a loaded machine):
 * every SQL statement the server runs while phones cast, counted at better-sqlite3 itself, under
 * Kysely and anything else. A change that adds queries to the hot path fails here.
 * The bounds are today's figures with a little room; tighten them as the hot path gets leaner.
 * Seen on 2026-11-29: one after another 9.3 statements per cast (3.3 compiled: the transaction's
 * begin and commit and the meeting's row, per transaction); 100 at once 6.5–6.7 per cast in 15–21
 * transactions (6 per cast, 3 per transaction, a live step every k = 5 ballots).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeTestApp, type TestApp } from '../helpers/harness.ts';
import { makeMeeting, type TestMeeting } from '../helpers/meeting.ts';
import { fullPackage } from '../helpers/packages.ts';
import { cast } from '../helpers/phone.ts';
import { breakdown, countStatements, type Counts } from '../helpers/statements.ts';

/** Statements run per cast when each cast is alone in its transaction (one after another), live steps included. */
const MAX_STATEMENTS_PER_CAST_ALONE = 10;
/** Statements compiled (prepared) per cast, one after another; 0 once every statement of the path is prepared once and kept. */
const MAX_PREPARES_PER_CAST_ALONE = 4;
/**
 * A hall casting at once shares transactions, but how many depends on when each cast's token check
 * finishes, so the bound is per cast plus per transaction: what each ballot writes and reads…
 */
const MAX_STATEMENTS_PER_JOB = 6;
/** …and what each transaction adds (begin, the meeting's row, at most one live step, commit, one spare). */
const MAX_STATEMENTS_PER_BATCH = 5;

const ALONE = 30;
const AT_ONCE = 100;

/** Let whatever the casts set going (live steps, turnout) finish before the count stops. */
const settle = () => new Promise((r) => setTimeout(r, 100));

function perCast(c: Counts, n: number): { statements: number; prepares: number } {
  return { statements: c.statements / n, prepares: c.prepares / n };
}

describe('SQL statements per cast', () => {
  let t: TestApp;
  let m: TestMeeting;

  beforeAll(async () => {
    t = await makeTestApp({ env: { LOG_LEVEL: 'silent' } });
    m = await makeMeeting(t, { roster: ALONE + AT_ONCE + 20, signIn: ALONE + AT_ONCE + 20, liveK: 5 });
  }, 120_000);
  afterAll(async () => {
    await t?.close();
  });

  it(`one after another: at most ${MAX_STATEMENTS_PER_CAST_ALONE} statements and ${MAX_PREPARES_PER_CAST_ALONE} compiled per cast`, async () => {
    const pkg = fullPackage(m.form!, 1);
    const { counts, stop } = countStatements(t.sqlite);
    try {
      for (const token of m.tokens.slice(0, ALONE)) expect((await cast(t, token, pkg)).statusCode).toBe(200);
      await settle();
    } finally {
      stop();
    }
    const each = perCast(counts, ALONE);
    console.info(`SQL per cast, ${ALONE} casts one after another: ${each.statements.toFixed(2)} statements run, ${each.prepares.toFixed(2)} compiled`);
    // Nothing counted means the counting broke (or the writes moved out of this connection), not a free cast.
    expect(each.statements).toBeGreaterThanOrEqual(1);
    expect(each.statements, breakdown(counts)).toBeLessThanOrEqual(MAX_STATEMENTS_PER_CAST_ALONE);
    expect(each.prepares, breakdown(counts)).toBeLessThanOrEqual(MAX_PREPARES_PER_CAST_ALONE);
  });

  it(`a hall at once (${AT_ONCE} casts): at most ${MAX_STATEMENTS_PER_JOB} statements per cast and ${MAX_STATEMENTS_PER_BATCH} per transaction`, async () => {
    const pkg = fullPackage(m.form!, 2);
    const tokens = m.tokens.slice(ALONE, ALONE + AT_ONCE);
    const { counts, stop } = countStatements(t.sqlite);
    try {
      const replies = await Promise.all(tokens.map((token) => cast(t, token, pkg)));
      expect(replies.map((r) => r.statusCode)).toEqual(tokens.map(() => 200));
      await settle();
    } finally {
      stop();
    }
    const transactions = [...counts.sql.entries()].filter(([sql]) => /^\s*begin\b/i.test(sql)).reduce((a, [, n]) => a + n, 0);
    const each = perCast(counts, AT_ONCE);
    console.info(`SQL per cast, ${AT_ONCE} casts at once: ${each.statements.toFixed(2)} statements run in ${transactions} transactions, ${each.prepares.toFixed(2)} compiled`);
    expect(transactions, breakdown(counts)).toBeGreaterThanOrEqual(1);
    expect(counts.statements, breakdown(counts)).toBeLessThanOrEqual(MAX_STATEMENTS_PER_JOB * AT_ONCE + MAX_STATEMENTS_PER_BATCH * transactions);
  });
});
