import type { Percent, SummaryRow } from './types.ts';
import { UNIT_KIND_LABELS } from './format.ts';

/**
 * The year summary's table: its columns, sorting by any of them, and which units to point out.
 * Figures are the server's (summary.ts); the page only orders and compares them, never recomputes.
 */
export type SummaryColumn =
  | 'unitName' | 'unitKind' | 'state'
  | 'expected' | 'present' | 'issued' | 'returned'
  | 'politicalGood' | 'teamExcellent' | 'teamCompetentOrBetter' | 'secretaryGood'
  | 'flaggedMembers' | 'topRecommended';

export type RateColumn = 'politicalGood' | 'teamExcellent' | 'teamCompetentOrBetter' | 'secretaryGood';

export const SUMMARY_COLUMNS: { key: SummaryColumn; label: string; numeric: boolean }[] = [
  { key: 'unitName', label: '单位', numeric: false },
  { key: 'unitKind', label: '类型', numeric: false },
  { key: 'state', label: '状态', numeric: false },
  { key: 'expected', label: '应到', numeric: true },
  { key: 'present', label: '实到', numeric: true },
  { key: 'issued', label: '发出', numeric: true },
  { key: 'returned', label: '收回', numeric: true },
  { key: 'politicalGood', label: '政治建设好评率', numeric: true },
  { key: 'teamExcellent', label: '班子优秀率', numeric: true },
  { key: 'teamCompetentOrBetter', label: '班子称职以上率', numeric: true },
  { key: 'secretaryGood', label: '书记述职好评率', numeric: true },
  { key: 'flaggedMembers', label: '需进一步考察的成员', numeric: false },
  { key: 'topRecommended', label: '后备干部得票最多', numeric: false },
];

export const RATE_LABELS: Record<RateColumn, string> = {
  politicalGood: '政治建设好评率',
  teamExcellent: '班子优秀率',
  teamCompetentOrBetter: '班子称职以上率（优秀＋称职）',
  secretaryGood: '书记述职好评率',
};

const STATE_ORDER: Record<string, number> = { draft: 0, signin: 1, voting: 2, closed: 3, sealed: 4 };

/** The value a column sorts by; null sorts last in either direction (a meeting not yet closed has no rates). */
function sortValue(row: SummaryRow, key: SummaryColumn): number | string | null {
  const pct = (p: Percent | null) => (p === null ? null : p.tenths);
  switch (key) {
    case 'unitName': return row.unitName;
    case 'unitKind': return UNIT_KIND_LABELS[row.unitKind as keyof typeof UNIT_KIND_LABELS] ?? row.unitKind;
    case 'state': return STATE_ORDER[row.state] ?? -1;
    case 'expected':
    case 'present':
    case 'issued':
    case 'returned':
      return row.turnout[key];
    case 'politicalGood':
    case 'teamExcellent':
    case 'teamCompetentOrBetter':
    case 'secretaryGood':
      return pct(row[key]);
    case 'flaggedMembers': return row.flaggedMembers.length;
    case 'topRecommended': return row.topRecommended?.votes ?? null;
  }
}

export interface SortOrder {
  key: SummaryColumn;
  dir: 'asc' | 'desc';
}

export function sortSummary(rows: readonly SummaryRow[], order: SortOrder): SummaryRow[] {
  const sign = order.dir === 'asc' ? 1 : -1;
  const byName = (a: SummaryRow, b: SummaryRow) => a.unitName.localeCompare(b.unitName, 'zh-Hans-CN') || a.meetingId - b.meetingId;
  return [...rows].sort((a, b) => {
    const x = sortValue(a, order.key);
    const y = sortValue(b, order.key);
    if (x === null || y === null) return x === y ? byName(a, b) : x === null ? 1 : -1;
    const c = typeof x === 'string' ? x.localeCompare(y as string, 'zh-Hans-CN') : x - (y as number);
    return c !== 0 ? sign * c : byName(a, b);
  });
}

/** Clicking a header: a new column starts in its natural direction (names A→Z, figures high→low); the same one flips. */
export function nextOrder(current: SortOrder, key: SummaryColumn): SortOrder {
  if (current.key === key) return { key, dir: current.dir === 'asc' ? 'desc' : 'asc' };
  const numeric = SUMMARY_COLUMNS.find((c) => c.key === key)?.numeric ?? false;
  return { key, dir: numeric ? 'desc' : 'asc' };
}

export interface Threshold {
  column: RateColumn;
  /** In percent with one decimal, as printed: 66.7 means "below 66.7%". */
  below: number;
  /** Also point out units where any member is flagged for further review. */
  flagged: boolean;
}

/** 称职以上率 below two thirds, the review rule of DOMAIN.md, or any flagged member. */
export const DEFAULT_THRESHOLD: Threshold = { column: 'teamCompetentOrBetter', below: 66.7, flagged: true };

/** The threshold's rate of this unit is below it (false while the unit has no rate). */
export function rateBelow(row: SummaryRow, t: Threshold): boolean {
  const rate = row[t.column];
  const limit = Math.round(Number(t.below) * 10);
  return rate !== null && Number.isFinite(limit) && rate.tenths < limit;
}

/**
 * Why a unit needs attention under the threshold, in words; empty when it does not. The comparison is
 * on the one-decimal figure the table shows, so what is highlighted always agrees with what is printed.
 */
export function attentionReasons(row: SummaryRow, t: Threshold): string[] {
  const reasons: string[] = [];
  const rate = row[t.column];
  if (rate !== null && rateBelow(row, t)) {
    reasons.push(`${RATE_LABELS[t.column].replace(/（.*）$/, '')} ${rate.text}，低于 ${(Math.round(t.below * 10) / 10).toFixed(1)}%`);
  }
  if (t.flagged && row.flaggedMembers.length > 0) reasons.push(`需进一步考察：${row.flaggedMembers.join('、')}`);
  return reasons;
}
