/**
 * Signed requests to Amazon OpenSearch Service domains (`es`) and OpenSearch Serverless collections
 * (`aoss`): SigV4 with the AWS SDK's own signer (`@smithy/signature-v4`, SHA-256 from `@smithy/core`),
 * sent with Node's fetch. Both are imported lazily, on the first OpenSearch check of a container.
 * Credentials are the function role's, from the environment Lambda sets (AWS_ACCESS_KEY_ID,
 * AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN); a signature is computed per request, never logged.
 */
import { ConfigurationError } from "../shared/errors.js";

export interface SearchRequest {
  /** Endpoint origin and base path, no trailing slash. */
  endpoint: string;
  /** Path below the endpoint, starting with `/`. */
  path: string;
  body: string;
  service: "es" | "aoss";
  /** The signing region; default AWS_REGION. */
  region?: string;
}

export interface SearchResponse {
  status: number;
  /** At most {@link MAX_RESPONSE_BYTES} of the body, as text. */
  body: string;
  /** The body was longer than the bound and was cut. */
  truncated: boolean;
}

export interface SearchApi {
  post(request: SearchRequest, options: { timeoutMs: number }): Promise<SearchResponse>;
}

/** Count and aggregation answers are small; anything larger is cut (and reported). */
export const MAX_RESPONSE_BYTES = 1024 * 1024;

type Signer = { sign(request: unknown): Promise<{ headers: Record<string, string> }> };

let signerModule: Promise<{ makeSigner: (service: string, region: string) => Signer }> | undefined;

function loadSigner() {
  signerModule ??= Promise.all([import("@smithy/signature-v4"), import("@smithy/core/checksum")]).then(
    ([{ SignatureV4 }, { Sha256 }]) => ({
      makeSigner: (service: string, region: string) =>
        new SignatureV4({
          service,
          region,
          sha256: Sha256,
          // Lambda's role credentials; read per request so a refreshed environment is honoured.
          credentials: async () => {
            const accessKeyId = process.env.AWS_ACCESS_KEY_ID;
            const secretAccessKey = process.env.AWS_SECRET_ACCESS_KEY;
            if (!accessKeyId || !secretAccessKey) {
              throw new ConfigurationError(
                "AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY: are not set, so the OpenSearch request cannot be signed",
              );
            }
            const sessionToken = process.env.AWS_SESSION_TOKEN;
            return { accessKeyId, secretAccessKey, ...(sessionToken ? { sessionToken } : {}) };
          },
        }) as unknown as Signer,
    }),
  );
  signerModule.catch(() => (signerModule = undefined));
  return signerModule;
}

/** Reads at most `max` bytes of a response body. */
async function readBounded(response: Response, max: number): Promise<{ text: string; truncated: boolean }> {
  if (!response.body) return { text: "", truncated: false };
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let length = 0;
  let truncated = false;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    chunks.push(value);
    length += value.length;
    if (length > max) {
      truncated = true;
      await reader.cancel();
      break;
    }
  }
  return { text: new TextDecoder().decode(Buffer.concat(chunks).subarray(0, max)), truncated };
}

/** The OpenSearch calls: signed POSTs with a JSON body (fetch is injectable for tests). */
export function createSearchApi(fetchImpl: typeof fetch = fetch): SearchApi {
  return {
    async post(request, options) {
      const region = request.region ?? process.env.AWS_REGION;
      if (!region) throw new ConfigurationError("AWS_REGION: is not set and the endpoint names no region");
      const url = new URL(request.endpoint + request.path);
      const { makeSigner } = await loadSigner();
      const signed = await makeSigner(request.service, region).sign({
        method: "POST",
        protocol: url.protocol,
        hostname: url.hostname,
        ...(url.port ? { port: Number(url.port) } : {}),
        path: url.pathname,
        query: Object.fromEntries(url.searchParams),
        // The host as fetch will send it (with the port only when it is not the default).
        headers: { host: url.host, "content-type": "application/json" },
        body: request.body,
      });
      // fetch sets Host itself (the same value that was signed).
      const headers = Object.fromEntries(Object.entries(signed.headers).filter(([k]) => k.toLowerCase() !== "host"));
      const response = await fetchImpl(url, {
        method: "POST",
        headers,
        body: request.body,
        redirect: "manual",
        signal: AbortSignal.timeout(Math.max(1, Math.floor(options.timeoutMs))),
      });
      const { text, truncated } = await readBounded(response, MAX_RESPONSE_BYTES);
      return { status: response.status, body: text, truncated };
    },
  };
}

let searchApi: Promise<SearchApi> | undefined;

/** The OpenSearch calls of the function (one per container). */
export function loadSearchApi(): Promise<SearchApi> {
  searchApi ??= Promise.resolve(createSearchApi());
  return searchApi;
}
