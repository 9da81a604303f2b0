/**
 * What a cast costs the database, as a count (not a time, so it does not flake on a loaded machine):
 * every SQL statement the server runs while phones cast, counted at better-sqlite3 itself, under
 * Kysely and anything else. A change that adds queries to the hot path fails here.
 * The bounds are today's figures with a little room; tighten them as the hot path gets leaner.
 * Seen on 2026-11-29: one after another 9.3 statements per cast (3.3 compiled: the transaction's
 * begin and commit and the meeting's row, per transaction); 100 at once 6.5–6.7 per cast in 15–21
 * transactions (6 per cast, 3 per transaction, a live step every k = 5 ballots).
 * With the statement cache under Kysely (server/db/statement-cache.ts, 2026-11-30): 3 statements compiled
 * over the first 30 casts (the texts the cast path uses first: begin immediate, commit, the meeting's
 * row), none over the next 100: what is compiled no longer grows with the casts.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeTestApp, type TestApp } from '../helpers/harness.ts';
import { makeMeeting, type TestMeeting } from '../helpers/meeting.ts';
import { fullPackage } from '../helpers/packages.ts';
import { cast } from '../helpers/phone.ts';
import { breakdown, countStatements, type Counts } from '../helpers/statements.ts';

/** Statements run per cast when each cast is alone in its transaction (one after another), live steps included. */
const MAX_STATEMENTS_PER_CAST_ALONE = 10;
/**
 * Statements compiled (prepared) over all the casts of a test, however many: every statement of the path
 * is compiled once and kept (the cast statements, and Kysely's through the statement cache), so only the
 * texts the path uses for the first time are compiled, a handful.
 */
const MAX_PREPARES_IN_ALL = 5;
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

  it(`one after another: at most ${MAX_STATEMENTS_PER_CAST_ALONE} statements per cast and ${MAX_PREPARES_IN_ALL} compiled in all`, async () => {
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
    expect(counts.prepares, breakdown(counts)).toBeLessThanOrEqual(MAX_PREPARES_IN_ALL);
  });

  it(`a hall at once (${AT_ONCE} casts): at most ${MAX_STATEMENTS_PER_JOB} statements per cast and ${MAX_STATEMENTS_PER_BATCH} per transaction, ${MAX_PREPARES_IN_ALL} compiled in all`, async () => {
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
    expect(counts.prepares, breakdown(counts)).toBeLessThanOrEqual(MAX_PREPARES_IN_ALL);
  });
});
