/**
 * Hosts on the local Mackerel server: registration, look-up by custom identifier, retirement.
 */
import { clock, errorMessage, get, hostId, post, report, restart, server, T, useServer } from "./support";

useServer();

describe("LocalMackerelServer", () => {
  describe("hosts", () => {
    const tricky = "arn:aws:lambda:us-east-1:123456789012:function/a b?c#d%e";

    test("registers a host and finds it by a URL-encoded custom identifier with / and :", async () => {
      const created = await post(server, "api/v0/hosts", {
        name: "mackerel-serverless",
        displayName: "Pipeline",
        customIdentifier: tricky,
        meta: { "agent-name": "mackerel-serverless" },
        memo: "made by a test",
        roleFullnames: ["new-service:lambda"],
        checks: [{ name: "logs-errors", memo: "log rule" }],
      });
      expect(created.status).toBe(200);
      const id = (created.body as { id: string }).id;
      expect(id).toMatch(/^[0-9A-Za-z]{11}$/);

      const found = await get(server, `api/v0/hosts-by-custom-identifier/${encodeURIComponent(tricky)}`);
      expect(found.status).toBe(200);
      expect(found.body).toMatchObject({
        host: {
          id,
          name: "mackerel-serverless",
          displayName: "Pipeline",
          customIdentifier: tricky,
          status: "working",
          isRetired: false,
          memo: "made by a test",
          roles: { "new-service": ["lambda"] },
          checks: [{ name: "logs-errors", memo: "log rule" }],
          createdAt: T,
        },
      });
      expect(server.serviceList().find((s) => s.name === "new-service")).toEqual({
        name: "new-service",
        memo: "",
        roles: ["lambda"],
      });
    });

    test("an unencoded / in the identifier does not reach the look-up (404)", async () => {
      const reply = await get(server, "api/v0/hosts-by-custom-identifier/mackerel-serverless/test");
      expect(reply.status).toBe(404);
      const encoded = await get(
        server,
        `api/v0/hosts-by-custom-identifier/${encodeURIComponent("mackerel-serverless/test")}`,
      );
      expect(encoded.body).toMatchObject({ host: { id: hostId } });
    });

    test("an unknown custom identifier answers 404", async () => {
      expect((await get(server, "api/v0/hosts-by-custom-identifier/nope")).status).toBe(404);
    });

    test("a duplicate customIdentifier answers 400", async () => {
      const reply = await post(server, "api/v0/hosts", {
        name: "again",
        customIdentifier: "mackerel-serverless/test",
        meta: {},
      });
      expect(reply.status).toBe(400);
      expect(errorMessage(reply)).toMatch(/already used/);
      expect(server.hosts()).toHaveLength(1);
    });

    test.each([
      ["missing name", { meta: {} }, /name/],
      ["empty name", { name: "", meta: {} }, /name/],
      ["missing meta", { name: "h" }, /meta/],
      ["bad roleFullnames", { name: "h", meta: {}, roleFullnames: ["no-role"] }, /roleFullnames/],
      ["bad check name", { name: "h", meta: {}, checks: [{ name: "a b" }] }, /checks\[0\]\.name/],
      ["customIdentifier not a string", { name: "h", meta: {}, customIdentifier: 5 }, /customIdentifier/],
    ])("refuses a registration with %s (400)", async (_label, body, pattern) => {
      const reply = await post(server, "api/v0/hosts", body);
      expect(reply.status).toBe(400);
      expect(errorMessage(reply)).toMatch(pattern);
      expect(server.hosts()).toHaveLength(1);
    });

    test("retire hides the host from look-ups, closes its alerts, and cannot be repeated", async () => {
      await post(server, "api/v0/monitoring/checks/report", { reports: [report(hostId)] });
      expect(server.openAlerts()).toHaveLength(1);
      clock.advance(5000);
      expect((await post(server, `api/v0/hosts/${hostId}/retire`, {})).status).toBe(200);
      expect(server.openAlerts()).toEqual([]);
      expect(server.alertEvents().at(-1)).toMatchObject({ type: "close", reason: "retired", at: T + 5 });
      expect(
        (await get(server, `api/v0/hosts-by-custom-identifier/${encodeURIComponent("mackerel-serverless/test")}`))
          .status,
      ).toBe(404);
      expect(server.hosts().find((h) => h.id === hostId)).toMatchObject({
        id: hostId,
        isRetired: true,
        retiredAt: T + 5,
      });
      expect((await post(server, `api/v0/hosts/${hostId}/retire`, {})).status).toBe(404);
      // The identifier is free again once the host is retired.
      const again = await post(server, "api/v0/hosts", {
        name: "new",
        customIdentifier: "mackerel-serverless/test",
        meta: {},
      });
      expect(again.status).toBe(200);
    });

    test("hosts given in the options exist from the start and after reset()", async () => {
      await restart({ hosts: [{ id: "2eQGDXvQ8bW", name: "seeded", customIdentifier: "seed" }] });
      const found = await get(server, "api/v0/hosts-by-custom-identifier/seed");
      expect(found.body).toMatchObject({ host: { id: "2eQGDXvQ8bW", name: "seeded" } });
      server.reset();
      expect(server.hosts().map((h) => h.id)).toEqual(["2eQGDXvQ8bW"]);
    });
  });
});
