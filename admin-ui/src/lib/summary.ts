import type { Rate, SummaryRow } from './types.ts';
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
  // The exact ratio, so two units with the same one-decimal figure still sort by what they really got.
  const pct = (p: Rate | null) => (p === null ? null : p.count / p.of);
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
  /** The limit as typed: a fraction such as 2/3, or a percentage such as 60 or 66.7. */
  below: string;
  /** Also point out units where any member is flagged for further review. */
  flagged: boolean;
}

/** A limit as an exact fraction num/den, and how to say it. */
export interface Limit {
  num: number;
  den: number;
  text: string;
}

const FRACTION_WORDS: Record<string, string> = { '1/3': '三分之一', '2/3': '三分之二', '1/2': '二分之一', '3/4': '四分之三', '1/4': '四分之一' };

/** "2/3" → 2/3 (三分之二); "60" or "66.7%" → 600/1000 or 667/1000; anything else (or above 100%) → null. */
export function parseLimit(text: string): Limit | null {
  const t = String(text).trim();
  const frac = /^(\d{1,4})\s*\/\s*(\d{1,4})$/.exec(t);
  if (frac) {
    const num = Number(frac[1]);
    const den = Number(frac[2]);
    if (den === 0 || num > den) return null;
    return { num, den, text: FRACTION_WORDS[`${num}/${den}`] ?? `${num}/${den}` };
  }
  const pct = /^(\d{1,3})(?:\.(\d))?\s*%?$/.exec(t);
  if (pct) {
    const tenths = Number(pct[1]) * 10 + Number(pct[2] ?? 0);
    if (tenths > 1000) return null;
    return { num: tenths, den: 1000, text: `${Math.floor(tenths / 10)}.${tenths % 10}%` };
  }
  return null;
}

/** 称职以上率 under two thirds, the review rule of DOMAIN.md, or any flagged member. */
export const DEFAULT_THRESHOLD: Threshold = { column: 'teamCompetentOrBetter', below: '2/3', flagged: true };

/**
 * The threshold's rate of this unit is below it (false while the unit has no rate or the limit cannot
 * be read). Judged from the counts behind the rate, exactly: count ÷ valid < num ÷ den, never from
 * the rounded figure, so 66.7% that is exactly two thirds is not below two thirds.
 */
export function rateBelow(row: SummaryRow, t: Threshold): boolean {
  const rate = row[t.column];
  const limit = parseLimit(t.below);
  return rate !== null && limit !== null && rate.count * limit.den < limit.num * rate.of;
}

/** Why a unit needs attention under the threshold, in words; empty when it does not. */
export function attentionReasons(row: SummaryRow, t: Threshold): string[] {
  const reasons: string[] = [];
  const rate = row[t.column];
  const limit = parseLimit(t.below);
  if (rate !== null && limit !== null && rateBelow(row, t)) {
    reasons.push(`${RATE_LABELS[t.column].replace(/（.*）$/, '')} ${rate.text}（${rate.count}/${rate.of}），低于${limit.text}`);
  }
  if (t.flagged && row.flaggedMembers.length > 0) reasons.push(`需进一步考察：${row.flaggedMembers.join('、')}`);
  return reasons;
}

/** 王芳（40票，57.1%）, or every tied name: 王芳、李明（并列第1，各40票，57.1%）. */
export function topText(top: SummaryRow['topRecommended']): string {
  if (!top) return '—';
  return top.names.length > 1
    ? `${top.names.join('、')}（并列第1，各${top.votes}票，${top.share.text}）`
    : `${top.names[0]}（${top.votes}票，${top.share.text}）`;
}
