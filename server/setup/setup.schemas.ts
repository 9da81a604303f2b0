import { z } from 'zod';
import { Form, Template } from '../forms/form.schemas.ts';
import { IdParams } from '../shared/params.ts';
import { nonEmptyPatch } from '../http-errors.ts';

export const UnitKind = z.enum(['village', 'community', 'station']);
export { IdParams };

export const CampaignInput = z.object({
  year: z.number().int().min(2000).max(2100),
  township: z.string().trim().min(1).max(40),
  name: z.string().trim().min(1).max(100).optional(),
});
export const Campaign = z.object({ id: z.number(), year: z.number(), township: z.string(), name: z.string(), template: Template });
export type Campaign = z.infer<typeof Campaign>;

export const TeamMemberInput = z.object({
  name: z.string().trim().min(1).max(20),
  position: z.string().trim().min(1).max(30),
  isSecretary: z.boolean(),
});
export const TeamMember = TeamMemberInput.extend({ id: z.number() });
export type TeamMember = z.infer<typeof TeamMember>;

export const UnitInput = z.object({
  name: z.string().trim().min(1).max(40),
  kind: UnitKind,
  reserveCandidates: z.array(z.string().trim().min(1).max(20)).max(100).optional(),
});
export const UnitPatch = nonEmptyPatch(UnitInput.partial());
export const Unit = z.object({
  id: z.number(),
  campaignId: z.number(),
  name: z.string(),
  kind: UnitKind,
  reserveCandidates: z.array(z.string()),
  members: z.array(TeamMember),
});
export type Unit = z.infer<typeof Unit>;

export const TeamInput = z.object({
  members: z
    .array(TeamMemberInput)
    .max(40)
    .refine((ms) => ms.filter((m) => m.isSecretary).length <= 1, { message: '只能有一名党组织书记' }),
});

export const CampaignDetail = Campaign.extend({ units: z.array(Unit) });
export const TemplateBody = z.object({ template: Template });
export const FormPreview = z.object({ form: Form });

export const TeamImportResponse = z.object({
  rows: z.array(TeamMemberInput),
  errors: z.array(z.object({ row: z.number(), message: z.string() })),
  committed: z.boolean(),
});
