/**
 * The running tally (server/counting/running-tally.ts) on a real SQLite file with ballots cast through
 * the API: what a live step counts once a batch commits, after one rolls back, after a batch that took
 * no step, and once the meeting is forgotten — each time against tests/helpers/recount.ts, a recount
 * that shares no code with server/counting. The package `extra` is never stored: only the tally's own
 * memory can put it into a count, so each answer shows whether the tally used its memory or the file.
 */
import { describe, expect, it } from 'vitest';
import type { BallotPackage, Form } from '../../server/forms/form.schemas.ts';
import { RecountingTally, RunningTally } from '../../server/counting/running-tally.ts';
import { computeResults, tallyIncrements, type TallyRow } from '../../server/counting/tally.ts';
import { validatePackage } from '../../server/ballots/validate-package.ts';
import { makeTestApp } from '../helpers/harness.ts';
import { makeMeeting } from '../helpers/meeting.ts';
import { cast } from '../helpers/phone.ts';
import { countsOfResults, normalizeSent, recountStored } from '../helpers/recount.ts';
import { randomValidPackage, seededRng } from '../factories/forms.ts';

/** The counts a step would show, read through the results (turnout: n ballots, all returned). */
function counts(form: Form, rows: TallyRow[], n: number) {
  const turnout = { expected: n, present: n, issued: n, returned: n, paper: 0, paperIssued: 0, reissued: 0 };
  return countsOfResults(computeResults(form, rows, turnout).parts);
}

describe('the running tally of a meeting', () => {
  it('counts from memory once a batch commits, drops a rolled-back batch, keeps a batch that took no step, and reads the file again once forgotten', async () => {
    const t = await makeTestApp({ seed: 4 });
    try {
      const m = await makeMeeting(t, { kind: 'station', roster: 4, signIn: 4, liveK: 3 });
      const form = m.form!;
      const rng = seededRng(11);
      const sent: BallotPackage[] = [];
      for (const token of m.tokens.slice(0, 3)) {
        const pkg = randomValidPackage(form, rng);
        const res = await cast(t, token, pkg);
        expect(res.statusCode, res.body).toBe(200);
        sent.push(pkg);
      }
      const extra = randomValidPackage(form, rng);
      const normalized = validatePackage(form, extra, 'phone');
      if (!normalized.ok) throw new Error(normalized.problem.message);
      const pending = tallyIncrements(form, normalized.pkg);
      const stored = recountStored(form, sent.map((p) => normalizeSent(form, p)));
      const withExtra = recountStored(form, [...sent, extra].map((p) => normalizeSent(form, p)));
      expect(withExtra).not.toEqual(stored);

      const tally = new RunningTally();
      // Not loaded yet: the stored ballots are recounted (in a real batch the transaction holds its own).
      expect(counts(form, await tally.stage(t.db, m.meetingId, form, pending), 3)).toEqual(stored);
      tally.commit();
      // Loaded: what it holds plus the batch's increments, without reading the file.
      expect(counts(form, await tally.stage(t.db, m.meetingId, form, pending), 4)).toEqual(withExtra);
      tally.rollback();
      tally.commit(); // the next batch touched no meeting: nothing of the rolled-back one is kept
      expect(counts(form, await tally.stage(t.db, m.meetingId, form, []), 3)).toEqual(stored);
      tally.rollback();
      // A batch that publishes no step still grows the counts.
      await tally.note(t.db, m.meetingId, form, pending);
      tally.commit();
      expect(counts(form, await tally.stage(t.db, m.meetingId, form, []), 4)).toEqual(withExtra);
      tally.rollback();
      // Forgotten (voting closed): the next need reads the stored ballots again.
      tally.forget(m.meetingId);
      expect(counts(form, await tally.stage(t.db, m.meetingId, form, pending), 3)).toEqual(stored);

      // Several server processes (PostgreSQL) recount every step from the stored ballots, whatever is pending.
      const recounting = new RecountingTally();
      expect(counts(form, await recounting.stage(t.db, m.meetingId, form), 3)).toEqual(stored);
    } finally {
      await t.close();
    }
  }, 120_000);
});
