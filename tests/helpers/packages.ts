import type { BallotPackage, Form } from '../../server/forms/form.schemas.ts';

/**
 * A complete, valid package: grade `grade` (index into the part's scale) everywhere, the first candidate,
 * and the given comment. Grade 0 (优秀) can break the 优秀 quota of part B; 1–3 never do.
 */
export function fullPackage(form: Form, grade = 1, comment = ''): BallotPackage {
  const pkg: BallotPackage = {};
  for (const p of form.parts) {
    if (p.kind === 'rating') pkg[p.key] = { grades: Object.fromEntries(p.subjects.map((s) => [s.key, p.grades[grade]!.key])) };
    if (p.kind === 'recommend') pkg[p.key] = { picks: p.candidates.slice(0, 1).map((c) => c.key), writeIns: [] };
    if (p.kind === 'comment') pkg[p.key] = { text: comment };
  }
  return pkg;
}
