import { DomainError } from '../errors.ts';
import type { Form, FormPart, Subject, Template } from './form.schemas.ts';

export interface TeamMemberInput {
  id: number;
  name: string;
  position: string;
  isSecretary: boolean;
}

export interface UnitInput {
  name: string;
  members: TeamMemberInput[];
  reserveCandidates: string[];
}

/** Resolve a campaign template against one unit: subjects come from its team, candidates from its list. */
export function resolveForm(template: Template, unit: UnitInput): Form {
  const parts: FormPart[] = template.parts.map((part): FormPart => {
    if (part.kind === 'comment') return part;
    if (part.kind === 'recommend') {
      const { kind, key, title, maxPicks, allowWriteIn } = part;
      return {
        kind, key, title, maxPicks, allowWriteIn,
        candidates: unit.reserveCandidates.map((name, i) => ({ key: `c${i + 1}`, name })),
      };
    }
    const { source, ...common } = part;
    let subjects: Subject[];
    let subtitle: string | null = null;
    switch (source.type) {
      case 'static':
        subjects = source.items.map((label, i) => ({ key: `s${i + 1}`, label, detail: null, member: false }));
        break;
      case 'team': {
        if (unit.members.length === 0) throw new DomainError('NO_TEAM');
        const collective: Subject = { key: 'team', label: source.collectiveLabel, detail: null, member: false };
        const members = unit.members.flatMap((m): Subject[] =>
          source.criteria
            ? source.criteria.map((c, i) => ({ key: `m${m.id}_${i + 1}`, label: c, detail: `${m.name}（${m.position}）`, member: true }))
            : [{ key: `m${m.id}`, label: m.name, detail: m.position, member: true }],
        );
        subjects = [collective, ...members];
        break;
      }
      case 'secretary': {
        const secretary = unit.members.find((m) => m.isSecretary);
        if (!secretary) throw new DomainError('NO_SECRETARY');
        subtitle = `${secretary.position}：${secretary.name}`;
        subjects = source.items.map((label, i) => ({ key: `s${i + 1}`, label, detail: null, member: false }));
        break;
      }
    }
    return { ...common, subtitle, subjects };
  });
  return { unitName: unit.name, parts };
}
