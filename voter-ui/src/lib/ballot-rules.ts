/**
 * The rules of a phone ballot, pure: which answers are complete, which quotas bite, and the package
 * sent to the server. They mirror server/ballots/validate-package.ts (phone source); tests/voter checks
 * that every package this builds passes the server's own check and that quota limits agree exactly.
 */
import { ABSTAIN, type BallotPackage, type Form, type FormPart, type PartKey, type Quota, type RatingPart, type RecommendPart, type Subject } from './types.ts';

export interface RatingAnswer {
  grades: Record<string, string>;
}
export interface RecommendAnswer {
  picks: string[];
  writeIns: string[];
}
export interface CommentAnswer {
  text: string;
}
/** What the voter has chosen so far, in the package's own shape (rating parts may be partly filled). */
export type Answers = Partial<Record<PartKey, RatingAnswer | RecommendAnswer | CommentAnswer>>;

export interface Problem {
  part: PartKey;
  subject: string | null;
  message: string;
}

const ORDINALS = ['一', '二', '三', '四', '五', '六'];

export function partOrdinal(index: number): string {
  return `第${ORDINALS[index] ?? index + 1}部分`;
}

/**
 * A subject as the voter reads it: a member by name with the position after it (成员1（党支部书记）),
 * a per-criterion subject by member then criterion (张伟（主任） 组织纪律), anything else by its label.
 */
export function subjectName(s: Subject): string {
  if (!s.detail) return s.label;
  return s.detail.endsWith('）') ? `${s.detail} ${s.label}` : `${s.label}（${s.detail}）`;
}

/** How many subjects in scope may get the quota's grade on one ballot (the server's quotaLimit, exactly). */
export function quotaLimit(part: RatingPart, quota: Quota): number {
  const n = part.subjects.filter((s) => quota.scope === 'all' || s.member).length;
  const byShare =
    quota.maxShare === null ? Infinity : Math.max(quota.maxShare > 0 ? 1 : 0, Math.floor(quota.maxShare * n + 1e-9));
  return Math.min(quota.max === null ? Infinity : quota.max, byShare, n);
}

export interface QuotaStatus {
  grade: string;
  gradeLabel: string;
  limit: number;
  used: number;
  /** 人 when the counted subjects are people, 项 otherwise. */
  unit: string;
}

function inScope(quota: Quota, s: Subject): boolean {
  return quota.scope === 'all' || s.member;
}

export function quotaStatus(part: RatingPart, grades: Record<string, string>): QuotaStatus[] {
  return part.quotas.map((q) => {
    const scoped = part.subjects.filter((s) => inScope(q, s));
    return {
      grade: q.grade,
      gradeLabel: part.grades.find((g) => g.key === q.grade)?.label ?? q.grade,
      limit: quotaLimit(part, q),
      used: scoped.filter((s) => grades[s.key] === q.grade).length,
      unit: scoped.some((s) => s.member) ? '人' : '项',
    };
  });
}

export function quotaText(q: QuotaStatus): string {
  return q.limit === 0 ? `本表不能选「${q.gradeLabel}」` : `「${q.gradeLabel}」最多可选 ${q.limit} ${q.unit}，已选 ${q.used} ${q.unit}`;
}

/** Why giving `grade` to `subjectKey` would break a quota, or null when it may. */
export function quotaRefusal(part: RatingPart, grades: Record<string, string>, subjectKey: string, grade: string): string | null {
  const subject = part.subjects.find((s) => s.key === subjectKey);
  if (!subject || grades[subjectKey] === grade) return null;
  for (const q of part.quotas) {
    if (q.grade !== grade || !inScope(q, subject)) continue;
    const status = quotaStatus(part, grades).find((x) => x.grade === q.grade)!;
    const limit = quotaLimit(part, q);
    if (status.used + 1 > limit) {
      return limit === 0
        ? `本表不能选「${status.gradeLabel}」`
        : `「${status.gradeLabel}」最多可选 ${limit} ${status.unit}，已经选满。如要改选，请先把其他${status.unit === '人' ? '人' : '项'}的「${status.gradeLabel}」改为别的等次`;
    }
  }
  return null;
}

/** A written-in name as the server counts it: no spaces anywhere. */
export function normalizeName(name: string): string {
  return name.replace(/\s+/g, '');
}

export function recommendCount(answer: RecommendAnswer): number {
  return answer.picks.length + answer.writeIns.length;
}

export function emptyAnswer(part: FormPart): RatingAnswer | RecommendAnswer | CommentAnswer {
  if (part.kind === 'rating') return { grades: {} };
  if (part.kind === 'recommend') return { picks: [], writeIns: [] };
  return { text: '' };
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * Answers for `form` taken from whatever was stored on the phone: anything that does not fit the form
 * (a changed form, a damaged entry) is dropped, never sent.
 */
export function answersFor(form: Form, stored: unknown): Answers {
  const src = isRecord(stored) ? stored : {};
  const out: Answers = {};
  for (const part of form.parts) {
    const raw = src[part.key];
    const prev = isRecord(raw) ? raw : {};
    if (part.kind === 'rating') {
      const allowed = new Set(part.grades.map((g) => g.key));
      if (part.abstainLabel !== null) allowed.add(ABSTAIN);
      const given = isRecord(prev.grades) ? prev.grades : {};
      const grades: Record<string, string> = {};
      for (const s of part.subjects) {
        const g = given[s.key];
        if (typeof g === 'string' && allowed.has(g)) grades[s.key] = g;
      }
      // A stored answer over a quota (the form changed) loses the grades that break it.
      for (const q of part.quotas) {
        let over = quotaStatus(part, grades).find((x) => x.grade === q.grade)!;
        for (const s of part.subjects) {
          if (over.used <= over.limit) break;
          if (grades[s.key] === q.grade && inScope(q, s)) {
            delete grades[s.key];
            over = quotaStatus(part, grades).find((x) => x.grade === q.grade)!;
          }
        }
      }
      out[part.key] = { grades };
    } else if (part.kind === 'recommend') {
      const keys = new Set(part.candidates.map((c) => c.key));
      const picks = Array.isArray(prev.picks) ? prev.picks.filter((k): k is string => typeof k === 'string' && keys.has(k)) : [];
      const writeIns = part.allowWriteIn && Array.isArray(prev.writeIns)
        ? prev.writeIns.filter((n): n is string => typeof n === 'string' && normalizeName(n) !== '')
        : [];
      const unique = (xs: string[]) => xs.filter((x, i) => xs.indexOf(x) === i);
      const answer = { picks: unique(picks), writeIns: unique(writeIns) };
      while (recommendCount(answer) > part.maxPicks) (answer.writeIns.length ? answer.writeIns : answer.picks).pop();
      out[part.key] = answer;
    } else {
      const text = typeof prev.text === 'string' ? prev.text.slice(0, part.maxLength) : '';
      out[part.key] = { text };
    }
  }
  return out;
}

export function ratingAnswer(answers: Answers, part: RatingPart): RatingAnswer {
  const a = answers[part.key];
  return a && 'grades' in a ? a : { grades: {} };
}

export function recommendAnswer(answers: Answers, part: RecommendPart): RecommendAnswer {
  const a = answers[part.key];
  return a && 'picks' in a ? a : { picks: [], writeIns: [] };
}

export function commentText(answers: Answers, part: FormPart): string {
  const a = answers[part.key];
  return a && 'text' in a ? a.text : '';
}

/** Everything that keeps a part from being sent, first problem first. */
export function partProblems(form: Form, part: FormPart, answers: Answers): Problem[] {
  const problems: Problem[] = [];
  if (part.kind === 'rating') {
    const { grades } = ratingAnswer(answers, part);
    for (const s of part.subjects) {
      if (grades[s.key] === undefined) problems.push({ part: part.key, subject: s.key, message: `「${subjectName(s)}」还没有选择` });
    }
    for (const q of quotaStatus(part, grades)) {
      if (q.used > q.limit) {
        problems.push({ part: part.key, subject: null, message: `「${q.gradeLabel}」最多可选 ${q.limit} ${q.unit}，现已选 ${q.used} ${q.unit}，请改选` });
      }
    }
  } else if (part.kind === 'recommend') {
    const n = recommendCount(recommendAnswer(answers, part));
    if (n > part.maxPicks) problems.push({ part: part.key, subject: null, message: `最多推荐 ${part.maxPicks} 人，现已推荐 ${n} 人，请减少` });
  } else {
    const text = commentText(answers, part).trim();
    if (text.length > part.maxLength) problems.push({ part: part.key, subject: null, message: `意见建议不能超过 ${part.maxLength} 字` });
  }
  return problems;
}

export function findProblems(form: Form, answers: Answers): Problem[] {
  const problems: Problem[] = [];
  for (const p of form.parts) problems.push(...partProblems(form, p, answers));
  return problems;
}

/** The package the server receives: every part, every subject, comment trimmed. */
export function toPackage(form: Form, answers: Answers): BallotPackage {
  const pkg: BallotPackage = {};
  for (const part of form.parts) {
    if (part.kind === 'rating') pkg[part.key] = { grades: { ...ratingAnswer(answers, part).grades } };
    else if (part.kind === 'recommend') {
      const a = recommendAnswer(answers, part);
      pkg[part.key] = { picks: part.candidates.filter((c) => a.picks.indexOf(c.key) >= 0).map((c) => c.key), writeIns: a.writeIns.map(normalizeName) };
    } else pkg[part.key] = { text: commentText(answers, part).trim() };
  }
  return pkg;
}
