import type { App } from '../app.ts';
import { requireAdmin, checkWebsocketOrigin, sessionToken } from '../auth/auth.guard.ts';
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
      // A socket outlives no session: after logout, a disabled account or an unassignment it is closed.
      const token = sessionToken(req);
      const recheck = setInterval(() => {
        void (async () => {
          const admin = token ? await app.services.auth.authenticate(token) : null;
          if (!admin || !(await app.services.auth.canAccessMeeting(admin, meetingId))) socket.close(4001, 'session ended');
        })().catch(() => socket.close(1011, 'recheck failed'));
      }, app.services.config.LIVE_RECHECK_SECONDS * 1000);
      const stop = () => {
        clearInterval(recheck);
        unsubscribe();
      };
      socket.on('close', stop);
      socket.on('error', stop);
      const state = await ballots.liveState(meetingId);
      const { snapshot, ...rest } = state;
      socket.send(JSON.stringify({ type: 'turnout', ...rest }));
      if (snapshot) socket.send(JSON.stringify({ type: 'snapshot', meetingId, snapshot }));
      // The timers as they are now, so a window that (re)connects shows the same speaker and time.
      socket.send(JSON.stringify({ type: 'timers', meetingId, timers: await app.services.timers.view(meetingId) }));
    },
  );
}
