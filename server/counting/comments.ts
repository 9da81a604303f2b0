import { createHash } from 'node:crypto';
import type { DbOrTrx } from '../db/database.ts';
import { ballotPages } from '../ballots/ballots.repository.ts';

/** Part E texts in an order unrelated to casting: sorted by a hash of each text (keyed where a key is known). */
export function orderComments(texts: string[], key: string): string[] {
  const rank = (t: string) => createHash('sha256').update(`${key}:${t}`).digest('hex');
  return texts
    .map((t) => ({ t, r: rank(t) }))
    .sort((a, b) => (a.r < b.r ? -1 : a.r > b.r ? 1 : 0))
    .map((x) => x.t);
}

export function commentsOf(packages: unknown[]): string[] {
  const out: string[] = [];
  for (const pkg of packages) {
    for (const answer of Object.values((pkg ?? {}) as Record<string, unknown>)) {
      const text = answer && typeof answer === 'object' && 'text' in answer ? String((answer as { text: unknown }).text).trim() : '';
      if (text !== '') out.push(text);
    }
  }
  return out;
}

/**
 * A meeting's comments from its stored ballots, in the order every output shows them: sorted by a hash
 * of the text keyed with the server's pepper and the meeting, so the same in the print view, the
 * spreadsheet and the CSV, and saying nothing about who wrote first (nor even about the alphabet).
 * Read once at close and kept (meetings.comments_json); a report then reads only what was kept.
 */
export async function recountComments(db: DbOrTrx, meetingId: number, pepper: Buffer): Promise<string[]> {
  const comments: ReturnType<typeof commentsOf> = [];
  // A page at a time (ballotPages): only the comments are kept, not the packages they came from.
  for await (const page of ballotPages(db, meetingId)) comments.push(...commentsOf(page.map((json) => JSON.parse(json) as unknown)));
  return orderComments(comments, `${pepper.toString('hex')}:${meetingId}`);
}
