import { PutObjectCommand } from '@aws-sdk/client-s3';
import { expect } from 'chai';
import { createHash, randomBytes } from 'node:crypto';
import { IntegrityError, ObjectNotFoundError } from '../../server/platform/storage.js';
import { testEnvironment } from '../support/environment.js';

describe('object storage', () => {
  const storage = () => testEnvironment().service.storage;

  it('stores an object with its SHA-256 in metadata and reads it back verified', async () => {
    const body = randomBytes(64 * 1024);
    const expected = createHash('sha256').update(body).digest('hex');
    const stored = await storage().put('test/round-trip.bin', body, 'application/octet-stream');
    expect(stored.sha256).to.equal(expected);
    expect(stored.size).to.equal(body.length);
    expect(stored.versionId, 'bucket versioning is on').to.be.a('string');

    const head = await storage().head('test/round-trip.bin');
    expect(head.sha256).to.equal(expected);
    expect(head.size).to.equal(body.length);

    const read = await storage().get('test/round-trip.bin', { expectedSha256: stored.sha256 });
    expect(Buffer.compare(read.body, body)).to.equal(0);
    expect(read.object.sha256).to.equal(expected);
  });

  it('detects an object whose bytes no longer match the recorded hash', async () => {
    const original = Buffer.from('Decreto del Sindaco n. 1 del 24 novembre 2026');
    const stored = await storage().put('test/corrupted.txt', original, 'text/plain');
    // Someone rewrites the object behind Sigillo's back, keeping the old metadata.
    const tampered = Buffer.from('Decreto del Sindaco n. 2 del 24 novembre 2026');
    await storage().client.send(
      new PutObjectCommand({
        Bucket: storage().bucket,
        Key: 'test/corrupted.txt',
        Body: tampered,
        Metadata: { sha256: stored.sha256 },
      }),
    );
    let failure: unknown;
    try {
      await storage().get('test/corrupted.txt', { expectedSha256: stored.sha256 });
    } catch (error) {
      failure = error;
    }
    expect(failure).to.be.instanceOf(IntegrityError);
    expect((failure as IntegrityError).expectedSha256).to.equal(stored.sha256);
    expect((failure as IntegrityError).actualSha256).to.equal(
      createHash('sha256').update(tampered).digest('hex'),
    );
    // Without the record's hash, the metadata hash catches it too.
    let metadataFailure: unknown;
    try {
      await storage().get('test/corrupted.txt');
    } catch (error) {
      metadataFailure = error;
    }
    expect(metadataFailure).to.be.instanceOf(IntegrityError);
    // The original version is still there, intact.
    const first = await storage().get('test/corrupted.txt', {
      versionId: stored.versionId!,
      expectedSha256: stored.sha256,
    });
    expect(first.body.toString()).to.equal(original.toString());
  });

  it('serves a presigned download URL that needs no credentials', async () => {
    const body = Buffer.from('%PDF-1.7 test');
    await storage().put('test/presigned.pdf', body, 'application/pdf');
    const url = await storage().presignedDownloadUrl('test/presigned.pdf', {
      fileName: 'Decreto n. 1.pdf',
      expiresInSeconds: 60,
    });
    const response = await fetch(url);
    expect(response.status).to.equal(200);
    expect(response.headers.get('content-disposition')).to.contain('Decreto%20n.%201.pdf');
    expect(Buffer.from(await response.arrayBuffer()).toString()).to.equal(body.toString());
  });

  it('deletes objects and reports missing ones as not found', async () => {
    await storage().put('test/to-delete.txt', Buffer.from('x'), 'text/plain');
    await storage().delete('test/to-delete.txt');
    let failure: unknown;
    try {
      await storage().get('test/to-delete.txt');
    } catch (error) {
      failure = error;
    }
    expect(failure).to.be.instanceOf(ObjectNotFoundError);
  });
});
