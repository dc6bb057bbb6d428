/**
 * Imports an ente's regolamento from a text or Markdown file.
 *
 *   MONGODB_URI=… npm run import-regulation -- <organisation id> <key> <file> [--accept-problems]
 *
 * Prints what the parser could not place, with line numbers; stores nothing when
 * there is any, unless --accept-problems says to store the rest.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import mongoose from 'mongoose';
import { ConfigError, loadConfig } from '../server/platform/config.js';
import { connectDatabase, disconnectDatabase } from '../server/platform/db.js';
import { createLogger } from '../server/platform/logger.js';
import { runInTenant } from '../server/platform/tenancy.js';
import { Organisation } from '../server/organisations/model.js';
import { regolamentoContent, saveRegulation } from '../server/regulations/service.js';

const progress = (line: string) => process.stdout.write(`${line}\n`);

async function main(): Promise<void> {
  const acceptProblems = process.argv.includes('--accept-problems');
  const [organisationId, key, file] = process.argv.slice(2).filter((arg) => !arg.startsWith('--'));
  if (!organisationId || !key || !file || !mongoose.isObjectIdOrHexString(organisationId)) {
    process.stderr.write(
      'usage: npm run import-regulation -- <organisation id> <key> <file.md|file.txt>\n',
    );
    process.exit(2);
  }
  const config = loadConfig();
  if (!config.MONGODB_URI) {
    process.stderr.write('MONGODB_URI must be set to the database the service uses\n');
    process.exit(2);
  }
  progress(`[1/4] lettura di ${file}`);
  const text = await readFile(file, 'utf8');
  progress(`[2/4] analisi del testo (${text.split('\n').length} righe)`);
  const content = regolamentoContent(key, text, path.basename(file));
  progress(
    `      ${content.articles.length} articoli riconosciuti, ${content.problems.length} righe non collocate`,
  );
  for (const problem of content.problems) {
    progress(`      riga ${problem.line}: ${problem.message} — ${problem.text.slice(0, 80)}`);
  }
  if (content.problems.length > 0 && !acceptProblems) {
    process.stderr.write(
      'Righe non collocate: nulla è stato salvato. Correggere il file o ripetere con --accept-problems.\n',
    );
    process.exit(1);
  }
  progress('[3/4] connessione al database');
  await connectDatabase({
    uri: config.MONGODB_URI,
    dbName: config.MONGODB_DATABASE,
    retries: config.MONGODB_CONNECT_RETRIES,
    logger: createLogger('warn'),
  });
  try {
    const organisation = await Organisation.findById(organisationId);
    if (!organisation) throw new Error(`ente ${organisationId} non trovato`);
    progress(`[4/4] salvataggio per ${organisation.name}`);
    const { regulation, created } = await runInTenant(organisation._id, () =>
      saveRegulation(content, { organisationId: organisation._id, origin: 'cli' }),
    );
    progress(
      created
        ? `Salvata la versione ${regulation.version} di ${key} (${regulation.articleCount} articoli).`
        : `Nessuna modifica: ${key} è già alla versione ${regulation.version} con lo stesso contenuto.`,
    );
  } finally {
    await disconnectDatabase();
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof ConfigError ? error.message : String(error)}\n`);
  process.exit(1);
});
