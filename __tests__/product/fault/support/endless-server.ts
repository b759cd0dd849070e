/**
 * A broken Mackerel (or proxy in front of it) that answers every request with 500 and a body that never
 * ends: it writes as fast as the client reads, until the client goes away. Counts what it sent.
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";

export class EndlessBodyServer {
  requests = 0;
  bytesSent = 0;

  private constructor(
    private readonly server: Server,
    readonly url: string,
  ) {}

  static async start(): Promise<EndlessBodyServer> {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const { port } = server.address() as AddressInfo;
    const instance = new EndlessBodyServer(server, `http://127.0.0.1:${port}/`);
    const chunk = Buffer.alloc(64 * 1024, "x");
    server.on("request", (req, res) => {
      instance.requests++;
      req.resume();
      res.writeHead(500, { "Content-Type": "text/html" });
      let open = true;
      res.on("close", () => (open = false));
      const pump = () => {
        while (open) {
          instance.bytesSent += chunk.length;
          if (!res.write(chunk)) return void res.once("drain", pump);
        }
      };
      pump();
    });
    return instance;
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
