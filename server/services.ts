import type { Config } from './config.ts';
import type { ServiceDeps } from './deps.ts';
import { AuthService } from './auth/auth.service.ts';
import { SetupService } from './setup/setup.service.ts';
import { MeetingService } from './meetings/meetings.service.ts';
import { RosterService } from './roster/roster.service.ts';
import { BallotService } from './ballots/ballots.service.ts';
import { BallotBox } from './ballots/ballot-box.ts';
import { Casting } from './ballots/casting.ts';
import { VoprfPool } from './credentials/voprf-pool.ts';
import { LiveHub } from './live/live.hub.ts';
import { PgLiveRelay, type LiveRef } from './live/live.relay.ts';
import type { LiveMessage } from './live/live.schemas.ts';
import { ArchiveService } from './archive/archive.service.ts';
import { ReportService } from './reports/reports.service.ts';
import { TicketService } from './credentials/tickets.service.ts';
import { Compactor } from './db/compaction.ts';
import { publicBaseUrl } from './net.ts';
import { TimerService } from './timers/timers.service.ts';
import { InspectionService } from './inspection/inspection.service.ts';

export type { ServiceDeps } from './deps.ts';
import { FileSandbox } from './imports/sandbox.ts';

export interface Services {
  config: Config;
  /** The app's clock (a dependency, so tests can pin it). */
  now: () => Date;
  auth: AuthService;
  setup: SetupService;
  meetings: MeetingService;
  roster: RosterService;
  tickets: TicketService;
  /** The VOPRF worker pool every token check and redemption waits in (tests fill its lanes). */
  voprf: VoprfPool;
  ballots: BallotService;
  casting: Casting;
  /** The one write queue of everything that changes what is counted (tests hold it to make batches). */
  box: BallotBox;
  compactor: Compactor;
  live: LiveHub;
  archive: ArchiveService;
  reports: ReportService;
  timers: TimerService;
  inspection: InspectionService;
  /** Connect what runs beside the requests (on PostgreSQL, the live relay between server processes). */
  start(): Promise<void>;
  close(): Promise<void>;
}

/** Wire the services once; routes receive them and hold no rules of their own. */
export function buildServices(base: Omit<ServiceDeps, 'files'>): Services {
  const deps: ServiceDeps = { ...base, files: new FileSandbox(base.log) };
  const live = new LiveHub();
  const auth = new AuthService(deps);
  const setup = new SetupService(deps);
  const baseUrl = publicBaseUrl(deps.config.PUBLIC_URL, deps.config.PORT);
  const pool = new VoprfPool(deps.config.VOPRF_WORKERS);
  const tickets = new TicketService(deps, baseUrl, pool);
  const compactor = new Compactor(deps.store, deps.log, deps.now);
  const box = new BallotBox(deps, live);
  const ballots = new BallotService(deps, live, tickets, compactor, box);
  const casting = new Casting(deps, tickets, box);
  const meetings = new MeetingService(deps, ballots, tickets, compactor);
  const roster = new RosterService(deps, ballots, box, tickets, baseUrl);
  // A meeting closed but not rebuilt (a crash in between, a reader that held the file) is finished now.
  compactor.request();
  const archive = new ArchiveService(deps);
  const reports = new ReportService(deps, meetings, archive);
  const timers = new TimerService(deps, live);
  const inspection = new InspectionService(deps);

  // Several server processes on one PostgreSQL database: every live message reaches every process.
  const relay =
    deps.store.dialect === 'postgres'
      ? new PgLiveRelay(deps.store, live, {
          log: deps.log,
          async reread(ref: LiveRef): Promise<LiveMessage[]> {
            if (ref.type === 'timers') return [{ type: 'timers', meetingId: ref.meetingId, timers: await timers.view(ref.meetingId) }];
            const { snapshot, ...state } = await ballots.liveState(ref.meetingId);
            return [{ type: 'turnout', ...state }, ...(snapshot ? [{ type: 'snapshot' as const, meetingId: ref.meetingId, snapshot }] : [])];
          },
          onRemote(message: LiveMessage): void {
            // Another process opened or closed voting: the keys it destroyed leave this process's memory too.
            if (message.type !== 'turnout') return;
            if (message.state !== 'signin') tickets.forgetMeetingKeys(message.meetingId, message.state === 'voting' ? 'rehearsal' : undefined);
            if (message.state === 'closed' || message.state === 'sealed') {
              box.forgetMeeting(message.meetingId);
              tickets.forgetMeeting(message.meetingId);
            }
          },
        })
      : null;
  if (relay) live.setRelay(relay);

  return {
    config: deps.config,
    now: deps.now,
    auth,
    setup,
    meetings,
    roster,
    tickets,
    voprf: pool,
    ballots,
    casting,
    box,
    compactor,
    live,
    archive,
    reports,
    timers,
    inspection,
    async start() {
      await relay?.start();
    },
    async close() {
      await ballots.flush();
      await compactor.close();
      await pool.close();
      await relay?.close();
      live.closeAll();
      await deps.files.close();
    },
  };
}
