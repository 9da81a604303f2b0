/**
 * Test factories for templates, units, forms and ballot packages.
 *
 * - makeUnit / makeForm build a resolved meeting form from the standard template (or any template).
 * - randomValidPackage(form, rng) and arbPackage(form) produce phone packages that validatePackage
 *   accepts: every rating subject graded (or abstained where allowed), every quota respected,
 *   at most maxPicks recommendations (some written in, some written-in names that are on the list).
 * - arbPaperPackage(form) produces paper packages as an entry clerk types them: blank subjects,
 *   blank parts, explicit voids, over-quota parts and over-long recommendations (which become void).
 */
import fc from 'fast-check';
import {
  ABSTAIN,
  type BallotPackage,
  type Form,
  type PartAnswer,
  type PartKey,
  type RatingPart,
  type RecommendPart,
  type Template,
  type TemplatePart,
} from '../../server/forms/form.schemas.ts';
import { resolveForm, type TeamMemberInput, type UnitInput } from '../../server/forms/resolve-form.ts';
import { standardTemplate } from '../../server/forms/standard-template.ts';
import { quotaCap } from '../helpers/quota.ts';

// ---------------------------------------------------------------- units

const SURNAMES = ['张', '王', '李', '赵', '刘', '陈', '杨', '黄', '周', '吴', '徐', '孙', '胡', '朱', '高', '林', '何', '郭', '马', '罗'];
const GIVEN = ['伟', '芳', '娜', '敏', '静', '丽', '强', '磊', '军', '洋', '勇', '艳', '杰', '娟', '涛', '明', '超', '秀英', '霞', '平'];
const POSITIONS = ['村党支部书记', '村委会主任', '村党支部副书记', '村委会副主任', '村务监督委员会主任', '委员'];

/** A distinct Chinese name for every index (400 before names repeat a pattern, then a numeric suffix). */
export function personName(i: number): string {
  const s = SURNAMES[i % SURNAMES.length]!;
  const g = GIVEN[Math.floor(i / SURNAMES.length) % GIVEN.length]!;
  const round = Math.floor(i / (SURNAMES.length * GIVEN.length));
  return round === 0 ? s + g : `${s}${g}${round + 1}`;
}

export interface UnitOptions {
  name?: string;
  /** Team size (the secretary included). */
  members?: number;
  /** Reserve-cadre candidates on the list for part D. */
  candidates?: number;
  /** Index of the secretary among the members, or null for a unit without one. Default 0. */
  secretaryIndex?: number | null;
}

/** A unit with `members` team members (ids 1..n, distinct names) and `candidates` reserve candidates. */
export function makeUnit(opts: UnitOptions = {}): UnitInput {
  const { name = '测试村', members = 5, candidates = 3, secretaryIndex = 0 } = opts;
  const team: TeamMemberInput[] = Array.from({ length: members }, (_, i) => ({
    id: i + 1,
    name: personName(i),
    position: i === secretaryIndex ? POSITIONS[0]! : POSITIONS[1 + (i % (POSITIONS.length - 1))]!,
    isSecretary: i === secretaryIndex,
  }));
  // Candidates are named from a range that does not overlap the team's names.
  const reserveCandidates = Array.from({ length: candidates }, (_, i) => personName(200 + i));
  return { name, members: team, reserveCandidates };
}

// ---------------------------------------------------------------- templates and forms

type RatingTemplatePart = Extract<TemplatePart, { kind: 'rating' }>;
type RecommendTemplatePart = Extract<TemplatePart, { kind: 'recommend' }>;
type CommentTemplatePart = Extract<TemplatePart, { kind: 'comment' }>;

/** Per-part changes: a rating part's fields, a recommend part's fields, or a comment part's fields. */
export type PartOverride = Partial<Omit<RatingTemplatePart, 'kind' | 'key'>> &
  Partial<Omit<RecommendTemplatePart, 'kind' | 'key'>> &
  Partial<Omit<CommentTemplatePart, 'kind' | 'key'>>;

export interface FormOptions extends UnitOptions {
  /** The template to resolve; default the standard template. */
  template?: Template;
  /** Shallow changes to individual template parts, by key. */
  parts?: Partial<Record<PartKey, PartOverride>>;
  /** Keep only these parts (in template order). */
  only?: PartKey[];
  /** Part B criteria (each member rated per criterion); shorthand for parts.B.source. */
  criteria?: string[] | null;
  /** A ready unit; overrides members/candidates/secretaryIndex/name. */
  unit?: UnitInput;
}

/** Apply overrides to a template (returns a new template; the input is not changed). */
export function makeTemplate(opts: Pick<FormOptions, 'template' | 'parts' | 'only' | 'criteria'> = {}): Template {
  const base: Template = structuredClone(opts.template ?? standardTemplate());
  let parts = base.parts.map((p): TemplatePart => {
    const o = opts.parts?.[p.key];
    let next = o ? ({ ...p, ...o } as TemplatePart) : p;
    if (opts.criteria !== undefined && next.kind === 'rating' && next.source.type === 'team') {
      next = { ...next, source: { ...next.source, criteria: opts.criteria } };
    }
    return next;
  });
  if (opts.only) parts = parts.filter((p) => opts.only!.includes(p.key));
  return { parts };
}

/** A resolved meeting form: the standard template (with overrides) against a made-up unit. */
export function makeForm(opts: FormOptions = {}): Form {
  return resolveForm(makeTemplate(opts), opts.unit ?? makeUnit(opts));
}

export function ratingPart(form: Form, key: PartKey): RatingPart {
  const p = form.parts.find((x) => x.key === key);
  if (!p || p.kind !== 'rating') throw new Error(`form has no rating part ${key}`);
  return p;
}

export function recommendPart(form: Form, key: PartKey = 'D'): RecommendPart {
  const p = form.parts.find((x) => x.key === key);
  if (!p || p.kind !== 'recommend') throw new Error(`form has no recommend part ${key}`);
  return p;
}

/** Grade every subject of a rating part with the same grade key (or ABSTAIN). */
export function allGrades(part: RatingPart, grade: string): Record<string, string> {
  return Object.fromEntries(part.subjects.map((s) => [s.key, grade]));
}

/**
 * The simplest complete phone package: every rating subject gets the part's second grade
 * (称职 / 较好, never under a quota in the standard template), nobody recommended, no comment.
 */
export function makePackage(form: Form, overrides: BallotPackage = {}): BallotPackage {
  const pkg: BallotPackage = {};
  for (const part of form.parts) {
    if (part.kind === 'rating') pkg[part.key] = { grades: allGrades(part, part.grades[1]!.key) };
    else if (part.kind === 'recommend') pkg[part.key] = { picks: [], writeIns: [] };
    else pkg[part.key] = { text: '' };
  }
  return { ...pkg, ...overrides };
}

// ---------------------------------------------------------------- random packages

/** A small seeded generator (mulberry32) for randomValidPackage. */
export function seededRng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The values a subject may take on a phone: every grade key, plus ABSTAIN when the part offers it. */
export function phoneChoices(part: RatingPart): string[] {
  const keys = part.grades.map((g) => g.key);
  return part.abstainLabel === null ? keys : [...keys, ABSTAIN];
}

/**
 * Bring a rating answer within every quota: a subject whose grade is over a quota is moved to the
 * first choice that keeps every quota satisfied. Throws when no choice can (a template no phone can fill).
 */
export function repairQuotas(part: RatingPart, grades: Record<string, string>): Record<string, string> {
  const out = { ...grades };
  const within = () =>
    part.quotas.every(
      (q) =>
        part.subjects.filter((s) => (q.scope === 'all' || s.member) && out[s.key] === q.grade).length <= quotaCap(part, q),
    );
  for (const s of part.subjects) {
    if (within()) break;
    const over = part.quotas.some(
      (q) =>
        out[s.key] === q.grade &&
        (q.scope === 'all' || s.member) &&
        part.subjects.filter((x) => (q.scope === 'all' || x.member) && out[x.key] === q.grade).length > quotaCap(part, q),
    );
    if (!over) continue;
    const fix = phoneChoices(part).find((c) => {
      const was = out[s.key]!;
      out[s.key] = c;
      const ok = part.quotas.every(
        (q) =>
          q.grade !== c ||
          part.subjects.filter((x) => (q.scope === 'all' || x.member) && out[x.key] === q.grade).length <= quotaCap(part, q),
      );
      out[s.key] = was;
      return ok;
    });
    if (fix === undefined) throw new Error(`no grade of part ${part.key} keeps every quota`);
    out[s.key] = fix;
  }
  if (!within()) throw new Error(`cannot bring part ${part.key} within its quotas`);
  return out;
}

const COMMENTS = ['', '  ', '希望加强村务公开。', '建议多联系群众', '无', '  环境整治要常抓不懈  '];
const WRITE_IN_NAMES = ['邓小红', '田野', '韩梅梅', '欧阳娜', '司马光', '诸葛亮'];

/** Names that may be written in: a few outside names, and the listed candidates' names (counting as them). */
function writeInPool(part: RecommendPart): string[] {
  return [...WRITE_IN_NAMES, ...part.candidates.map((c) => c.name)];
}

/** A recommendation within maxPicks; a written-in listed name is never also picked. */
function fitRecommendation(part: RecommendPart, picks: string[], writeIns: string[]): { picks: string[]; writeIns: string[] } {
  const pickedNames = new Set(picks.map((k) => part.candidates.find((c) => c.key === k)!.name));
  const w = part.allowWriteIn ? writeIns.filter((n) => !pickedNames.has(n)) : [];
  const p = picks.slice(0, part.maxPicks);
  return { picks: p, writeIns: w.slice(0, part.maxPicks - p.length) };
}

/** A valid phone package drawn with `rng` (a () => [0,1) function, e.g. seededRng(1)). */
export function randomValidPackage(form: Form, rng: () => number): BallotPackage {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rng() * xs.length)]!;
  const subset = <T>(xs: readonly T[]): T[] => xs.filter(() => rng() < 0.3);
  const pkg: BallotPackage = {};
  for (const part of form.parts) {
    if (part.kind === 'rating') {
      const choices = phoneChoices(part);
      const grades = Object.fromEntries(part.subjects.map((s) => [s.key, pick(choices)]));
      pkg[part.key] = { grades: repairQuotas(part, grades) };
    } else if (part.kind === 'recommend') {
      pkg[part.key] = fitRecommendation(
        part,
        subset(part.candidates.map((c) => c.key)),
        subset(writeInPool(part)),
      );
    } else if (rng() < 0.8) {
      pkg[part.key] = { text: pick(COMMENTS).slice(0, part.maxLength) };
    }
  }
  return pkg;
}

function arbRecommend(part: RecommendPart): fc.Arbitrary<PartAnswer> {
  return fc
    .record({
      picks: fc.shuffledSubarray(part.candidates.map((c) => c.key)),
      writeIns: fc.shuffledSubarray(writeInPool(part), { maxLength: part.maxPicks + 1 }),
      // The phone may send a written-in name with stray spaces; it must still count as that name.
      spaced: fc.boolean(),
    })
    .map(({ picks, writeIns, spaced }) => {
      const fit = fitRecommendation(part, picks, writeIns);
      return spaced ? { ...fit, writeIns: fit.writeIns.map((n) => ` ${[...n].join(' ')} `) } : fit;
    });
}

/** fast-check arbitrary of valid phone packages for `form` (validatePackage(form, pkg, 'phone') is ok). */
export function arbPackage(form: Form): fc.Arbitrary<BallotPackage> {
  const parts: Record<string, fc.Arbitrary<PartAnswer>> = {};
  for (const part of form.parts) {
    if (part.kind === 'rating') {
      const choices = phoneChoices(part);
      parts[part.key] = fc
        .record(Object.fromEntries(part.subjects.map((s) => [s.key, fc.constantFrom(...choices)])))
        .map((grades) => ({ grades: repairQuotas(part, grades) }));
    } else if (part.kind === 'recommend') {
      parts[part.key] = arbRecommend(part);
    } else {
      parts[part.key] = fc.constantFrom(...COMMENTS).map((t) => ({ text: t.slice(0, part.maxLength) }));
    }
  }
  const commentKeys = form.parts.filter((p) => p.kind === 'comment').map((p) => p.key);
  // The comment part is optional on a phone: sometimes left out altogether.
  return fc.record(parts, { requiredKeys: Object.keys(parts).filter((k) => !commentKeys.includes(k as PartKey)) }) as fc.Arbitrary<BallotPackage>;
}

/**
 * fast-check arbitrary of paper packages as entered: any part may be blank (left out), explicitly void,
 * or filled with some subjects blank; quotas and maxPicks are NOT respected, so some parts become void.
 * Every package is accepted by validatePackage(form, pkg, 'paper').
 */
export function arbPaperPackage(form: Form): fc.Arbitrary<BallotPackage> {
  const parts: Record<string, fc.Arbitrary<PartAnswer>> = {};
  const voidAnswer = fc.constant({ void: true as const });
  for (const part of form.parts) {
    let filled: fc.Arbitrary<PartAnswer>;
    if (part.kind === 'rating') {
      const keys = part.grades.map((g) => g.key);
      // Excellent marks are drawn often so that quotas are regularly exceeded.
      const mark = fc.oneof(fc.constantFrom(...keys), fc.constant(keys[0]!), fc.constant(ABSTAIN));
      filled = fc
        .dictionary(fc.constantFrom(...part.subjects.map((s) => s.key)), mark, { maxKeys: part.subjects.length })
        .map((grades) => ({ grades }));
    } else if (part.kind === 'recommend') {
      filled = fc
        .record({
          picks: fc.shuffledSubarray(part.candidates.map((c) => c.key)),
          writeIns: part.allowWriteIn ? fc.shuffledSubarray(WRITE_IN_NAMES, { maxLength: 4 }) : fc.constant<string[]>([]),
        })
        .map((a) => ({ picks: a.picks, writeIns: a.writeIns }));
    } else {
      filled = fc.constantFrom(...COMMENTS).map((t) => ({ text: t.slice(0, part.maxLength) }));
    }
    parts[part.key] = fc.oneof({ arbitrary: filled, weight: 6 }, { arbitrary: voidAnswer, weight: 1 });
  }
  return fc.record(parts, { requiredKeys: [] }) as fc.Arbitrary<BallotPackage>;
}

// ---------------------------------------------------------------- random forms

/**
 * fast-check arbitrary of varied forms: team size, candidates, criteria, grade scale length,
 * abstain label on or off, 优秀 quotas by share or by number, maxPicks and write-ins.
 */
export function arbForm(): fc.Arbitrary<Form> {
  return fc
    .record({
      members: fc.integer({ min: 1, max: 9 }),
      candidates: fc.integer({ min: 0, max: 5 }),
      criteria: fc.option(fc.constantFrom<string[]>(['组织纪律', '工作态度'], ['工作业绩']), { nil: null }),
      abstainA: fc.boolean(),
      abstainB: fc.boolean(),
      grades: fc.integer({ min: 2, max: 4 }),
      quota: fc.oneof(
        fc.constant(null),
        fc.record({ max: fc.constant(null), maxShare: fc.constantFrom(0.1, 0.15, 0.3, 0.5) }),
        fc.record({ max: fc.integer({ min: 0, max: 3 }), maxShare: fc.constantFrom(null, 0.3) }),
      ),
      scope: fc.constantFrom('all' as const, 'members' as const),
      maxPicks: fc.integer({ min: 1, max: 3 }),
      allowWriteIn: fc.boolean(),
    })
    .map((o) => {
      const std = standardTemplate();
      const b = std.parts[1] as RatingTemplatePart;
      return makeForm({
        members: o.members,
        candidates: o.candidates,
        criteria: o.criteria,
        parts: {
          A: { abstainLabel: o.abstainA ? '不了解' : null },
          B: {
            abstainLabel: o.abstainB ? '弃权' : null,
            grades: b.grades.slice(0, o.grades),
            quotas: o.quota ? [{ grade: 'excellent', scope: o.scope, ...o.quota }] : [],
          },
          D: { maxPicks: o.maxPicks, allowWriteIn: o.allowWriteIn },
        },
      });
    });
}
