import type { DbOrTrx } from '../db/database.ts';
import type { Form } from '../forms/form.schemas.ts';
import type { NormalizedPackage } from '../ballots/validate-package.ts';
import { listBallots } from '../ballots/ballots.repository.ts';
import { sumRows, tallyIncrements, type TallyRow } from './tally.ts';

/** The counters of a meeting, recounted from its stored ballots: the only source of every figure. */
export async function recountBallots(db: DbOrTrx, meetingId: number, form: Form): Promise<TallyRow[]> {
  const ballots = await listBallots(db, meetingId);
  return sumRows(ballots.flatMap((b) => tallyIncrements(form, JSON.parse(b.package_json) as NormalizedPackage)));
}
