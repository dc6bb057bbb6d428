/**
 * The embedded default: when MONGODB_URI or S3_ENDPOINT is unset, a local
 * FerretDB or MinIO is started on a data folder kept between runs.
 */
import path from 'node:path';
import type { Config } from './config.js';
import { startFerretDb, startMinio, type RunningServer } from './local-servers.js';
import type { Logger } from './logger.js';

export interface ResolvedBackends {
  mongodbUri: string;
  s3: {
    endpoint?: string;
    region: string;
    bucket: string;
    accessKeyId?: string;
    secretAccessKey?: string;
    forcePathStyle: boolean;
  };
  started: RunningServer[];
}

export async function resolveBackends(config: Config, logger: Logger): Promise<ResolvedBackends> {
  const started: RunningServer[] = [];
  const progress = (line: string) => logger.info(line);
  try {
    let mongodbUri = config.MONGODB_URI;
    if (!mongodbUri) {
      const ferretDb = await startFerretDb({
        dataDir: path.join(config.dataDir, 'ferretdb'),
        logFile: path.join(config.dataDir, 'log', 'ferretdb.log'),
        progress,
      });
      started.push(ferretDb);
      mongodbUri = ferretDb.uri;
      logger.info({ uri: ferretDb.uri, log: ferretDb.logFile }, 'embedded FerretDB started');
    }
    let s3: ResolvedBackends['s3'] = {
      region: config.S3_REGION,
      bucket: config.S3_BUCKET,
      forcePathStyle: config.S3_FORCE_PATH_STYLE,
      ...(config.S3_ENDPOINT ? { endpoint: config.S3_ENDPOINT } : {}),
      ...(config.S3_ACCESS_KEY_ID ? { accessKeyId: config.S3_ACCESS_KEY_ID } : {}),
      ...(config.S3_SECRET_ACCESS_KEY ? { secretAccessKey: config.S3_SECRET_ACCESS_KEY } : {}),
    };
    if (!config.S3_ENDPOINT) {
      const minio = await startMinio({
        dataDir: path.join(config.dataDir, 'minio'),
        logFile: path.join(config.dataDir, 'log', 'minio.log'),
        bucket: config.S3_BUCKET,
        region: config.S3_REGION,
        versioning: true,
        progress,
      });
      started.push(minio);
      s3 = {
        endpoint: minio.endpoint,
        region: minio.region,
        bucket: minio.bucket,
        accessKeyId: minio.accessKeyId,
        secretAccessKey: minio.secretAccessKey,
        forcePathStyle: true,
      };
      logger.info({ endpoint: minio.endpoint, log: minio.logFile }, 'embedded MinIO started');
    }
    return { mongodbUri, s3, started };
  } catch (error) {
    await Promise.all(started.map((server) => server.stop()));
    throw error;
  }
}
