/** A TCP proxy on loopback that counts the connections made through it (to show connection reuse). */
import { connect, createServer, type Server } from "node:net";

export class CountingProxy {
  connections = 0;
  private constructor(
    private readonly server: Server,
    readonly url: string,
  ) {}

  /** Proxies 127.0.0.1:<new port> to `target` (an http://127.0.0.1:<port>/ URL). */
  static async start(target: string): Promise<CountingProxy> {
    const { hostname, port } = new URL(target);
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const address = server.address() as { port: number };
    const proxy = new CountingProxy(server, `http://127.0.0.1:${address.port}/`);
    server.on("connection", (client) => {
      proxy.connections++;
      const upstream = connect(Number(port), hostname);
      client.pipe(upstream).pipe(client);
      const close = () => {
        client.destroy();
        upstream.destroy();
      };
      client.on("error", close);
      upstream.on("error", close);
    });
    return proxy;
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}
