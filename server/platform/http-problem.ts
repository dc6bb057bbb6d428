/**
 * Errors as RFC 9457 problem details (`application/problem+json`). Routes throw
 * HttpProblem (or a ZodError from request validation); the error handler turns
 * anything else into a 500 without leaking its message or stack.
 */
import type { ErrorRequestHandler, RequestHandler, Response } from 'express';
import { ZodError } from 'zod';
import type { Logger } from './logger.js';

export interface InvalidParam {
  /** Where the value came from and its path, e.g. `body.email`. */
  name: string;
  reason: string;
}

export interface ProblemBody {
  type: string;
  title: string;
  status: number;
  detail?: string;
  instance?: string;
  requestId?: string;
  invalidParams?: InvalidParam[];
  [extension: string]: unknown;
}

export class HttpProblem extends Error {
  override name = 'HttpProblem';
  constructor(
    readonly status: number,
    readonly title: string,
    readonly detail?: string,
    readonly extensions: Record<string, unknown> = {},
  ) {
    super(detail ?? title);
  }

  static badRequest(detail: string, invalidParams?: InvalidParam[]): HttpProblem {
    return new HttpProblem(
      400,
      'Richiesta non valida',
      detail,
      invalidParams ? { invalidParams } : {},
    );
  }
  static unauthorized(detail: string): HttpProblem {
    return new HttpProblem(401, 'Autenticazione richiesta', detail);
  }
  static forbidden(detail: string): HttpProblem {
    return new HttpProblem(403, 'Operazione non consentita', detail);
  }
  static notFound(detail: string): HttpProblem {
    return new HttpProblem(404, 'Risorsa non trovata', detail);
  }
  static conflict(detail: string, extensions: Record<string, unknown> = {}): HttpProblem {
    return new HttpProblem(409, 'Conflitto', detail, extensions);
  }
  /** 422 listing each invalid field; the detail names them all. */
  static unprocessable(title: string, invalidParams: InvalidParam[]): HttpProblem {
    return new HttpProblem(
      422,
      title,
      `${title}: ${invalidParams.map((param) => `${param.name} (${param.reason})`).join('; ')}`,
      { invalidParams },
    );
  }
  static unavailable(detail: string, extensions: Record<string, unknown> = {}): HttpProblem {
    return new HttpProblem(503, 'Servizio non disponibile', detail, extensions);
  }
}

const problemTypeBase = 'https://sigillo.example/problems/';

export function sendProblem(response: Response, problem: HttpProblem): void {
  const requestId = response.getHeader('x-request-id');
  const body: ProblemBody = {
    type: `${problemTypeBase}${problem.status}`,
    title: problem.title,
    status: problem.status,
    ...(problem.detail ? { detail: problem.detail } : {}),
    instance: response.req.originalUrl,
    ...(typeof requestId === 'string' ? { requestId } : {}),
    ...problem.extensions,
  };
  if (problem.status === 401) response.setHeader('WWW-Authenticate', 'Bearer');
  response.status(problem.status).type('application/problem+json').send(JSON.stringify(body));
}

export function problemFromZod(error: ZodError, source: string): HttpProblem {
  const invalidParams = error.issues.map((issue) => ({
    name: [source, ...issue.path.map(String)].join('.'),
    reason: issue.message,
  }));
  const names = invalidParams.map((param) => param.name).join(', ');
  return HttpProblem.badRequest(`Campi non validi: ${names}`, invalidParams);
}

/** Body-parser errors carry a `type` and a `status`; they are the client's fault. */
function problemFromMulter(error: unknown): HttpProblem | undefined {
  if (!(error instanceof Error) || error.name !== 'MulterError') return undefined;
  const { code, field } = error as Error & { code: string; field?: string };
  const name = field ? `files.${field}` : 'files';
  if (code === 'LIMIT_FILE_SIZE') {
    return new HttpProblem(413, 'File troppo grande', `Il file ${field ?? ''} supera il limite`, {
      invalidParams: [{ name, reason: 'file troppo grande' }],
    });
  }
  return HttpProblem.badRequest(`Caricamento non valido (${code}): ${error.message}`, [
    { name, reason: error.message },
  ]);
}

function problemFromBodyParser(error: unknown): HttpProblem | undefined {
  if (typeof error !== 'object' || error === null || !('type' in error)) return undefined;
  const type = error.type;
  switch (type) {
    case 'entity.parse.failed':
      return HttpProblem.badRequest('Il corpo della richiesta non è JSON valido');
    case 'entity.too.large': {
      const limit = (error as { limit?: number }).limit;
      return new HttpProblem(
        413,
        'Richiesta troppo grande',
        `Il corpo della richiesta supera il limite di ${String(limit)} byte`,
      );
    }
    case 'encoding.unsupported':
    case 'charset.unsupported':
      return new HttpProblem(415, 'Codifica non supportata', 'Usare UTF-8');
    case 'request.aborted':
      return new HttpProblem(400, 'Richiesta interrotta', 'Il client ha interrotto la richiesta');
    default:
      return undefined;
  }
}

export const notFoundHandler: RequestHandler = (request) => {
  throw HttpProblem.notFound(`Nessuna risorsa a ${request.method} ${request.path}`);
};

export function errorHandler(logger: Logger): ErrorRequestHandler {
  return (error: unknown, request, response, next) => {
    if (response.headersSent) {
      next(error);
      return;
    }
    let problem: HttpProblem;
    if (error instanceof HttpProblem) problem = error;
    else if (error instanceof ZodError) problem = problemFromZod(error, 'body');
    else {
      const fromParser = problemFromBodyParser(error) ?? problemFromMulter(error);
      if (fromParser) problem = fromParser;
      else {
        (request.log ?? logger).error({ err: error }, 'unhandled error');
        problem = new HttpProblem(
          500,
          'Errore interno',
          'Si è verificato un errore imprevisto; riferire il requestId al supporto',
        );
      }
    }
    sendProblem(response, problem);
  };
}
