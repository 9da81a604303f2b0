import { randomBytes, type KeyObject } from 'node:crypto';
import Fastify, { LogController, type FastifyInstance, type FastifyServerOptions } from 'fastify';
import fastifyCookie from '@fastify/cookie';
import fastifyWebsocket from '@fastify/websocket';
import {
  serializerCompiler,
  validatorCompiler,
  type ZodTypeProvider,
} from 'fastify-type-provider-zod';
import type { Config } from './config.ts';
import type { Store } from './db/database.ts';
import { clientErrorHandler, frameworkErrors, registerErrorHandling } from './http-errors.ts';
import { httpServerFactory } from './http-server.ts';
import { registerApiDescription } from './openapi.ts';
import type { RandomSource } from './credentials/secrets.ts';
import { buildServices, type Services } from './services.ts';
import { registerRoutes } from './routes.ts';
import { loggerOptions } from './logging.ts';
import { newSigningKey } from './archive/signing.ts';

export interface AppDeps {
  config: Config;
  /** The opened store (server/db/database.ts): the SQLite file, or PostgreSQL when DATABASE_URL is set. */
  store: Store;
  /** Key for the keyed hashes of tokens, codes and receipts; kept in the data folder, outside the database. */
  pepper: Buffer;
  /** Ed25519 key that signs sealed archives (DATA_DIR/signing.key); without one, a key for this process only. */
  signingKey?: KeyObject;
  now?: () => Date;
  random?: RandomSource;
  /** Where log lines go (tests capture them); defaults to stdout. */
  logStream?: NodeJS.WritableStream;
  /** One-time code for creating the first admin; null once an admin exists. */
  setupCode?: string | null;
  version?: string;
}

export type App = FastifyInstance<any, any, any, any, ZodTypeProvider>;

export async function buildApp(deps: AppDeps): Promise<App> {
  const options: FastifyServerOptions = {
    logger: loggerOptions(deps.config.LOG_LEVEL, deps.logStream),
    // Fastify's own request lines print the URL and the client address; routes.ts logs its own, without them.
    logController: new LogController({ disableRequestLogging: true }),
    // Only the proxies TRUST_PROXY names (README, "Running on PostgreSQL"): otherwise X-Forwarded-* is ignored.
    trustProxy: deps.config.TRUST_PROXY ?? false,
    bodyLimit: 2 * 1024 * 1024,
    frameworkErrors,
    clientErrorHandler,
    // Node's HTTP server with request timeouts and a documented answer to a Host-less request (http-server.ts).
    serverFactory: httpServerFactory,
  };
  const app = Fastify(options).withTypeProvider<ZodTypeProvider>();
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);

  const services: Services = buildServices({
    ...deps,
    db: deps.store.db,
    now: deps.now ?? (() => new Date()),
    random: deps.random ?? randomBytes,
    signingKey: deps.signingKey ?? newSigningKey(),
    log: app.log,
  });
  app.decorate('services', services);
  await services.start();

  registerErrorHandling(app, { postgres: deps.store.dialect === 'postgres' });

  await app.register(fastifyCookie);
  await app.register(fastifyWebsocket, { options: { maxPayload: 64 * 1024 } });
  await registerApiDescription(app, deps.version ?? '0.0.0');

  await registerRoutes(app, services, deps);

  app.addHook('onClose', async () => {
    await services.close();
  });
  return app;
}

declare module 'fastify' {
  interface FastifyInstance {
    services: Services;
  }
}
