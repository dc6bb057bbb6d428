import { expect } from 'chai';
import { connectDatabase, DatabaseUnavailableError } from '../../server/platform/db.js';
import mongoose from 'mongoose';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { findFreePort } from '../../server/platform/local-servers.js';

describe('database module', () => {
  it('retries with back-off, then fails with a message naming the unreachable server', async function () {
    this.timeout(30_000);
    const port = await findFreePort();
    const logLines: { msg: string; retryInMs?: number }[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _encoding, done) {
        logLines.push(JSON.parse(chunk.toString()) as { msg: string; retryInMs?: number });
        done();
      },
    });
    let failure: unknown;
    try {
      await connectDatabase({
        uri: `mongodb://user:secret@127.0.0.1:${port}/`,
        dbName: 'unreachable',
        retries: 2,
        initialDelayMs: 100,
        logger: pino({ level: 'warn' }, sink),
        // Its own connection: the service's default one must stay connected.
        connection: mongoose.createConnection(),
      });
    } catch (error) {
      failure = error;
    }
    expect(failure).to.be.instanceOf(DatabaseUnavailableError);
    const message = (failure as Error).message;
    expect(message).to.contain(`127.0.0.1:${port}`);
    expect(message).to.contain('after 3 attempts');
    expect(message, 'credentials are not echoed').not.to.contain('secret');
    // Between the three attempts, two pauses, the second twice the first.
    const retries = logLines.filter((line) => line.msg.includes('retrying'));
    expect(retries.map((line) => line.retryInMs)).to.deep.equal([100, 200]);
  });
});
