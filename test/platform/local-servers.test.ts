import { expect } from 'chai';
import path from 'node:path';
import {
  LocalServerError,
  startFerretDb,
  startMinio,
} from '../../server/platform/local-servers.js';
import { testEnvironment } from '../support/environment.js';

describe('local servers', () => {
  it('fails with a clear message, not a hang, when the port is taken', async () => {
    const environment = testEnvironment();
    let failure: unknown;
    try {
      await startFerretDb({
        dataDir: path.join(environment.workDir, 'ferretdb-2'),
        logFile: path.join(environment.workDir, 'log', 'ferretdb-2.log'),
        port: environment.ferretDb.port,
      });
    } catch (error) {
      failure = error;
    }
    expect(failure).to.be.instanceOf(LocalServerError);
    expect((failure as Error).message).to.contain(String(environment.ferretDb.port));
  });

  it('reports a server that dies during start-up with its log', async function () {
    this.timeout(30_000);
    const environment = testEnvironment();
    let failure: unknown;
    try {
      // MinIO refuses a root password shorter than 8 characters and exits.
      await startMinio({
        dataDir: path.join(environment.workDir, 'minio-2'),
        logFile: path.join(environment.workDir, 'log', 'minio-2.log'),
        bucket: 'unused',
        accessKeyId: 'ab',
        secretAccessKey: 'short',
      });
    } catch (error) {
      failure = error;
    }
    expect(failure).to.be.instanceOf(LocalServerError);
    expect((failure as Error).message).to.match(/MinIO exited during start-up/);
  });

  it('keeps data between runs of the same data folder', async function () {
    this.timeout(30_000);
    const environment = testEnvironment();
    const dataDir = path.join(environment.workDir, 'ferretdb-persist');
    const logFile = path.join(environment.workDir, 'log', 'ferretdb-persist.log');
    const { default: mongoose } = await import('mongoose');
    const write = await startFerretDb({ dataDir, logFile });
    const client = new mongoose.mongo.MongoClient(write.uri);
    await client.db('persist').collection('acts').insertOne({ numero: 7 });
    await client.close();
    await write.stop();
    const read = await startFerretDb({ dataDir, logFile });
    const again = new mongoose.mongo.MongoClient(read.uri);
    const found = await again.db('persist').collection('acts').findOne({ numero: 7 });
    await again.close();
    await read.stop();
    expect(found?.numero).to.equal(7);
  });
});
