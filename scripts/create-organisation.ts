/**
 * Creates an organisation (ente) with its first administrator and prints the
 * administrator's API token once. Uses MONGODB_URI like the service.
 *
 *   MONGODB_URI=mongodb://… npm run create-organisation -- "Comune di Calderara di Reno"
 */
import { createOrganisationWithAdmin } from '../server/access/service.js';
import { ConfigError, loadConfig } from '../server/platform/config.js';
import { connectDatabase, disconnectDatabase } from '../server/platform/db.js';
import { createLogger } from '../server/platform/logger.js';

async function main(): Promise<void> {
  const name = process.argv[2]?.trim();
  if (!name || name.length < 2) {
    process.stderr.write('usage: npm run create-organisation -- "<nome dell\'ente>"\n');
    process.exit(2);
  }
  const config = loadConfig();
  if (!config.MONGODB_URI) {
    process.stderr.write('MONGODB_URI must be set to the database the service uses\n');
    process.exit(2);
  }
  const logger = createLogger('warn');
  await connectDatabase({
    uri: config.MONGODB_URI,
    dbName: config.MONGODB_DATABASE,
    retries: config.MONGODB_CONNECT_RETRIES,
    logger,
  });
  try {
    const { organisation, token } = await createOrganisationWithAdmin({ name });
    process.stdout.write(
      `Ente "${organisation.name}" creato (id ${organisation.id}).\nToken dell'amministratore (mostrato una sola volta): ${token}\n`,
    );
  } finally {
    await disconnectDatabase();
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof ConfigError ? error.message : String(error)}\n`);
  process.exit(1);
});
