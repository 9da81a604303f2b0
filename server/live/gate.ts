/**
 * The k-anonymity rule of the live tally. Distributions are published only in steps of at least k
 * phone ballots, so no observer sees a tally move by a single ballot:
 * - paper ballots do not count towards a step: the team types and confirms them, knows what they say,
 *   and chooses when they count — letting them fill a step would let it single out one phone ballot;
 * - a step is published only while at least 2k phone-capable tickets are still out (issued − phone
 *   ballots returned). Then, whatever happens later (walk-ins, late slips, 补发, paper, a restart), the
 *   result at close moves by at least 2k − (tickets never returned) ≥ k phone ballots whenever at most k
 *   issued ballots are never returned. "All ballots are in" is deliberately not a reason to publish:
 *   a walk-in could still come, vote and be isolated by the close. The one thing that lowers "issued",
 *   a sign-in undone (撤销), is refused once a step is out where it would leave fewer than 2k phone
 *   tickets issued beyond that step's phone ballots (server/roster/roster.repository.ts, uncountIssued).
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

/** Why a step is held back; both can hold at once. Observers are told these, never a made-up reason. */
export type HoldReason =
  /** Fewer than k new phone ballots since the last step (or, before the first, in all). */
  | { code: 'FEWER_THAN_K_NEW'; k: number; newPhone: number }
  /** Fewer than 2k phone-capable tickets still out. */
  | { code: 'FEW_OUTSTANDING'; k: number; outstanding: number };

export function holdReasons({ phone, lastPhone, phoneOutstanding, k }: GateInput): HoldReason[] {
  const reasons: HoldReason[] = [];
  if (phone - lastPhone < k) reasons.push({ code: 'FEWER_THAN_K_NEW', k, newPhone: phone - lastPhone });
  if (phoneOutstanding < 2 * k) reasons.push({ code: 'FEW_OUTSTANDING', k, outstanding: phoneOutstanding });
  return reasons;
}

export function shouldPublishSnapshot(input: GateInput): boolean {
  return holdReasons(input).length === 0;
}

/** What an observer of the live feed knows: the turnout and the count of the last snapshot. */
export interface LiveView {
  k: number;
  issued: number;
  /** Paper forms handed out (part of issued; they never step the gate). */
  paperIssued: number;
  returned: number;
  paper: number;
  /** Ballots (phone and paper) in the last snapshot; null before the first. */
  snapshotCount: number | null;
}

/**
 * Why the chart lags behind 收回, from what the live feed tells an observer. Paper ballots confirmed
 * since the last step are not told apart from phone ones, so "new phone ballots" is an upper bound;
 * the 2k rule is exact. Empty when the chart is up to date.
 */
export function explainHold(v: LiveView): HoldReason[] {
  const behind = v.returned - (v.snapshotCount ?? 0);
  if (behind <= 0) return [];
  const phone = v.returned - v.paper;
  const lastPhone = v.snapshotCount === null ? 0 : Math.max(0, phone - behind);
  const reasons = holdReasons({ phone, lastPhone, phoneOutstanding: v.issued - v.paperIssued - phone, k: v.k });
  // No newer snapshot came, so a rule holds it; with the 2k rule not holding, it is the k new phone ballots.
  return reasons.length > 0 ? reasons : [{ code: 'FEWER_THAN_K_NEW', k: v.k, newPhone: Math.min(behind, phone) }];
}

/** With fewer than 3k phone-capable tickets issued, no step can be published during voting (only the result at close). */
export function noStepDuringVoting(phoneTickets: number, k: number): boolean {
  return phoneTickets < 3 * k;
}
