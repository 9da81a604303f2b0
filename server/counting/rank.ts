/**
 * Ranks from vote counts: equal votes share a rank (并列第1), and the rank after a tie skips the
 * places the tie took (10, 10, 7 → 1, 1, 3), as a 监票人 ranks by hand. Pure; the position of a
 * name in a list is never its rank.
 *
 * (Issue 12 added this beside tally.ts so the report could show ties; when tally.ts carries a rank
 * of its own, this is the function to fold into it.)
 */
export function competitionRanks(votes: readonly number[]): number[] {
  return votes.map((v) => 1 + votes.filter((w) => w > v).length);
}
