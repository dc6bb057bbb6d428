/**
 * Object storage on any S3-compatible endpoint. Every write computes the
 * object's SHA-256, stores it as object metadata and returns it so that the
 * caller keeps it in its own record; a read can check the bytes against it.
 */
import { createHash } from 'node:crypto';
import {
  DeleteObjectCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  NoSuchKey,
  NotFound,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';

export interface StorageSettings {
  endpoint?: string;
  region: string;
  bucket: string;
  accessKeyId?: string;
  secretAccessKey?: string;
  forcePathStyle: boolean;
}

export interface StoredObject {
  key: string;
  sha256: string;
  size: number;
  contentType: string;
  versionId?: string;
}

export class ObjectNotFoundError extends Error {
  override name = 'ObjectNotFoundError';
}

export class IntegrityError extends Error {
  override name = 'IntegrityError';
  constructor(
    readonly key: string,
    readonly expectedSha256: string,
    readonly actualSha256: string,
  ) {
    super(`object ${key} is corrupted: expected SHA-256 ${expectedSha256}, got ${actualSha256}`);
  }
}

export function sha256Hex(data: Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

const sha256MetadataKey = 'sha256';

function isNotFound(error: unknown): boolean {
  return (
    error instanceof NoSuchKey ||
    error instanceof NotFound ||
    (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode === 404
  );
}

export class ObjectStorage {
  readonly client: S3Client;
  readonly bucket: string;

  constructor(settings: StorageSettings) {
    this.bucket = settings.bucket;
    this.client = new S3Client({
      region: settings.region,
      forcePathStyle: settings.forcePathStyle,
      ...(settings.endpoint ? { endpoint: settings.endpoint } : {}),
      ...(settings.accessKeyId && settings.secretAccessKey
        ? {
            credentials: {
              accessKeyId: settings.accessKeyId,
              secretAccessKey: settings.secretAccessKey,
            },
          }
        : {}),
      // Readiness checks must fail fast rather than retry for seconds.
      maxAttempts: 2,
    });
  }

  async put(key: string, body: Uint8Array, contentType: string): Promise<StoredObject> {
    const sha256 = sha256Hex(body);
    const output = await this.client.send(
      new PutObjectCommand({
        Bucket: this.bucket,
        Key: key,
        Body: body,
        ContentType: contentType,
        Metadata: { [sha256MetadataKey]: sha256 },
        // The server checks the bytes it received against this digest.
        ChecksumSHA256: Buffer.from(sha256, 'hex').toString('base64'),
      }),
    );
    return {
      key,
      sha256,
      size: body.byteLength,
      contentType,
      ...(output.VersionId ? { versionId: output.VersionId } : {}),
    };
  }

  async head(key: string, versionId?: string): Promise<StoredObject> {
    try {
      const output = await this.client.send(
        new HeadObjectCommand({ Bucket: this.bucket, Key: key, VersionId: versionId }),
      );
      return {
        key,
        sha256: output.Metadata?.[sha256MetadataKey] ?? '',
        size: output.ContentLength ?? 0,
        contentType: output.ContentType ?? 'application/octet-stream',
        ...(output.VersionId ? { versionId: output.VersionId } : {}),
      };
    } catch (error) {
      if (isNotFound(error)) throw new ObjectNotFoundError(`object ${key} not found`);
      throw error;
    }
  }

  /**
   * Reads an object whole. With `expectedSha256` (the hash the caller's record
   * kept) the bytes are checked against it; without, against the hash stored in
   * the object's own metadata.
   */
  async get(
    key: string,
    options: { expectedSha256?: string; versionId?: string } = {},
  ): Promise<{ body: Buffer; object: StoredObject }> {
    try {
      const output = await this.client.send(
        new GetObjectCommand({ Bucket: this.bucket, Key: key, VersionId: options.versionId }),
      );
      const body = Buffer.from(await output.Body!.transformToByteArray());
      const actual = sha256Hex(body);
      const expected = options.expectedSha256 ?? output.Metadata?.[sha256MetadataKey];
      if (expected && expected !== actual) throw new IntegrityError(key, expected, actual);
      return {
        body,
        object: {
          key,
          sha256: actual,
          size: body.byteLength,
          contentType: output.ContentType ?? 'application/octet-stream',
          ...(output.VersionId ? { versionId: output.VersionId } : {}),
        },
      };
    } catch (error) {
      if (isNotFound(error)) throw new ObjectNotFoundError(`object ${key} not found`);
      throw error;
    }
  }

  async delete(key: string, versionId?: string): Promise<void> {
    await this.client.send(
      new DeleteObjectCommand({ Bucket: this.bucket, Key: key, VersionId: versionId }),
    );
  }

  /** A time-limited URL a browser can download the object from without a token. */
  async presignedDownloadUrl(
    key: string,
    options: { expiresInSeconds?: number; fileName?: string; versionId?: string } = {},
  ): Promise<string> {
    return getSignedUrl(
      this.client,
      new GetObjectCommand({
        Bucket: this.bucket,
        Key: key,
        VersionId: options.versionId,
        ...(options.fileName
          ? {
              ResponseContentDisposition: `attachment; filename*=UTF-8''${encodeURIComponent(options.fileName)}`,
            }
          : {}),
      }),
      { expiresIn: options.expiresInSeconds ?? 300 },
    );
  }

  async ping(timeoutMs: number): Promise<void> {
    await this.client.send(new HeadBucketCommand({ Bucket: this.bucket }), {
      abortSignal: AbortSignal.timeout(timeoutMs),
    });
  }

  destroy(): void {
    this.client.destroy();
  }
}
