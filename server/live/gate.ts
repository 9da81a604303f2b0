/**
 * The k-anonymity rule of the live tally. Distributions are published only in steps of at least k
 * ballots, so no observer sees a tally move by a single ballot. A step is also held back while fewer
 * than k ballots are still outstanding (issued − returned), unless every issued ballot is in: otherwise
 * the final result at close could differ from the last step by only one or two ballots.
 */
export interface GateInput {
  /** Ballots counted now. */
  count: number;
  /** Ballots in the last published snapshot (0 when none). */
  lastPublished: number;
  /** Ballots issued (发出). */
  issued: number;
  k: number;
}

export function shouldPublishSnapshot({ count, lastPublished, issued, k }: GateInput): boolean {
  if (count < k || count - lastPublished < k) return false;
  return issued - count >= k || count === issued;
}
