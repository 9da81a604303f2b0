import type { App } from '../app.ts';
import { requireAdmin, checkWebsocketOrigin } from '../auth/auth.guard.ts';
import { requireMeetingAccess } from '../meetings/meetings.routes.ts';
import { MeetingParams } from '../meetings/meetings.schemas.ts';
import { LiveState } from './live.schemas.ts';

/**
 * The live tally: turnout at once, distributions only as k-anonymous snapshots (see gate.ts).
 * The polling route returns exactly what the websocket sends, for clients whose socket is killed.
 */
export async function liveRoutes(app: App): Promise<void> {
  const ballots = app.services.ballots;
  const onMeeting = { preHandler: [requireAdmin(), requireMeetingAccess] };

  app.get('/api/meetings/:id/live', { ...onMeeting, schema: { params: MeetingParams, response: { 200: LiveState } } }, async (req) =>
    ballots.liveState(req.params.id),
  );

  app.get(
    '/api/meetings/:id/live/ws',
    {
      websocket: true,
      preValidation: async (req, reply) => {
        if (!checkWebsocketOrigin(req)) return reply.status(403).send({ error: { code: 'ORIGIN', message: '请求来源不正确' } });
      },
      ...onMeeting,
      schema: { params: MeetingParams },
    },
    async (socket, req) => {
      const meetingId = req.params.id;
      const unsubscribe = app.services.live.subscribe(meetingId, {
        send: (m) => socket.send(m),
        close: () => socket.close(1001, 'server closing'),
      });
      socket.on('close', unsubscribe);
      socket.on('error', unsubscribe);
      const state = await ballots.liveState(meetingId);
      const { snapshot, ...rest } = state;
      socket.send(JSON.stringify({ type: 'turnout', ...rest }));
      if (snapshot) socket.send(JSON.stringify({ type: 'snapshot', meetingId, snapshot }));
    },
  );
}
