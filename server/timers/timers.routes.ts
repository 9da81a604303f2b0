import type { App } from '../app.ts';
import { requireAdmin } from '../auth/auth.guard.ts';
import { requireMeetingAccess } from '../meetings/meetings.routes.ts';
import { MeetingParams } from '../meetings/meetings.schemas.ts';
import { TimerCommandBody, TimerView } from './timers.schemas.ts';

/** The 述职 timers: read by any window of the meeting, changed by a team member with access to it. */
export async function timerRoutes(app: App): Promise<void> {
  const onMeeting = { preHandler: [requireAdmin(), requireMeetingAccess] };
  app.get('/api/meetings/:id/timers', { ...onMeeting, schema: { params: MeetingParams, response: { 200: TimerView } } }, async (req) =>
    app.services.timers.view(req.params.id),
  );
  app.post('/api/meetings/:id/timers', { ...onMeeting, schema: { params: MeetingParams, body: TimerCommandBody, response: { 200: TimerView } } }, async (req) =>
    app.services.timers.command(req.params.id, req.body),
  );
}
