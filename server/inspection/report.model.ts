import { flagsText, rankCandidates, type PartResult, type RatingResult, type RecommendResult, type Results } from '../counting/tally.ts';
import type { UnitKind } from '../db/schema.ts';

/**
 * The 考察报告 as one model, read by both the Word file and the print view so they never differ.
 * Section 二 is made only from the sealed Results (computeResults, the one counting module): every
 * figure and percentage here is copied from them, never computed again. Sections 一, 三–五 come from
 * the unit's team and the texts the inspection team wrote. No talk, note, record, inquiry or 鉴定表
 * content goes into a report: they are kept apart from anything that carries ballot figures.
 */

export interface ReportTable {
  caption: string;
  header: string[];
  rows: string[][];
  /** Rows to mark (a member sent to further review, a tie). */
  marked: boolean[];
  /** Relative column widths, the same in Word and in print. */
  widths: number[];
  note: string | null;
}

export interface ReportSubsection {
  heading: string;
  paragraphs: string[];
  tables: ReportTable[];
}

export interface ReportSection {
  heading: string;
  paragraphs: string[];
  subsections: ReportSubsection[];
  /** Written by the team (三–五, and the note of 一); empty ones print a placeholder. */
  written: boolean;
}

export interface ReportModel {
  title: string;
  intro: string;
  sections: ReportSection[];
  signature: { team: string; date: string };
  /** Where section 二's figures come from: the sealed archive's SHA-256 and the signing key's fingerprint. */
  source: { sealed: boolean; archiveSha256: string | null; fingerprint: string | null; text: string };
  /** The .docx file's name. */
  fileName: string;
}

export interface ReportInput {
  township: string;
  year: number;
  unitName: string;
  unitKind: UnitKind;
  /** When the meeting was (planned), ISO or "2020-11-25T09:00". */
  meetingDate: string | null;
  inspectionTeam: string;
  team: { name: string; position: string }[];
  texts: { section1Note: string; section3: string; section4: string; section5: string };
  /** The sealed meeting's results; null until the meeting is sealed. */
  results: Results | null;
  archive: { sha256: string; fingerprint: string; sealedAt: string } | null;
  /** An imported report whose sealed archive (this SHA-256) is not here: section 二 says so. */
  missingArchive?: string | null;
  /** The date the report is dated (the app's clock). */
  today: Date;
}

export const SECTION_HEADINGS = [
  '一、班子集体及成员情况',
  '二、参会及测评情况',
  '三、本年度主要工作成绩',
  '四、存在的问题',
  '五、考察组综合评价及工作建议',
] as const;

export const PLACEHOLDER = '（待考察组填写）';

/** "2020年11月25日" in the server's local time. */
export function chineseDate(value: Date | string | null): string {
  if (value === null) return '';
  const d = typeof value === 'string' ? new Date(value) : value;
  if (Number.isNaN(d.getTime())) return String(value);
  return `${d.getFullYear()}年${d.getMonth() + 1}月${d.getDate()}日`;
}

export function paragraphsOf(text: string): string[] {
  return text
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l !== '');
}

function subjectText(s: { label: string; detail: string | null; member: boolean }): string {
  if (!s.detail) return s.label;
  if (s.member && !s.detail.endsWith('）')) return `${s.label}（${s.detail}）`;
  return `${s.detail} ${s.label}`;
}

function teamWord(kind: UnitKind): string {
  return kind === 'station' ? '班子' : '“两委”班子';
}

function section1(input: ReportInput): ReportSection {
  const paragraphs: string[] = [];
  if (input.team.length === 0) paragraphs.push(`${input.unitName}尚未录入班子成员。`);
  else {
    const members = input.team.map((m) => `${m.name}（${m.position}）`).join('、');
    paragraphs.push(`${input.unitName}${teamWord(input.unitKind)}共有成员${input.team.length}人：${members}。`);
  }
  paragraphs.push(...paragraphsOf(input.texts.section1Note));
  return { heading: SECTION_HEADINGS[0], paragraphs, subsections: [], written: false };
}

function validText(p: { valid: number; void: number }): string {
  return `有效票${p.valid}张${p.void > 0 ? `，废票${p.void}张` : ''}`;
}

const SHARE_NOTE = '表中每格为票数及其占该部分有效票的比例，比例保留一位小数。';

function ratingTable(part: RatingResult): ReportTable {
  const rateNames = part.scale === 'quality' ? ['好评率'] : ['优秀率', '称职以上率', '不称职率'];
  const header = ['测评对象', ...part.grades.map((g) => g.label), part.abstainLabel, ...rateNames];
  const rows = part.rows.map((row) => {
    const r = row.rates;
    const rates = part.scale === 'quality' ? [r?.good] : [r?.excellent, r?.competentOrBetter, r?.incompetent];
    return [
      `${row.flags.length > 0 ? '▲' : ''}${subjectText(row.subject)}`,
      ...row.counts.map((c, i) => `${c}（${row.shares[i]!.text}）`),
      `${row.abstain}（${row.abstainShare.text}）`,
      ...rates.map((p) => p?.text ?? '—'),
    ];
  });
  const marked = part.rows.map((row) => row.flags.length > 0);
  const note =
    part.scale === 'competence'
      ? `${SHARE_NOTE}▲ 表示不称职票超过有效票的三分之一，或优秀和称职票合计不足三分之二，按规定需进一步考察（按票数精确判断）。`
      : `${SHARE_NOTE}好评率 =（好 + 较好）÷ 有效票。`;
  const widths = [3.2, ...part.grades.map(() => 1.5), 1.5, ...rateNames.map(() => 1.2)];
  return { caption: `${part.title}（${validText(part)}）`, header, rows, marked, note, widths };
}

function ratingParagraph(part: RatingResult): string {
  if (part.valid === 0) return `${part.title}：${validText(part)}。`;
  if (part.scale === 'quality') {
    const overall = part.rows.find((r) => r.subject.label === '总体评价') ?? part.rows[part.rows.length - 1]!;
    return `${part.title}：${validText(part)}，${overall.subject.label}好评率${overall.rates?.good?.text ?? '—'}。`;
  }
  const team = part.rows.find((r) => !r.subject.member);
  const head = team ? `，${team.subject.label}优秀率${team.rates?.excellent?.text ?? '—'}、称职以上率${team.rates?.competentOrBetter?.text ?? '—'}` : '';
  const flagged = part.rows.filter((r) => r.flags.length > 0).map((r) => {
    const why = flagsText(r.flags);
    return `${subjectText(r.subject)}${why}`;
  });
  return `${part.title}：${validText(part)}${head}。${flagged.length > 0 ? `其中${flagged.join('；')}，需进一步考察。` : ''}`;
}

function recommendSubsection(part: RecommendResult, heading: string): ReportSubsection {
  const intro = `${part.title}：${validText(part)}，每张票最多推荐${part.maxPicks}人。`;
  const withVotes = part.ranking.filter((c) => c.votes > 0);
  if (withVotes.length === 0) return { heading, paragraphs: [`${intro}无人得票。`], tables: [] };
  // Ranks as the counting module gives them (results kept before it did are ranked the same way here).
  const ranked = part.ranking.every((c) => typeof c.rankText === 'string') ? part.ranking : rankCandidates(part.ranking);
  const text = ranked.map((c) => c.rankText);
  const tied = ranked.map((c) => c.tied);
  // Everyone sharing the first rank is named: a tie is never shown as one winner.
  const top = ranked.filter((c) => c.rank === 1);
  const first = top[0]!;
  const topText =
    top.length > 1
      ? `得票最多的是${top.map((c) => c.name).join('、')}（并列第1，各得${first.votes}票，得票率${first.share.text}）`
      : `得票最多的是${first.name}（${first.votes}票，得票率${first.share.text}）`;
  const table: ReportTable = {
    caption: `${part.title}得票情况`,
    header: ['名次', '姓名', '来源', '得票', '得票率'],
    rows: ranked.map((c, i) => [text[i]!, c.name, c.listed ? '候选人名单' : '另行推荐', String(c.votes), c.share.text]),
    marked: tied,
    widths: [1.3, 1.6, 2, 1, 1.2],
    note: '得票率 = 得票 ÷ 有效票，保留一位小数；得票相同的名次并列。',
  };
  return { heading, paragraphs: [`${intro}${topText}。`], tables: [table] };
}

function section2(input: ReportInput): ReportSection {
  const heading = SECTION_HEADINGS[1];
  const r = input.results;
  if (!r) {
    const text = input.missingArchive
      ? `本部分应取自封存的测评档案（SHA-256：${input.missingArchive}），但本机没有核验通过的该档案；请先导入该年度的封存档案。`
      : '测评结果尚未封存。结果封存后，本部分由系统根据封存的测评结果自动生成。';
    return { heading, paragraphs: [text], subsections: [], written: false };
  }
  const t = r.turnout;
  const paper = t.paper ? `（其中纸质票${t.paper}张）` : '';
  const attendance: ReportSubsection = {
    heading: '（一）参会人数',
    paragraphs: [`本次会议应到${t.expected}人，实到${t.present}人（以签到表为准）。`],
    tables: [],
  };
  const partsTable: ReportTable = {
    caption: '各测评表票数',
    header: ['测评表', '有效票', '废票'],
    rows: r.parts.map((p) => [p.title, String(p.valid), String(p.void)]),
    marked: r.parts.map(() => false),
    widths: [4, 1, 1],
    note: '一张票中某一部分超过限选人数或无法辨认的，该部分为废票，其余部分照常计入。',
  };
  const ballots: ReportSubsection = {
    heading: '（二）测评票数',
    paragraphs: [
      `发出测评票${t.issued}张，收回${t.returned}张${paper}，其中各部分均有效的票${r.ballots.valid}张` +
        (r.ballots.void > 0 ? `，含废票的票${r.ballots.void}张` : '') + '。',
    ],
    tables: [partsTable],
  };
  const rating = r.parts.filter((p): p is RatingResult => p.kind === 'rating');
  const votes: ReportSubsection = {
    heading: '（三）得票情况',
    paragraphs: rating.map(ratingParagraph),
    tables: rating.map(ratingTable),
  };
  const comments = r.parts.filter((p: PartResult) => p.kind === 'comment').reduce((a, p) => a + (p.kind === 'comment' ? p.withText : 0), 0);
  if (comments > 0) votes.paragraphs.push(`另收到意见建议${comments}条，原文见测评结果汇总表。`);
  const subsections = [attendance, ballots, votes];
  const recommend = r.parts.filter((p): p is RecommendResult => p.kind === 'recommend');
  recommend.forEach((p, i) => subsections.push(recommendSubsection(p, i === 0 ? '（四）后备干部人选推荐情况' : `（${'五六七'[i - 1] ?? i + 4}）${p.title}`)));
  return { heading, paragraphs: [], subsections, written: false };
}

function written(heading: string, text: string): ReportSection {
  const paragraphs = paragraphsOf(text);
  return { heading, paragraphs: paragraphs.length > 0 ? paragraphs : [PLACEHOLDER], subsections: [], written: true };
}

export function buildReportModel(input: ReportInput): ReportModel {
  const when = input.meetingDate ? chineseDate(input.meetingDate) : '';
  const team = input.inspectionTeam.trim() || `${input.township}考察组`;
  const source = input.archive && input.results
    ? {
        sealed: true,
        archiveSha256: input.archive.sha256,
        fingerprint: input.archive.fingerprint,
        text: `本报告第二部分的数字取自${chineseDate(input.archive.sealedAt)}封存的测评档案（SHA-256：${input.archive.sha256}），封存签名公钥指纹 ${input.archive.fingerprint}，可用 npx ceping verify 核验。`,
      }
    : input.missingArchive
      ? { sealed: false, archiveSha256: input.missingArchive, fingerprint: null, text: `第二部分应取自的测评档案（SHA-256：${input.missingArchive}）本机尚未导入或核验未通过。` }
      : { sealed: false, archiveSha256: null, fingerprint: null, text: '测评结果尚未封存，第二部分暂缺；封存后重新下载即可生成。' };
  return {
    title: `${input.unitName}${input.year}年度党组织政治建设考察暨班子年度考核考察报告`,
    intro:
      `根据${input.township}党委统一部署，${team}${when ? `于${when}` : ''}对${input.unitName}党组织进行了政治建设考察暨班子年度考核，` +
      '通过大会述职、民主测评、个别谈话、查阅资料等方式，全面了解了班子及成员的情况。现将考察情况报告如下：',
    sections: [
      section1(input),
      section2(input),
      written(SECTION_HEADINGS[2], input.texts.section3),
      written(SECTION_HEADINGS[3], input.texts.section4),
      written(SECTION_HEADINGS[4], input.texts.section5),
    ],
    signature: { team, date: chineseDate(input.today) },
    source,
    fileName: `${input.unitName}考察报告.docx`,
  };
}
