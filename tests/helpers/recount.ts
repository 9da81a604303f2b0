/**
 * An independent recount for tests: written from DOMAIN.md's counting words, sharing no code with
 * server/counting. Counts per part: valid / void, per rating subject the ballots per grade and 弃权,
 * per recommendation the votes by name, per comment part the ballots with text.
 */
import type { Form, PartKey, RatingPart, RecommendPart } from '../../server/forms/form.schemas.ts';
import type { Results } from '../../server/counting/tally.ts';
import { quotaCap } from './quota.ts';

const ABSTAIN = 'abstain';

export type PartCount =
  | { kind: 'rating'; valid: number; void: number; rows: Record<string, { grades: Record<string, number>; abstain: number }> }
  | { kind: 'recommend'; valid: number; void: number; votes: Record<string, number> }
  | { kind: 'comment'; valid: number; void: number; withText: number };

export type Recount = Partial<Record<PartKey, PartCount>>;

type Answer = Record<string, unknown> | undefined;

function emptyCount(form: Form): Recount {
  const out: Recount = {};
  for (const p of form.parts) {
    if (p.kind === 'rating') {
      out[p.key] = {
        kind: 'rating', valid: 0, void: 0,
        rows: Object.fromEntries(p.subjects.map((s) => [s.key, { grades: Object.fromEntries(p.grades.map((g) => [g.key, 0])), abstain: 0 }])),
      };
    } else if (p.kind === 'recommend') {
      out[p.key] = { kind: 'recommend', valid: 0, void: 0, votes: Object.fromEntries(p.candidates.map((c) => [`listed:${c.name}`, 0])) };
    } else {
      out[p.key] = { kind: 'comment', valid: 0, void: 0, withText: 0 };
    }
  }
  return out;
}

/**
 * Count stored ballots (ballots.package_json as the server wrote it: every part present, either
 * { void: true } or its normalized answer). Throws on anything a stored ballot must not contain.
 */
export function recountStored(form: Form, stored: readonly unknown[]): Recount {
  const out = emptyCount(form);
  for (const raw of stored) {
    const pkg = raw as Record<string, Answer>;
    for (const p of form.parts) {
      const a = pkg[p.key];
      const c = out[p.key]!;
      if (!a) throw new Error(`stored ballot lacks part ${p.key}`);
      if (a.void === true) {
        c.void++;
        continue;
      }
      c.valid++;
      if (c.kind === 'rating' && p.kind === 'rating') {
        const grades = a.grades as Record<string, string>;
        for (const s of p.subjects) {
          const g = grades[s.key];
          if (g === undefined) throw new Error(`stored ballot lacks ${p.key}/${s.key}`);
          if (g === ABSTAIN) c.rows[s.key]!.abstain++;
          else if (g in c.rows[s.key]!.grades) c.rows[s.key]!.grades[g]!++;
          else throw new Error(`stored ballot has unknown grade ${g}`);
        }
      } else if (c.kind === 'recommend' && p.kind === 'recommend') {
        for (const k of a.picks as string[]) {
          const cand = p.candidates.find((x) => x.key === k);
          if (!cand) throw new Error(`stored ballot picks unknown ${k}`);
          c.votes[`listed:${cand.name}`]!++;
        }
        for (const w of a.writeIns as string[]) c.votes[`written:${w}`] = (c.votes[`written:${w}`] ?? 0) + 1;
      } else if (c.kind === 'comment') {
        if (typeof a.text !== 'string') throw new Error('stored comment without text');
        if (a.text.trim() !== '') c.withText++;
      }
    }
  }
  return out;
}

function normalizeRating(part: RatingPart, a: Answer): Record<string, unknown> {
  const given = (a?.grades ?? {}) as Record<string, string>;
  const grades = Object.fromEntries(part.subjects.map((s) => [s.key, given[s.key] ?? ABSTAIN]));
  for (const q of part.quotas) {
    const used = part.subjects.filter((s) => (q.scope === 'all' || s.member) && grades[s.key] === q.grade).length;
    if (used > quotaCap(part, q)) return { void: true };
  }
  return { grades };
}

function normalizeRecommend(part: RecommendPart, a: Answer): Record<string, unknown> {
  const picks = new Set((a?.picks ?? []) as string[]);
  const writeIns: string[] = [];
  for (const raw of (a?.writeIns ?? []) as string[]) {
    const name = raw.replace(/\s+/g, '');
    if (name === '') continue;
    const listed = part.candidates.find((c) => c.name.replace(/\s+/g, '') === name);
    if (listed) picks.add(listed.key);
    else writeIns.push(name);
  }
  if (picks.size + writeIns.length > part.maxPicks) return { void: true };
  return { picks: [...picks], writeIns };
}

/**
 * What a package as sent (phone, or paper as entered) must count as, by the rules of DOMAIN.md:
 * a blank subject is 弃权, a part over its quota or its maximum of recommendations is void (paper),
 * a written-in listed name counts as that candidate, names compare without spaces, comments are trimmed.
 */
export function normalizeSent(form: Form, pkg: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const p of form.parts) {
    const a = pkg[p.key] as Answer;
    if (a && a.void === true) out[p.key] = { void: true };
    else if (p.kind === 'rating') out[p.key] = normalizeRating(p, a);
    else if (p.kind === 'recommend') out[p.key] = normalizeRecommend(p, a);
    else out[p.key] = { text: String(a?.text ?? '').trim() };
  }
  return out;
}

/** The same counts, read off the server's results (GET /results or a live snapshot's parts). */
export function countsOfResults(parts: Results['parts']): Recount {
  const out: Recount = {};
  for (const p of parts) {
    if (p.kind === 'rating') {
      out[p.key] = {
        kind: 'rating', valid: p.valid, void: p.void,
        rows: Object.fromEntries(
          p.rows.map((r) => [r.subject.key, { grades: Object.fromEntries(p.grades.map((g, i) => [g.key, r.counts[i]!])), abstain: r.abstain }]),
        ),
      };
    } else if (p.kind === 'recommend') {
      out[p.key] = {
        kind: 'recommend', valid: p.valid, void: p.void,
        votes: Object.fromEntries(p.ranking.map((c) => [`${c.listed ? 'listed' : 'written'}:${c.name}`, c.votes])),
      };
    } else {
      out[p.key] = { kind: 'comment', valid: p.valid, void: p.void, withText: p.withText };
    }
  }
  return out;
}
