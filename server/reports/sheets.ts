import { flagsText, ROUNDING_NOTE, ROUNDING_RULE, type Percent, type Results } from '../counting/tally.ts';

/**
 * A table as the spreadsheet and the CSV show it: numbers stay numbers; a percentage keeps the
 * counting module's figure (the XLSX cell holds exactly that one-decimal value, the CSV its text).
 */
export type Cell = string | number | { percent: Percent } | null;
export interface Sheet {
  name: string;
  header: string[];
  rows: Cell[][];
}

const pct = (p: Percent): Cell => ({ percent: p });

export interface SheetMeta {
  unitName: string;
  township: string;
  year: number;
}

/** One sheet per part plus a summary, all read from the one computation. */
export function resultSheets(meta: SheetMeta, results: Results, comments: string[]): Sheet[] {
  const t = results.turnout;
  const sheets: Sheet[] = [
    {
      name: '汇总',
      header: ['项目', '数量'],
      rows: [
        ['单位', meta.unitName],
        ['年度', meta.year],
        ['应到人数', t.expected],
        ['实到人数', t.present],
        ['发出票数', t.issued],
        ['收回票数', t.returned],
        ['有效票', results.ballots.valid],
        ['含废票', results.ballots.void],
        ...results.parts.map((p): Cell[] => [`${p.title} 有效票/废票`, `${p.valid}/${p.void}`]),
        ['百分比说明', `${ROUNDING_RULE}${ROUNDING_NOTE}`],
      ],
    },
  ];
  for (const part of results.parts) {
    if (part.kind === 'rating') {
      const rateNames = part.scale === 'quality' ? ['好评率'] : ['优秀率', '称职以上率', '不称职率'];
      sheets.push({
        name: part.title.slice(0, 31),
        header: [
          '测评对象', '职务/说明',
          ...part.grades.flatMap((g) => [`${g.label}(票)`, `${g.label}(%)`]),
          `${part.abstainLabel}(票)`, `${part.abstainLabel}(%)`,
          ...rateNames, '提示',
        ],
        rows: part.rows.map((r) => [
          r.subject.label,
          r.subject.detail ?? '',
          ...r.counts.flatMap((c, i) => [c, pct(r.shares[i]!)]),
          r.abstain, pct(r.abstainShare),
          ...(r.rates === null
            ? rateNames.map(() => null)
            : part.scale === 'quality'
              ? [pct(r.rates.good!)]
              : [pct(r.rates.excellent!), pct(r.rates.competentOrBetter!), pct(r.rates.incompetent!)]),
          flagsText(r.flags, '；'),
        ]),
      });
    } else if (part.kind === 'recommend') {
      sheets.push({
        name: part.title.slice(0, 31),
        header: ['名次', '姓名', '来源', '得票', '得票率'],
        // 名次 as text: equal votes share a rank (并列第1).
        rows: part.ranking.map((c) => [c.rankText, c.name, c.listed ? '候选名单' : '另行推荐', c.votes, pct(c.share)]),
      });
    } else {
      sheets.push({ name: part.title.slice(0, 31), header: ['序号', '意见建议（随机顺序）'], rows: comments.map((c, i) => [i + 1, c]) });
    }
  }
  return sheets;
}


export function cellText(c: Cell): string {
  if (c === null) return '';
  if (typeof c === 'object') return c.percent.text;
  return String(c);
}
