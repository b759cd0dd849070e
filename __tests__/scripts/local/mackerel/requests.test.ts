/**
 * The local Mackerel server over real HTTP with Node's fetch: routing, authentication and the request format.
 */
import {
  HOST_LOOKUP,
  errorMessage,
  get,
  hostId,
  post,
  READ_ONLY_KEY,
  restart,
  server,
  SERVICE_TSDB,
  T,
  useServer,
} from "./support";

useServer();

describe("LocalMackerelServer", () => {
  describe("basics", () => {
    test("listens on 127.0.0.1 with a trailing-slash base URL", () => {
      expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
      expect(server.url).toBe(`http://127.0.0.1:${server.port}/`);
    });

    test("an unknown route answers 404 with Mackerel's error shape", async () => {
      const reply = await get(server, "api/v0/nope");
      expect(reply.status).toBe(404);
      expect(errorMessage(reply)).toContain("/api/v0/nope");
      expect(reply.headers.get("content-type")).toMatch(/^application\/json/);
    });

    test("a known path with the wrong method answers 405", async () => {
      const reply = await get(server, "api/v0/tsdb");
      expect(reply.status).toBe(405);
    });
  });

  describe("authentication and request format", () => {
    test("a missing key answers 403 and is logged as invalid", async () => {
      const reply = await post(server, SERVICE_TSDB, [{ name: "a", time: T, value: 1 }], { key: null });
      expect(reply.status).toBe(403);
      expect(errorMessage(reply)).toMatch(/API key/);
      expect(server.serviceMetrics()).toEqual([]);
      expect(server.requests.at(-1)).toMatchObject({ status: 403, apiKeyValid: false });
    });

    test("an unknown key answers 403 on reads and writes", async () => {
      expect((await get(server, HOST_LOOKUP, { key: "wrong" })).status).toBe(403);
      expect((await post(server, SERVICE_TSDB, [], { key: "wrong" })).status).toBe(403);
      expect(server.counter("rejected.403")).toBe(2);
    });

    test("the auth failure status is configurable (401)", async () => {
      await restart({ authFailureStatus: 401 });
      expect((await get(server, HOST_LOOKUP, { key: "wrong" })).status).toBe(401);
    });

    test("a read-only key reads but cannot write (403)", async () => {
      const read = await get(server, HOST_LOOKUP, { key: READ_ONLY_KEY });
      expect(read.status).toBe(200);
      const write = await post(server, SERVICE_TSDB, [{ name: "a", time: T, value: 1 }], { key: READ_ONLY_KEY });
      expect(write.status).toBe(403);
      expect(errorMessage(write)).toMatch(/write permission/);
      expect(server.serviceMetrics()).toEqual([]);
      expect(server.requests.at(-1)).toMatchObject({ apiKeyValid: true, apiKeyReadOnly: true, status: 403 });
    });

    test("setApiKeys simulates rotation", async () => {
      server.setApiKeys(["new-key"]);
      expect((await post(server, SERVICE_TSDB, [{ name: "a", time: T, value: 1 }])).status).toBe(403);
      const reply = await post(server, SERVICE_TSDB, [{ name: "a", time: T, value: 1 }], { key: "new-key" });
      expect(reply.status).toBe(200);
      expect(server.serviceMetrics()).toHaveLength(1);
    });

    test("the request log never holds the key", async () => {
      const secret = "super-secret-key-123";
      server.setApiKeys([secret]);
      await post(server, SERVICE_TSDB, [{ name: "a", time: T, value: 1 }], { key: secret });
      await get(server, HOST_LOOKUP, { key: "another-secret-456" });
      const logged = JSON.stringify(server.requests);
      expect(logged).not.toContain(secret);
      expect(logged).not.toContain("another-secret-456");
      expect(server.requests.map((r) => r.apiKeyValid)).toEqual([true, false]);
      expect(server.requests[0]).toMatchObject({ method: "POST", path: `/${SERVICE_TSDB}`, status: 200, seq: 1 });
    });

    test("a POST without Content-Type application/json answers 400", async () => {
      const body = JSON.stringify([{ name: "a", time: T, value: 1 }]);
      const none = await post(server, SERVICE_TSDB, undefined, { raw: body, contentType: null });
      expect(none.status).toBe(400);
      expect(errorMessage(none)).toMatch(/Content-Type/);
      const text = await post(server, SERVICE_TSDB, undefined, { raw: body, contentType: "text/plain" });
      expect(text.status).toBe(400);
      const charset = await post(server, SERVICE_TSDB, undefined, {
        raw: body,
        contentType: "application/json; charset=utf-8",
      });
      expect(charset.status).toBe(200);
      expect(server.serviceMetrics()).toHaveLength(1);
    });

    test("a body that is not JSON, or none, answers 400", async () => {
      expect((await post(server, SERVICE_TSDB, undefined, { raw: "[{" })).status).toBe(400);
      const empty = await post(server, "api/v0/hosts/" + hostId + "/retire", undefined, { raw: "" });
      expect(empty.status).toBe(400);
      expect(server.hosts()[0]!.isRetired).toBe(false);
    });

    test("a body over maxBodyBytes answers 413", async () => {
      await restart({ maxBodyBytes: 100 });
      const points = Array.from({ length: 20 }, (_, i) => ({ name: `m${i}`, time: T, value: i }));
      expect((await post(server, SERVICE_TSDB, points)).status).toBe(413);
      expect(server.serviceMetrics()).toEqual([]);
    });
  });
});
