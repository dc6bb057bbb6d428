import { expect } from 'chai';
import { createOrganisationWithAdmin } from '../../server/access/service.js';
import { testEnvironment } from './environment.js';

export interface ApiResponse<T = unknown> {
  status: number;
  contentType: string;
  headers: Headers;
  body: T;
}

/** Calls the running test service the way a client would. */
export async function call<T = Record<string, unknown>>(
  method: string,
  path: string,
  options: {
    token?: string;
    json?: unknown;
    rawBody?: string;
    headers?: Record<string, string>;
  } = {},
): Promise<ApiResponse<T>> {
  const headers: Record<string, string> = { ...options.headers };
  if (options.token) headers.authorization = `Bearer ${options.token}`;
  let body: string | undefined;
  if (options.json !== undefined) {
    headers['content-type'] = 'application/json';
    body = JSON.stringify(options.json);
  } else if (options.rawBody !== undefined) {
    headers['content-type'] ??= 'application/json';
    body = options.rawBody;
  }
  const response = await fetch(`${testEnvironment().service.url}${path}`, {
    method,
    headers,
    body,
  });
  const text = await response.text();
  const contentType = response.headers.get('content-type') ?? '';
  return {
    status: response.status,
    contentType,
    headers: response.headers,
    body: (contentType.includes('json') && text ? JSON.parse(text) : text) as T,
  };
}

/** Downloads a file the way a client would, expecting 200. */
export async function download(path: string, token: string): Promise<Buffer> {
  const response = await fetch(`${testEnvironment().service.url}${path}`, {
    headers: { authorization: `Bearer ${token}` },
  });
  expect(response.status, path).to.equal(200);
  return Buffer.from(await response.arrayBuffer());
}

let counter = 0;

/** A fresh organisation (tenant) with its admin token, so that tests do not share data. */
export async function newTenant(name = 'Comune di prova') {
  counter += 1;
  return createOrganisationWithAdmin({ name: `${name} ${counter}` });
}
