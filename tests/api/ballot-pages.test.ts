import { afterEach, describe, expect, it } from 'vitest';
import { ballotPages, listBallots } from '../../server/ballots/ballots.repository.ts';
import type { NormalizedPackage } from '../../server/ballots/validate-package.ts';
import { recountBallots } from '../../server/counting/recount.ts';
import { sumRows, tallyIncrements } from '../../server/counting/tally.ts';
import { makeTestApp, type TestApp } from '../helpers/harness.ts';
import { makeMeeting } from '../helpers/meeting.ts';
import { fullPackage } from '../helpers/packages.ts';
import { cast } from '../helpers/phone.ts';

/**
 * A recount reads a meeting's ballots a page at a time (ballotPages), so a 5,000-ballot close never holds
 * every ballot at once: the pages together must be exactly the meeting's ballots, and the paged recount
 * exactly the recount of all of them at once.
 */
describe('ballot pages', () => {
  let t: TestApp;
  afterEach(async () => {
    await t?.close();
  });

  it('give every filled ballot of the meeting once, in slot order, whatever the page size; the paged recount equals the whole one', async () => {
    t = await makeTestApp();
    const m = await makeMeeting(t, { kind: 'station', roster: 30, signIn: 30 });
    for (const [i, token] of m.tokens.slice(0, 23).entries()) {
      const r = await cast(t, token, fullPackage(m.form!, 1 + (i % 3), i % 3 === 0 ? `意见${i}` : ''));
      expect(r.statusCode).toBe(200);
    }
    // Another meeting's ballots must not appear in this one's pages.
    const other = await makeMeeting(t, { kind: 'station', roster: 5, signIn: 5 });
    for (const token of other.tokens) expect((await cast(t, token, fullPackage(other.form!, 2))).statusCode).toBe(200);

    const all = (await listBallots(t.db, m.meetingId)).map((b) => b.package_json);
    expect(all).toHaveLength(23);
    for (const size of [1, 4, 22, 23, 24, 500]) {
      const pages: string[][] = [];
      for await (const page of ballotPages(t.db, m.meetingId, size)) pages.push(page);
      expect(pages.flat(), `pages of ${size}`).toEqual(all);
      expect(pages.map((p) => p.length), `pages of ${size}`).toEqual(Array.from({ length: Math.ceil(23 / size) }, (_, i) => Math.min(size, 23 - i * size)));
    }
    const whole = sumRows(all.flatMap((json) => tallyIncrements(m.form!, JSON.parse(json) as NormalizedPackage)));
    const key = (r: { part: string; subject: string; grade: string }) => `${r.part}/${r.subject}/${r.grade}`;
    const sorted = <T extends { part: string; subject: string; grade: string }>(rows: T[]) => [...rows].sort((a, b) => key(a).localeCompare(key(b)));
    for (const size of [1, 4, 500]) expect(sorted(await recountBallots(t.db, m.meetingId, m.form!, size))).toEqual(sorted(whole));
    expect(whole.reduce((n, r) => n + r.n, 0)).toBeGreaterThan(23);
  });
});
