/**
 * A loopback HTTP proxy that records each AWS JSON-protocol call (`X-Amz-Target` and its input) on its way to a
 * real local implementation (dynalite): the calls a function made, for checking them against its role.
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { RecordedAwsCall } from "./iam-requests.js";

export class RecordingProxy {
  readonly calls: RecordedAwsCall[] = [];

  private constructor(
    private readonly server: Server,
    readonly url: string,
  ) {}

  static async start(target: string): Promise<RecordingProxy> {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const proxy = new RecordingProxy(server, `http://127.0.0.1:${(server.address() as AddressInfo).port}`);
    server.on("request", async (req, res) => {
      const chunks: Buffer[] = [];
      for await (const chunk of req) chunks.push(chunk as Buffer);
      const body = Buffer.concat(chunks);
      const amzTarget = req.headers["x-amz-target"];
      if (typeof amzTarget === "string") {
        proxy.calls.push({ target: amzTarget, input: JSON.parse(body.toString("utf8") || "{}") });
      }
      const headers = new Headers();
      for (const [name, value] of Object.entries(req.headers)) {
        if (typeof value === "string" && !["host", "connection", "content-length"].includes(name)) {
          headers.set(name, value);
        }
      }
      const answer = await fetch(`${target}${req.url ?? "/"}`, { method: req.method, headers, body });
      const payload = Buffer.from(await answer.arrayBuffer());
      res.writeHead(answer.status, {
        "content-type": answer.headers.get("content-type") ?? "application/x-amz-json-1.0",
        "content-length": payload.length,
        ...(answer.headers.get("x-amzn-requestid")
          ? { "x-amzn-requestid": answer.headers.get("x-amzn-requestid")! }
          : {}),
        ...(answer.headers.get("x-amz-crc32") ? { "x-amz-crc32": answer.headers.get("x-amz-crc32")! } : {}),
      });
      res.end(payload);
    });
    return proxy;
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
