/**
 * The S3 calls of the S3 freshness checks, behind a small interface (tests point the SDK at a local
 * stand-in through `AWS_ENDPOINT_URL_S3`). `@aws-sdk/client-s3` is imported lazily, on the first S3
 * check of a container: it is the largest client the function uses (measured with `npm run bench:deps`),
 * and no other kind needs it.
 */
import type { CallOptions } from "./aws.js";

export interface S3ObjectSummary {
  key: string;
  lastModifiedMs: number;
  size?: number;
}

export interface S3ListPage {
  objects: S3ObjectSummary[];
  nextContinuationToken?: string;
}

export interface S3Api {
  /** One ListObjectsV2 page (at most 1000 keys). */
  listObjectsV2(
    input: { bucket: string; prefix: string; continuationToken?: string },
    options: CallOptions,
  ): Promise<S3ListPage>;
  /** The first `maxBytes` bytes of an object (GetObject with a Range), as UTF-8 text. */
  readObjectStart(input: { bucket: string; key: string; maxBytes: number }, options: CallOptions): Promise<string>;
}

const SDK_MAX_ATTEMPTS = 3;
let s3Api: Promise<S3Api> | undefined;

/** The S3 calls, backed by the SDK client (loaded on first use, once per container). */
export function loadS3Api(): Promise<S3Api> {
  s3Api ??= import("@aws-sdk/client-s3").then((sdk) => {
    const client = new sdk.S3Client({ maxAttempts: SDK_MAX_ATTEMPTS });
    const opts = (o: CallOptions) => ({ abortSignal: AbortSignal.timeout(Math.max(1, Math.floor(o.timeoutMs))) });
    return {
      async listObjectsV2(input, o) {
        const response = await client.send(
          new sdk.ListObjectsV2Command({
            Bucket: input.bucket,
            ...(input.prefix ? { Prefix: input.prefix } : {}),
            ...(input.continuationToken ? { ContinuationToken: input.continuationToken } : {}),
          }),
          opts(o),
        );
        const objects: S3ObjectSummary[] = [];
        for (const item of response.Contents ?? []) {
          if (item.Key === undefined || item.LastModified === undefined) continue;
          objects.push({ key: item.Key, lastModifiedMs: item.LastModified.getTime(), size: item.Size });
        }
        return {
          objects,
          ...(response.IsTruncated && response.NextContinuationToken
            ? { nextContinuationToken: response.NextContinuationToken }
            : {}),
        };
      },
      async readObjectStart(input, o) {
        const response = await client.send(
          new sdk.GetObjectCommand({ Bucket: input.bucket, Key: input.key, Range: `bytes=0-${input.maxBytes - 1}` }),
          opts(o),
        );
        if (!response.Body) return "";
        // Read at most maxBytes even from a server that ignores Range, then drop the rest of the stream.
        const body = response.Body as unknown as AsyncIterable<Uint8Array> & { destroy?: () => void };
        const chunks: Uint8Array[] = [];
        let length = 0;
        for await (const chunk of body) {
          chunks.push(chunk);
          length += chunk.length;
          if (length >= input.maxBytes) break;
        }
        body.destroy?.();
        return new TextDecoder().decode(Buffer.concat(chunks).subarray(0, input.maxBytes));
      },
    };
  });
  s3Api.catch(() => (s3Api = undefined));
  return s3Api;
}
