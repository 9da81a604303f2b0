import {
  ABSTAIN,
  type BallotPackage,
  type BallotSource,
  type Form,
  type FormPart,
  type PartKey,
  type Quota,
  type RatingPart,
  type RecommendPart,
  type Subject,
} from '../forms/form.schemas.ts';

/** A package checked against its form: every part present, every rating subject present. */
export type NormalizedAnswer =
  | { grades: Record<string, string> }
  | { picks: string[]; writeIns: string[] }
  | { text: string }
  | { void: true };
export type NormalizedPackage = Partial<Record<PartKey, NormalizedAnswer>>;

export interface PackageProblem {
  part: PartKey | null;
  subject: string | null;
  message: string;
}

export type PackageCheck = { ok: true; pkg: NormalizedPackage } | { ok: false; problem: PackageProblem };

const ORDINALS = ['一', '二', '三', '四', '五', '六'];

export function partName(form: Form, part: FormPart): string {
  const i = form.parts.indexOf(part);
  return `第${ORDINALS[i] ?? i + 1}部分「${part.title}」`;
}

export function subjectName(s: Subject): string {
  return s.detail ? `${s.detail} ${s.label}` : s.label;
}

/**
 * What every check of a part looks up, built once per part object and kept while the object lives: a
 * form is frozen from sign-in on, and each cast would otherwise build these maps and sets again.
 */
const lookups = new WeakMap<object, unknown>();
function lookup<K extends object, V>(key: K, build: (key: K) => V): V {
  let v = lookups.get(key) as V | undefined;
  if (v === undefined) lookups.set(key, (v = build(key)));
  return v;
}

const partKeys = (form: Form) => lookup(form, (f) => new Set<string>(f.parts.map((p) => p.key)));
const ratingLookup = (part: RatingPart) =>
  lookup(part, (p) => ({
    bySubject: new Map(p.subjects.map((s) => [s.key, s])),
    gradeKeys: new Set(p.grades.map((g) => g.key)),
    limits: p.quotas.map((q) => quotaLimit(p, q)),
  }));
const recommendLookup = (part: RecommendPart) =>
  lookup(part, (p) => ({
    byKey: new Map(p.candidates.map((c) => [c.key, c])),
    // Names are compared without spaces: a list may print 王　芳 for alignment while the voter writes 王芳.
    byName: new Map(p.candidates.map((c) => [c.name.replace(/\s+/g, ''), c])),
  }));

/** How many subjects in scope may get the quota's grade on one ballot. A share never rounds a team down to none. */
export function quotaLimit(part: RatingPart, quota: Quota): number {
  const n = part.subjects.filter((s) => quota.scope === 'all' || s.member).length;
  const byShare = quota.maxShare === null ? Infinity : Math.max(quota.maxShare > 0 ? 1 : 0, Math.floor(quota.maxShare * n + 1e-9));
  return Math.min(quota.max ?? Infinity, byShare, n);
}

/** The first quota a rating part's grades break, with the figures to say so; null within every quota. */
export function quotaOverrun(part: RatingPart, grades: Record<string, string | undefined>): { label: string; limit: number; used: number } | null {
  const { limits } = ratingLookup(part);
  for (const [i, q] of part.quotas.entries()) {
    const limit = limits[i]!;
    let used = 0;
    for (const s of part.subjects) if ((q.scope === 'all' || s.member) && grades[s.key] === q.grade) used++;
    if (used > limit) return { label: part.grades.find((g) => g.key === q.grade)?.label ?? q.grade, limit, used };
  }
  return null;
}

class Refusal extends Error {
  constructor(readonly problem: PackageProblem) {
    super(problem.message);
  }
}

/**
 * Check a ballot package against the meeting's form. A phone package must be complete and within every
 * quota (the page prevents anything else, so a refusal names the part and subject). A paper package is
 * entered as marked: a blank subject is 弃权, and a part over its quota becomes void, as on paper.
 */
export function validatePackage(form: Form, input: BallotPackage, source: BallotSource, clean: TextRule = withoutControls): PackageCheck {
  try {
    const known = partKeys(form);
    for (const k of Object.keys(input)) {
      if (!known.has(k)) throw new Refusal({ part: null, subject: null, message: `测评表中没有第「${k}」部分` });
    }
    const pkg: NormalizedPackage = {};
    for (const part of form.parts) pkg[part.key] = checkPart(form, part, input[part.key], source, clean);
    return { ok: true, pkg };
  } catch (e) {
    if (e instanceof Refusal) return { ok: false, problem: e.problem };
    throw e;
  }
}

function checkPart(form: Form, part: FormPart, answer: unknown, source: BallotSource, clean: TextRule): NormalizedAnswer {
  const refuse = (message: string, subject: string | null = null): never => {
    throw new Refusal({ part: part.key, subject, message: `${partName(form, part)}：${message}` });
  };
  if (answer !== undefined && typeof answer === 'object' && answer !== null && 'void' in answer) {
    if (source !== 'paper') refuse('手机测评不能作废');
    return { void: true };
  }
  switch (part.kind) {
    case 'comment': {
      if (answer === undefined) return { text: '' };
      if (!has(answer, 'text')) return refuse('内容格式不正确');
      const text = clean(String(answer.text)).trim();
      if (text.length > part.maxLength) refuse(`意见建议不能超过 ${part.maxLength} 字`);
      return { text };
    }
    case 'recommend':
      return checkRecommend(part, answer, source, refuse, clean);
    case 'rating':
      return checkRating(part, answer, source, refuse);
  }
}

/**
 * Free text (the comment, written-in names) is kept without what nobody types and nothing shows:
 * control characters other than tab and newline, Unicode noncharacters (U+FDD0–U+FDEF, U+nFFFE and
 * U+nFFFF of every plane: U+FFFE and U+FFFF would make report.xlsx invalid XML), and halves of surrogate
 * pairs standing alone (the phone's cast is the one request that may carry them: http-errors.ts). They
 * are dropped, not refused: a voter cannot be sent back to fix what a keyboard made. Each control would
 * also take six bytes as JSON (ballot slots are sized for three bytes per character; see slots.ts).
 */
const CONTROLS_AND_LONE_HALVES = String.raw`[\u0000-\u0008\u000b-\u001f\u007f-\u009f]|\p{Surrogate}`;
const NOT_BALLOT_TEXT = new RegExp(`${CONTROLS_AND_LONE_HALVES}|\\p{Noncharacter_Code_Point}`, 'gu');
/** What free text dropped before 2026-12-01: the same but the noncharacters. */
const NOT_BALLOT_TEXT_BEFORE_DEC_2026 = new RegExp(CONTROLS_AND_LONE_HALVES, 'gu');

export function withoutControls(text: string): string {
  // In u mode a surrogate pair is one code point: \p{Surrogate} matches only a half standing alone.
  return text.replace(NOT_BALLOT_TEXT, '');
}

/** What free text of a ballot keeps: today's rule, or the one a Ceping before 2026-12-01 sealed with. */
export type TextRule = (text: string) => string;

/** The rule before 2026-12-01: noncharacters were kept (for `ceping verify` of archives sealed then). */
export function withoutControlsKeepingNoncharacters(text: string): string {
  return text.replace(NOT_BALLOT_TEXT_BEFORE_DEC_2026, '');
}

function has<K extends string>(v: unknown, k: K): v is Record<K, unknown> {
  return typeof v === 'object' && v !== null && k in v;
}

function checkRating(
  part: RatingPart,
  answer: unknown,
  source: BallotSource,
  refuse: (m: string, s?: string | null) => never,
): NormalizedAnswer {
  if (answer === undefined && source === 'phone') refuse('尚未填写');
  const given = answer === undefined ? {} : has(answer, 'grades') ? (answer.grades as Record<string, string>) : refuse('内容格式不正确');
  const { bySubject, gradeKeys } = ratingLookup(part);
  for (const k of Object.keys(given)) if (!bySubject.has(k)) refuse(`没有「${k}」这一项`);
  const grades: Record<string, string> = {};
  for (const s of part.subjects) {
    const g = given[s.key];
    if (g === undefined) {
      if (source === 'phone') refuse(`${subjectName(s)} 尚未选择评价等次`, s.key);
      grades[s.key] = ABSTAIN;
    } else if (g === ABSTAIN) {
      if (source === 'phone' && part.abstainLabel === null) refuse(`${subjectName(s)} 必须选择评价等次`, s.key);
      grades[s.key] = ABSTAIN;
    } else if (gradeKeys.has(g)) {
      grades[s.key] = g;
    } else {
      refuse(`${subjectName(s)} 的评价等次「${g}」不存在`, s.key);
    }
  }
  const over = quotaOverrun(part, grades);
  if (over) {
    if (source === 'paper') return { void: true };
    refuse(`「${over.label}」最多可选 ${over.limit} 人，现已选 ${over.used} 人`);
  }
  return { grades };
}

function checkRecommend(
  part: RecommendPart,
  answer: unknown,
  source: BallotSource,
  refuse: (m: string, s?: string | null) => never,
  clean: TextRule,
): NormalizedAnswer {
  if (answer === undefined) {
    if (source === 'phone') refuse('尚未填写');
    return { picks: [], writeIns: [] };
  }
  const { picks, writeIns } = collectRecommendations(part, answer, refuse, clean);
  const total = picks.length + writeIns.length;
  if (total > part.maxPicks) {
    if (source === 'paper') return { void: true };
    refuse(`最多推荐 ${part.maxPicks} 人，现已推荐 ${total} 人`);
  }
  return { picks, writeIns };
}

/**
 * The people a recommendation answer names: listed candidates (in list order, a written-in listed
 * name counted as that candidate) and other names written in. Refuses unknown keys and repeats.
 */
export function collectRecommendations(
  part: RecommendPart,
  answer: unknown,
  refuse: (m: string, s?: string | null) => never,
  clean: TextRule = withoutControls,
): { picks: string[]; writeIns: string[] } {
  if (!has(answer, 'picks') || !has(answer, 'writeIns')) return refuse('内容格式不正确');
  const { byKey, byName } = recommendLookup(part);
  const picks = new Set<string>();
  for (const k of answer.picks as string[]) {
    if (!byKey.has(k)) refuse(`候选人「${k}」不在名单中`);
    if (picks.has(k)) refuse(`${byKey.get(k)!.name} 重复推荐`);
    picks.add(k);
  }
  const writeIns: string[] = [];
  for (const raw of answer.writeIns as string[]) {
    const name = clean(raw).trim().replace(/\s+/g, '');
    if (!part.allowWriteIn) refuse('本次推荐只能从名单中选择');
    if (name === '') continue;
    const listed = byName.get(name);
    if (listed) {
      // A written-in name that is on the list counts as that candidate, once.
      if (picks.has(listed.key)) refuse(`${name} 重复推荐`);
      picks.add(listed.key);
    } else {
      if (writeIns.includes(name)) refuse(`${name} 重复推荐`);
      writeIns.push(name);
    }
  }
  return { picks: part.candidates.filter((c) => picks.has(c.key)).map((c) => c.key), writeIns };
}
