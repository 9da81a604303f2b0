/**
 * The k-anonymity rule of the live tally. Distributions are published only in steps of at least k
 * phone ballots, so no observer sees a tally move by a single ballot:
 * - paper ballots do not count towards a step: the team types and confirms them, knows what they say,
 *   and chooses when they count — letting them fill a step would let it single out one phone ballot;
 * - a step is held back while fewer than 2k issued ballots are still out (unless all are in), so the
 *   final result at close moves by at least k even when up to k issued ballots are never returned.
 */
export interface GateInput {
  /** Phone ballots counted now. */
  phone: number;
  /** Phone ballots in the last published snapshot (0 when none). */
  lastPhone: number;
  /** Issued ballots not yet returned (发出 − 收回). */
  outstanding: number;
  k: number;
}

export function shouldPublishSnapshot({ phone, lastPhone, outstanding, k }: GateInput): boolean {
  if (phone < k || phone - lastPhone < k) return false;
  return outstanding >= 2 * k || outstanding === 0;
}
