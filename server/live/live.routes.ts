import type { App } from '../app.ts';
import { requireAdmin, checkWebsocketOrigin, sessionToken } from '../auth/auth.guard.ts';
import { requireMeetingAccess } from '../meetings/meetings.routes.ts';
import { MeetingParams } from '../meetings/meetings.schemas.ts';
import { LIVE_SOCKET, LiveState } from './live.schemas.ts';
import { NoBody } from '../openapi.ts';
import { DomainError } from '../errors.ts';

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

  // handler answers a plain GET (no upgrade) in the one error shape; wsHandler serves the socket.
  app.route({
    method: 'GET',
    url: '/api/meetings/:id/live/ws',
    preValidation: async (req) => {
      if (!checkWebsocketOrigin(req)) throw new DomainError('ORIGIN');
    },
    ...onMeeting,
    config: { errors: [426] },
    schema: { params: MeetingParams, response: { 101: NoBody.describe('Switching Protocols: the websocket is open') }, 'x-websocket': LIVE_SOCKET },
    handler: async () => {
      throw new DomainError('UPGRADE_REQUIRED');
    },
    wsHandler: async (socket, req) => {
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
  });
}
