/**
 * Creates the development PKI (CA, PKCS#12 signers, SoftHSM2 token, TSA) in a folder:
 *
 *   tsx scripts/dev-pki.ts [dir]    (default var/dev-pki)
 *
 * The embedded default and the tests make it on their own; this is for trying keys by hand.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { devPkiMain } from '../server/signatures/dev-pki.js';

export * from '../server/signatures/dev-pki.js';

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  devPkiMain(process.argv.slice(2)).catch((error: unknown) => {
    process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 1;
  });
}
