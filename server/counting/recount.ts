import type { DbOrTrx } from '../db/database.ts';
import type { Form } from '../forms/form.schemas.ts';
import type { NormalizedPackage } from '../ballots/validate-package.ts';
import { BALLOT_PAGE, ballotPages } from '../ballots/ballots.repository.ts';
import { sumRows, tallyIncrements, type TallyRow } from './tally.ts';

/** The counters of a meeting, recounted from its stored ballots: the only source of every figure. */
export async function recountBallots(db: DbOrTrx, meetingId: number, form: Form, pageSize = BALLOT_PAGE): Promise<TallyRow[]> {
  let rows: TallyRow[] = [];
  // A page at a time: the sums so far and one page of ballots in memory, never the whole meeting.
  for await (const page of ballotPages(db, meetingId, pageSize)) {
    rows = sumRows([...rows, ...page.flatMap((json) => tallyIncrements(form, JSON.parse(json) as NormalizedPackage))]);
  }
  return rows;
}
