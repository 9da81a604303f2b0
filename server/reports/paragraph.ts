import { flagsText, type PartResult, type RatingResult, type RatingRow, type RecommendResult, type Results } from '../counting/tally.ts';

/**
 * The paragraph for section 二 of the 考察报告 ("参会及测评情况"), ready to paste. Every number comes
 * from computeResults, the same computation as the table, the spreadsheet and the archive.
 */
export function reportParagraph(results: Results): string {
  const t = results.turnout;
  const out: string[] = [];
  const paper = t.paper ? `（其中纸质票${t.paper}张）` : '';
  out.push(
    `本次会议应到${t.expected}人，实到${t.present}人，发出测评票${t.issued}张，收回${t.returned}张${paper}，其中有效票${results.ballots.valid}张` +
      (results.ballots.void > 0 ? `，含废票的${results.ballots.void}张` : '') + '。',
  );
  for (const part of results.parts) {
    const s = partSentence(part);
    if (s) out.push(s);
  }
  return out.join('');
}

function gradeList(part: RatingResult, row: RatingRow): string {
  const items = part.grades.map((g, i) => `${g.label}${row.counts[i]}票（${row.shares[i]!.text}）`);
  if (row.abstain > 0) items.push(`${part.abstainLabel}${row.abstain}票（${row.abstainShare.text}）`);
  return items.join('，');
}

function validText(p: { valid: number; void: number }): string {
  return `有效票${p.valid}张${p.void > 0 ? `，废票${p.void}张` : ''}`;
}

function partSentence(part: PartResult): string | null {
  const title = part.title.replace(/(民主测评表|评议表|推荐表)$/, '');
  if (part.kind === 'comment') return part.withText > 0 ? `收到意见建议${part.withText}条。` : null;
  if (part.kind === 'recommend') {
    const voted = part.ranking.filter((c) => c.rank !== null);
    if (voted.length === 0) return `${title}：${validText(part)}，无人得票。`;
    // One clause per rank, so that equal votes read as a tie and every tied name is there: 甲、乙各得10票（13.9%），并列第1.
    const groups: RecommendResult['ranking'][] = [];
    for (const c of voted) {
      const g = groups[groups.length - 1];
      if (g && g[0]!.rank === c.rank) g.push(c);
      else groups.push([c]);
    }
    const clauses = groups.map((g) =>
      g.length > 1
        ? `${g.map((c) => c.name).join('、')}各得${g[0]!.votes}票（${g[0]!.share.text}），${g[0]!.rankText}`
        : `${g[0]!.name}得${g[0]!.votes}票（${g[0]!.share.text}）`,
    );
    return `${title}：${validText(part)}，${clauses.join('；')}。`;
  }
  if (part.valid === 0) return `${title}：${validText(part)}。`;
  if (part.scale === 'quality') {
    // The overall row (总体评价) speaks for the part; each aspect follows with its 好评率.
    const overall = part.rows.find((r) => r.subject.label === '总体评价') ?? part.rows[part.rows.length - 1]!;
    const others = part.rows.filter((r) => r !== overall);
    const aspects = others.length > 0 ? `；分项好评率：${others.map((r) => `${r.subject.label}${r.rates!.good!.text}`).join('，')}` : '';
    return `${title}（${validText(part)}）：${overall.subject.label}${gradeList(part, overall)}，好评率${overall.rates!.good!.text}${aspects}。`;
  }
  const sentences = part.rows.map((r) => {
    const who = r.subject.detail && r.subject.member ? `${r.subject.label}（${r.subject.detail}）` : r.subject.label;
    return `${who}：${gradeList(part, r)}，优秀率${r.rates!.excellent!.text}，称职以上率${r.rates!.competentOrBetter!.text}`;
  });
  const flagged = part.rows.filter((r) => r.flags.length > 0).map((r) => {
    const why = flagsText(r.flags);
    return `${r.subject.label}${why}`;
  });
  const review = flagged.length > 0 ? `其中${flagged.join('；')}，需进一步考察。` : '';
  return `${title}（${validText(part)}）：${sentences.join('；')}。${review}`;
}
