/**
 * An ente with users who sign: the Sindaco (key in the SoftHSM2 token), the
 * Designata (EC key in a PKCS#12 file), and a clerk who signs outside.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { Role } from '../../server/platform/auth.js';
import { expectOk, issuedDesignato, readyEnte, type Ente } from '../appointments/support.js';
import { testEnvironment } from '../support/environment.js';
import { nominaDesignatoExample } from '../support/fixtures.js';
import { call } from '../support/http.js';

export interface Signer {
  userId: string;
  token: string;
  name: string;
}

export interface SigningEnte extends Ente {
  sindacoUser: Signer;
  designataUser: Signer;
  clerk: Signer;
}

const run = promisify(execFile);

let users = 0;

export async function userWithToken(
  adminToken: string,
  name: string,
  roles: Role[] = ['segreteria'],
): Promise<Signer> {
  users += 1;
  const user = await expectOk(
    call<{ id: string }>('POST', '/api/v1/admin/users', {
      token: adminToken,
      json: { name, email: `firmatario${users}@ente.example`, roles },
    }),
    201,
  );
  const issued = await expectOk(
    call<{ token: string }>('POST', `/api/v1/admin/users/${user.id}/tokens`, {
      token: adminToken,
      json: { label: 'firma' },
    }),
    201,
  );
  return { userId: user.id, token: issued.token, name };
}

export async function assignKey(ente: { token: string }, keyId: string, userId: string) {
  await expectOk(
    call('PUT', `/api/v1/signing-keys/${keyId}/holders/${userId}`, { token: ente.token }),
  );
}

export async function signingEnte(): Promise<SigningEnte> {
  const ente = await readyEnte({ employees: 0, name: 'Comune di Calderara di Reno' });
  const sindacoUser = await userWithToken(ente.token, 'Giampiero Falzone');
  const designataUser = await userWithToken(ente.token, 'Maria Rossi');
  const clerk = await userWithToken(ente.token, 'Carla Neri');
  await assignKey(ente, 'sindaco-hsm', sindacoUser.userId);
  await assignKey(ente, 'funzionario-ec', designataUser.userId);
  return { ...ente, sindacoUser, designataUser, clerk };
}

/** A designato's nomina, issued and numbered: a document with `sindaco` and `designato` fields. */
export async function issuedNomina(ente: SigningEnte) {
  const appointment = await issuedDesignato(ente);
  const documentId = appointment.acts[0]!.documentId!;
  return { appointment, documentId };
}

/** A decreto di nomina generated straight from the template's example: same signature fields. */
let generated = 0;

export async function generatedNomina(ente: { token: string }) {
  generated += 1;
  // Same template and input give the same bytes: each act gets its own number.
  const data = { ...nominaDesignatoExample(), numero: 100 + generated };
  const document = await expectOk(
    call<{ id: string }>('POST', '/api/v1/documents', {
      token: ente.token,
      json: { template: 'nomina-designato', data },
    }),
    201,
  );
  return { documentId: document.id };
}

export async function download(path: string, token: string) {
  const response = await fetch(`${testEnvironment().service.url}${path}`, {
    headers: { authorization: `Bearer ${token}` },
  });
  return {
    status: response.status,
    headers: response.headers,
    contentType: response.headers.get('content-type') ?? '',
    bytes: Buffer.from(await response.arrayBuffer()),
  };
}

export async function uploadSignedFile(
  requestId: string,
  token: string,
  bytes: Uint8Array,
  fileName: string,
) {
  const form = new FormData();
  form.append('file', new Blob([bytes]), fileName);
  const response = await fetch(
    `${testEnvironment().service.url}/api/v1/signature-requests/${requestId}/upload`,
    { method: 'POST', headers: { authorization: `Bearer ${token}` }, body: form },
  );
  const text = await response.text();
  const contentType = response.headers.get('content-type') ?? '';
  return {
    status: response.status,
    contentType,
    body: (contentType.includes('json') && text ? JSON.parse(text) : text) as Record<
      string,
      unknown
    >,
  };
}

export interface RequestJson {
  id: string;
  status: string;
  signers: { order: number; name: string; status: string; fieldName: string; mode: string }[];
  completionCertificateId: string | null;
}

export async function requestSignatures(
  ente: { token: string },
  documentId: string,
  signers: { userId: string; mode: 'key' | 'outside'; fieldName?: string }[],
) {
  return expectOk(
    call<RequestJson>('POST', `/api/v1/documents/${documentId}/signature-requests`, {
      token: ente.token,
      json: { signers },
    }),
    201,
  );
}

const pyhankoScript = fileURLToPath(new URL('../support/pyhanko_sign.py', import.meta.url));

/** Signs outside Sigillo, as a signer's own software would: pyHanko, incremental PAdES. */
export async function signWithPyHanko(
  pdf: Uint8Array,
  options: { pkcs12: string; passphrase: string; field: string },
): Promise<Buffer> {
  const directory = await mkdtemp(path.join(tmpdir(), 'sigillo-outside-'));
  try {
    const input = path.join(directory, 'in.pdf');
    const output = path.join(directory, 'out.pdf');
    await writeFile(input, pdf);
    const operations = [{ op: 'sign', input, output, box: null, timestamp: null, ...options }];
    await new Promise<void>((resolve, reject) => {
      const child = execFile('python3', [pyhankoScript], (error, _stdout, stderr) =>
        error ? reject(new Error(`pyHanko: ${stderr || error.message}`)) : resolve(),
      );
      child.stdin?.end(JSON.stringify(operations));
    });
    return await readFile(output);
  } finally {
    await rm(directory, { recursive: true, force: true });
  }
}

/** A CAdES .p7m envelope of `content`, made by `openssl cms` with a PKCS#12 identity. */
export async function p7mWithOpenssl(
  content: Uint8Array,
  options: { pkcs12: string; passphrase: string },
): Promise<Buffer> {
  const directory = await mkdtemp(path.join(tmpdir(), 'sigillo-p7m-'));
  try {
    const input = path.join(directory, 'documento.pdf');
    const identity = path.join(directory, 'identity.pem');
    const output = path.join(directory, 'documento.pdf.p7m');
    await writeFile(input, content);
    await run('openssl', [
      'pkcs12',
      '-in',
      options.pkcs12,
      '-passin',
      `pass:${options.passphrase}`,
      '-nodes',
      '-out',
      identity,
    ]);
    await run('openssl', [
      'cms',
      '-sign',
      '-binary',
      '-nodetach',
      '-cades',
      '-md',
      'sha256',
      '-outform',
      'DER',
      '-in',
      input,
      '-signer',
      identity,
      '-out',
      output,
    ]);
    return await readFile(output);
  } finally {
    await rm(directory, { recursive: true, force: true });
  }
}
