/**
 * The Express application: HTTP plumbing around the components' routes.
 */
import { randomUUID } from 'node:crypto';
import express, { type Express } from 'express';
import helmet from 'helmet';
import { pinoHttp } from 'pino-http';
import swaggerUi from 'swagger-ui-express';
import { registerAccessRoutes } from './access/routes.js';
import { registerAppointmentRoutes } from './appointments/routes.js';
import { registerRegisterRoutes } from './registers/routes.js';
import { registerTenderRoutes } from './tenders/routes.js';
import { registerSignatureRoutes } from './signatures/routes.js';
import type { SigningSetup } from './signatures/service.js';
import { registerContractRoutes } from './contracts/routes.js';
import { registerDpiaRoutes } from './dpia/routes.js';
import { registerBreachRoutes } from './breaches/routes.js';
import { registerPecRoutes } from './breaches/pec.js';
import { resolveApiToken } from './access/service.js';
import type { ModelRenderer } from './documents/render-pool.js';
import { registerDocumentRoutes } from './documents/routes.js';
import { registerHealthRoutes } from './health/routes.js';
import { registerProcessingRoutes } from './processing/routes.js';
import { registerOrganisationRoutes } from './organisations/routes.js';
import { registerRegulationRoutes } from './regulations/routes.js';
import { registerTemplateRoutes } from './templates/routes.js';
import { shippedTemplateInputSchemas } from './templates/service.js';
import { Api } from './platform/api.js';
import { authenticate } from './platform/auth.js';
import type { Config } from './platform/config.js';
import { errorHandler, notFoundHandler } from './platform/http-problem.js';
import type { JobQueue } from './platform/jobs.js';
import type { Logger } from './platform/logger.js';
import type { ObjectStorage } from './platform/storage.js';

export interface AppDependencies {
  config: Config;
  logger: Logger;
  storage: ObjectStorage;
  render: ModelRenderer;
  /** Where routes enqueue long work (see server/jobs.ts). */
  jobs: JobQueue;
  signing: SigningSetup;
}

const acceptableRequestId = /^[A-Za-z0-9._:-]{1,100}$/;

export function createApp({
  config,
  logger,
  storage,
  render,
  jobs,
  signing,
}: AppDependencies): Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', false);
  app.use(
    helmet({
      // Deployments often sit on plain HTTP behind a TLS proxy or on localhost.
      contentSecurityPolicy: { directives: { upgradeInsecureRequests: null } },
    }),
  );
  app.use(
    pinoHttp({
      logger,
      genReqId: (request, response) => {
        const incoming = request.headers['x-request-id'];
        const id =
          typeof incoming === 'string' && acceptableRequestId.test(incoming)
            ? incoming
            : randomUUID();
        response.setHeader('X-Request-Id', id);
        return id;
      },
      customLogLevel: (_request, response, error) =>
        error || response.statusCode >= 500
          ? 'error'
          : response.statusCode >= 400
            ? 'warn'
            : 'info',
    }),
  );

  const router = express.Router();
  const api = new Api(router, {
    authenticate: authenticate(resolveApiToken),
    parseJson: express.json({ limit: config.BODY_LIMIT, strict: true }),
  });
  registerHealthRoutes(api, storage);
  registerAccessRoutes(api);
  registerTemplateRoutes(api, render, storage);
  registerDocumentRoutes(api, storage, render);
  registerRegulationRoutes(api);
  registerProcessingRoutes(api);
  registerOrganisationRoutes(api, storage);
  registerRegisterRoutes(api);
  registerTenderRoutes(api, { storage, render });
  registerContractRoutes(api, { storage, render });
  registerDpiaRoutes(api, { storage, render });
  registerBreachRoutes(api, { storage, render });
  registerPecRoutes(api, { storage, config });
  registerSignatureRoutes(api, { setup: signing, storage, render });
  registerAppointmentRoutes(api, { storage, render, jobs });

  const openApiDocument = api.document();
  app.get('/openapi.json', async (_request, response) => {
    // Template input schemas change when templates do, so they are read per request.
    const templateInputs = await shippedTemplateInputSchemas();
    response.json({
      ...openApiDocument,
      components: {
        ...openApiDocument.components,
        schemas: { ...openApiDocument.components?.schemas, ...templateInputs },
      },
    });
  });
  app.use(
    '/docs',
    swaggerUi.serve,
    swaggerUi.setup(undefined, { swaggerOptions: { url: '/openapi.json' } }),
  );
  app.use(router);
  app.use(notFoundHandler);
  app.use(errorHandler(logger));
  return app;
}
