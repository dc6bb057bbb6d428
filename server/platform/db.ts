/**
 * The one mongoose connection. Start-up retries with exponential back-off so that
 * a database that is still starting does not kill the service, and gives up with
 * a message naming the server when it stays unreachable.
 */
import mongoose, { type Connection } from 'mongoose';
import type { Logger } from './logger.js';

export class DatabaseUnavailableError extends Error {
  override name = 'DatabaseUnavailableError';
}

/** The URI without its credentials, for messages and logs. */
export function redactMongoUri(uri: string): string {
  return uri.replace(/\/\/[^@/]*@/, '//***@');
}

export interface ConnectOptions {
  uri: string;
  dbName: string;
  retries: number;
  logger: Logger;
  /** First back-off delay; doubled each attempt. */
  initialDelayMs?: number;
  /** The service's models live on mongoose's default connection, used unless another is given. */
  connection?: Connection;
}

export async function connectDatabase(options: ConnectOptions): Promise<Connection> {
  const connection = options.connection ?? mongoose.connection;
  mongoose.set('strictQuery', true);
  // Indexes are built explicitly below so that a failure surfaces at start-up.
  mongoose.set('autoIndex', false);
  let delay = options.initialDelayMs ?? 500;
  for (let attempt = 0; ; attempt += 1) {
    try {
      await connection.openUri(options.uri, {
        dbName: options.dbName,
        serverSelectionTimeoutMS: 3000,
        connectTimeoutMS: 3000,
      });
      break;
    } catch (error) {
      await connection.close().catch(() => undefined);
      if (attempt >= options.retries) {
        throw new DatabaseUnavailableError(
          `MongoDB at ${redactMongoUri(options.uri)} is unreachable after ${attempt + 1} attempts: ${(error as Error).message}`,
        );
      }
      options.logger.warn(
        { attempt: attempt + 1, retryInMs: delay, err: (error as Error).message },
        'MongoDB not reachable yet, retrying',
      );
      await new Promise((resolve) => setTimeout(resolve, delay));
      delay = Math.min(delay * 2, 10_000);
    }
  }
  if (connection === mongoose.connection) await ensureIndexes();
  options.logger.info(
    { uri: redactMongoUri(options.uri), db: options.dbName },
    'MongoDB connected',
  );
  return connection;
}

/** Creates the indexes every registered model declares. */
export async function ensureIndexes(): Promise<void> {
  for (const model of Object.values(mongoose.models)) {
    await model.createCollection().catch((error: { codeName?: string }) => {
      if (error.codeName !== 'NamespaceExists') throw error;
    });
    await model.createIndexes();
  }
}

export async function pingDatabase(timeoutMs: number): Promise<void> {
  const db = mongoose.connection.db;
  if (!db || mongoose.connection.readyState !== mongoose.ConnectionStates.connected) {
    throw new Error('not connected');
  }
  await Promise.race([
    db.command({ ping: 1 }),
    new Promise((_, reject) => setTimeout(() => reject(new Error('ping timed out')), timeoutMs)),
  ]);
}

export async function disconnectDatabase(): Promise<void> {
  await mongoose.disconnect();
}
