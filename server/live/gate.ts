/**
 * The k-anonymity rule of the live tally. Distributions are published only in steps of at least k
 * phone ballots, so no observer sees a tally move by a single ballot:
 * - paper ballots do not count towards a step: the team types and confirms them, knows what they say,
 *   and chooses when they count — letting them fill a step would let it single out one phone ballot;
 * - a step is published only while at least 2k phone-capable tickets are still out (issued − phone
 *   ballots returned). Then, whatever happens later (walk-ins, late slips, 补发, paper, a restart), the
 *   result at close moves by at least 2k − (tickets never returned) ≥ k phone ballots whenever at most k
 *   issued ballots are never returned. "All ballots are in" is deliberately not a reason to publish:
 *   a walk-in could still come, vote and be isolated by the close.
 * The result at close is always shown; its step is smaller than k only when more than k issued ballots
 * never come back (or the whole meeting has fewer than k phone ballots), as the README says.
 */
export interface GateInput {
  /** Phone ballots counted now. */
  phone: number;
  /** Phone ballots in the last published snapshot (0 when none). */
  lastPhone: number;
  /** Phone-capable tickets issued (desk QR, slips, 补发) not yet returned as phone ballots. */
  phoneOutstanding: number;
  k: number;
}

export function shouldPublishSnapshot({ phone, lastPhone, phoneOutstanding, k }: GateInput): boolean {
  return phone - lastPhone >= k && phoneOutstanding >= 2 * k;
}

