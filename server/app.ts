import { randomBytes, type KeyObject } from 'node:crypto';
import Fastify, { LogController, type FastifyInstance, type FastifyServerOptions } from 'fastify';
import fastifyCookie from '@fastify/cookie';
import fastifySwagger from '@fastify/swagger';
import fastifyWebsocket from '@fastify/websocket';
import {
  hasZodFastifySchemaValidationErrors,
  jsonSchemaTransform,
  serializerCompiler,
  validatorCompiler,
  type ZodTypeProvider,
} from 'fastify-type-provider-zod';
import type { Config } from './config.ts';
import type { Store } from './db/database.ts';
import { isDatabaseUnavailable, isFileBusy } from './db/dialect.ts';
import { DomainError, errorBody } from './errors.ts';
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

  app.setErrorHandler((err, req, reply) => {
    if (err instanceof DomainError) {
      return reply.status(err.status).send(errorBody(err.code, err.message, err.details));
    }
    if (hasZodFastifySchemaValidationErrors(err)) {
      const fields = err.validation.map((v) => v.instancePath || '/').join(', ');
      return reply.status(400).send(errorBody('VALIDATION', `提交的内容格式不正确（${fields}）`, { fields: err.validation.map((v) => v.instancePath) }));
    }
    // Another program holds the database file (a sqlite3 shell, a copy tool): nothing was written; try again.
    if (isFileBusy(err)) return reply.status(503).send(errorBody('DATABASE_BUSY'));
    // PostgreSQL is out of reach, restarting, or a lock wait ran out: nothing was written; try again.
    if (deps.store.dialect === 'postgres' && isDatabaseUnavailable(err)) {
      req.log.warn({ err: { code: (err as { code?: string }).code } }, 'database unavailable');
      return reply.status(503).send(errorBody('DATABASE_UNAVAILABLE'));
    }
    const status = (err as { statusCode?: number }).statusCode;
    if (status === 429) return reply.status(429).send(errorBody('RATE_LIMITED'));
    if (status && status >= 400 && status < 500) {
      return reply.status(status).send(errorBody(status === 404 ? 'NOT_FOUND' : 'VALIDATION'));
    }
    req.log.error({ err: { type: (err as Error).name, message: (err as Error).message, stack: (err as Error).stack } }, 'unhandled error');
    return reply.status(500).send(errorBody('INTERNAL'));
  });
  app.setNotFoundHandler((_req, reply) => reply.status(404).send(errorBody('NOT_FOUND')));

  await app.register(fastifyCookie);
  await app.register(fastifyWebsocket, { options: { maxPayload: 64 * 1024 } });
  await app.register(fastifySwagger, {
    openapi: {
      info: { title: 'Ceping API', description: '民主测评 anonymous ballot server', version: deps.version ?? '0.0.0' },
    },
    transform: jsonSchemaTransform,
  });

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
