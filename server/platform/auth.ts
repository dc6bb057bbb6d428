/**
 * Bearer-token authentication and role checks. Which tokens exist is the
 * `access` component's business: it hands in a resolver. Once a caller is known,
 * the rest of the request runs inside its organisation's tenant context.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { Request, RequestHandler } from 'express';
import type { Types } from 'mongoose';
import { HttpProblem } from './http-problem.js';
import { runInTenant } from './tenancy.js';

export const roles = ['admin', 'segreteria', 'procurement', 'legal', 'dpo'] as const;
export type Role = (typeof roles)[number];

export interface Principal {
  userId: Types.ObjectId;
  organisationId: Types.ObjectId;
  tokenId: Types.ObjectId;
  roles: Role[];
  name: string;
}

export type TokenResolver = (tokenHash: string) => Promise<Principal | undefined>;

const tokenPrefix = 'sgl_';

/** A new API token: 256 random bits, prefixed so that leaked tokens are recognisable. */
export function generateApiToken(): string {
  return tokenPrefix + randomBytes(32).toString('base64url');
}

/**
 * Tokens are stored only as their SHA-256: with 256 random bits a fast hash is
 * enough, and it lets the look-up be a plain index query.
 */
export function hashApiToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

declare module 'express-serve-static-core' {
  interface Request {
    principal?: Principal;
  }
}

export function authenticate(resolve: TokenResolver): RequestHandler {
  return async (request, _response, next) => {
    const header = request.headers.authorization;
    if (!header)
      throw HttpProblem.unauthorized('Manca l’intestazione Authorization: Bearer <token>');
    const match = /^Bearer\s+(\S+)$/i.exec(header);
    const token = match?.[1];
    if (!token?.startsWith(tokenPrefix)) {
      throw HttpProblem.unauthorized('Token non valido');
    }
    const principal = await resolve(hashApiToken(token));
    if (!principal) throw HttpProblem.unauthorized('Token non valido, scaduto o revocato');
    request.principal = principal;
    runInTenant(principal.organisationId, () => next());
  };
}

export function requirePrincipal(request: Request): Principal {
  if (!request.principal) throw HttpProblem.unauthorized('Autenticazione richiesta');
  return request.principal;
}

export function requireRole(allowed: readonly Role[]): RequestHandler {
  return (request, _response, next) => {
    const principal = requirePrincipal(request);
    if (!principal.roles.some((role) => allowed.includes(role))) {
      throw HttpProblem.forbidden(
        `Operazione riservata ai ruoli: ${allowed.join(', ')} (ruoli del chiamante: ${principal.roles.join(', ')})`,
      );
    }
    next();
  };
}
