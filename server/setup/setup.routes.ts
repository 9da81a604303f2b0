import { z } from 'zod';
import type { App } from '../app.ts';
import { ImportBody } from '../roster/roster.schemas.ts';
import { teamTemplateCsv, teamTemplateXlsx } from '../roster/roster.import.ts';
import { requireAdmin } from '../auth/auth.guard.ts';
import { FileBody, NoBody } from '../openapi.ts';

const XLSX = 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet';
import {
  Campaign, CampaignDetail, CampaignInput, FormPreview, IdParams, TeamImportResponse, TeamInput, TemplateBody, Unit, UnitInput, UnitPatch,
} from './setup.schemas.ts';

export async function setupRoutes(app: App): Promise<void> {
  const setup = app.services.setup;
  const township = { preHandler: requireAdmin('township') };
  const anyAdmin = { preHandler: requireAdmin() };

  app.get('/api/campaigns', { ...anyAdmin, schema: { response: { 200: z.object({ campaigns: z.array(Campaign) }) } } }, async (req) => ({
    campaigns: await setup.listCampaigns(req.admin!),
  }));

  app.post('/api/campaigns', { ...township, schema: { body: CampaignInput, response: { 201: Campaign } } }, async (req, reply) =>
    reply.status(201).send(await setup.createCampaign(req.admin!.id, req.body)),
  );

  app.get('/api/campaigns/:id', { ...anyAdmin, config: { errors: [403] }, schema: { params: IdParams, response: { 200: CampaignDetail } } }, async (req) =>
    setup.getCampaign(req.params.id, req.admin!),
  );

  app.put('/api/campaigns/:id/template', { ...township, schema: { params: IdParams, body: TemplateBody, response: { 200: Campaign } } }, async (req) =>
    setup.updateTemplate(req.admin!.id, req.params.id, req.body.template),
  );

  app.post('/api/campaigns/:id/units', { ...township, schema: { params: IdParams, body: UnitInput, response: { 201: Unit } } }, async (req, reply) =>
    reply.status(201).send(await setup.createUnit(req.admin!.id, req.params.id, req.body)),
  );

  app.get('/api/units/:id', { ...anyAdmin, config: { errors: [403] }, schema: { params: IdParams, response: { 200: Unit } } }, async (req) => setup.getUnit(req.params.id, req.admin!));

  app.patch('/api/units/:id', { ...township, schema: { params: IdParams, body: UnitPatch, response: { 200: Unit } } }, async (req) =>
    setup.updateUnit(req.admin!.id, req.params.id, req.body),
  );

  app.delete('/api/units/:id', { ...township, schema: { params: IdParams, response: { 204: NoBody } } }, async (req, reply) => {
    await setup.deleteUnit(req.admin!.id, req.params.id);
    return reply.status(204).send();
  });

  app.put('/api/units/:id/team', { ...township, schema: { params: IdParams, body: TeamInput, response: { 200: Unit } } }, async (req) =>
    setup.replaceTeam(req.admin!.id, req.params.id, req.body.members),
  );

  app.post('/api/units/:id/team/import', { ...township, bodyLimit: 16 * 1024 * 1024, config: { errors: [429] }, schema: { params: IdParams, body: ImportBody, response: { 200: TeamImportResponse } } }, async (req) =>
    setup.importTeam(req.admin!.id, req.params.id, { filename: req.body.filename, data: Buffer.from(req.body.dataBase64, 'base64'), commit: req.body.commit }),
  );

  app.get('/api/team-template.csv', { ...anyAdmin, schema: { produces: ['text/csv'], response: { 200: FileBody } } }, async (_req, reply) =>
    reply.header('content-type', 'text/csv; charset=utf-8').header('content-disposition', `attachment; filename*=UTF-8''${encodeURIComponent('班子成员模板.csv')}`).send(teamTemplateCsv()),
  );
  app.get('/api/team-template.xlsx', { ...anyAdmin, schema: { produces: [XLSX], response: { 200: FileBody } } }, async (_req, reply) =>
    reply
      .header('content-type', 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet')
      .header('content-disposition', `attachment; filename*=UTF-8''${encodeURIComponent('班子成员模板.xlsx')}`)
      .send(await teamTemplateXlsx()),
  );

  app.get('/api/units/:id/form-preview', { ...anyAdmin, config: { errors: [403, 409] }, schema: { params: IdParams, response: { 200: FormPreview } } }, async (req) => ({
    form: await setup.previewForm(req.params.id, req.admin!),
  }));
}
