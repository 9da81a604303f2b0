import { topCandidates, type Percent, type Rate, type Results } from '../counting/tally.ts';
import type { MeetingView } from '../meetings/meeting.view.ts';
import type { z } from 'zod';
import type { SummaryRow as SummaryRowSchema } from './reports.schemas.ts';
import type { Sheet } from './sheets.ts';

/** One meeting of the year summary (reports.schemas.ts). */
export type SummaryRow = z.infer<typeof SummaryRowSchema>;

export function summaryRow(m: MeetingView, results: Results | null): SummaryRow {
  const row: SummaryRow = {
    meetingId: m.id, unitName: m.unitName, unitKind: m.unitKind, state: m.state, stateLabel: m.stateLabel, turnout: m.turnout,
    politicalGood: null, teamExcellent: null, teamCompetentOrBetter: null, flaggedMembers: [], secretaryGood: null, topRecommended: null,
  };
  if (!results) return row;
  for (const p of results.parts) {
    if (p.kind === 'rating' && p.scale === 'quality') {
      const overall = p.rows.find((r) => r.subject.label === '总体评价') ?? p.rows[p.rows.length - 1];
      const good = overall?.rates?.good ?? null;
      if (p.key === 'C') row.secretaryGood = good;
      else if (row.politicalGood === null) row.politicalGood = good;
    }
    if (p.kind === 'rating' && p.scale === 'competence') {
      const team = p.rows.find((r) => !r.subject.member);
      row.teamExcellent = team?.rates?.excellent ?? null;
      row.teamCompetentOrBetter = team?.rates?.competentOrBetter ?? null;
      // With per-criterion rating the member's name is in the detail (key m<id>_<n>); otherwise in the label.
      row.flaggedMembers = [...new Set(p.rows.filter((r) => r.flags.length > 0).map((r) => (/^m\d+_\d+$/.test(r.subject.key) ? r.subject.detail ?? r.subject.label : r.subject.label)))];
    }
    if (p.kind === 'recommend') {
      const top = topCandidates(p);
      row.topRecommended = top.length > 0 ? { names: top.map((c) => c.name), votes: top[0]!.votes, share: top[0]!.share } : null;
    }
  }
  return row;
}

const pct = (p: Percent | null) => (p === null ? null : { percent: p });
const KIND: Record<string, string> = { village: '村', community: '社区', station: '站所' };

export function summarySheet(rows: SummaryRow[]): Sheet {
  return {
    name: '年度汇总',
    header: ['单位', '类型', '状态', '应到', '实到', '发出', '收回', '政治建设好评率', '班子优秀率', '班子称职以上率', '需进一步考察', '书记述职好评率', '后备干部得票最多'],
    rows: rows.map((r) => [
      r.unitName, KIND[r.unitKind] ?? r.unitKind, r.stateLabel,
      r.turnout.expected, r.turnout.present, r.turnout.issued, r.turnout.returned,
      pct(r.politicalGood), pct(r.teamExcellent), pct(r.teamCompetentOrBetter), r.flaggedMembers.join('、'),
      pct(r.secretaryGood), topRecommendedText(r.topRecommended),
    ]),
  };
}

/** 王芳（40票）, or every tied name: 王芳、李明（并列第1，各40票）. */
export function topRecommendedText(top: SummaryRow['topRecommended']): string {
  if (!top) return '';
  return top.names.length > 1 ? `${top.names.join('、')}（并列第1，各${top.votes}票）` : `${top.names[0]}（${top.votes}票）`;
}
