/**
 * Check reports on the local Mackerel server: validation, the 6 h window, ordering, and alerts.
 */
import { errorMessage, hostId, HOUR, post, report, restart, server, START_MS, T, useServer } from "./support";

useServer();

describe("LocalMackerelServer", () => {
  describe("check reports", () => {
    test("accepts reports and records them in arrival order with the host id", async () => {
      const reply = await post(server, "api/v0/monitoring/checks/report", {
        reports: [
          report(hostId, { name: "b", status: "OK", message: "" }),
          report(hostId, { name: "a", notificationInterval: 10, maxCheckAttempts: 10 }),
        ],
      });
      expect(reply).toMatchObject({ status: 200, body: { success: true } });
      expect(server.checkReports()).toEqual([
        { hostId, name: "b", status: "OK", message: "", occurredAt: T, receivedAt: START_MS },
        {
          hostId,
          name: "a",
          status: "CRITICAL",
          message: "boom",
          occurredAt: T,
          notificationInterval: 10,
          maxCheckAttempts: 10,
          receivedAt: START_MS,
        },
      ]);
    });

    test("100 reports are accepted, 101 refused (400), 0 refused (400)", async () => {
      const many = (n: number) => Array.from({ length: n }, (_, i) => report(hostId, { name: `c${i}` }));
      expect((await post(server, "api/v0/monitoring/checks/report", { reports: many(100) })).status).toBe(200);
      expect(server.checkReports()).toHaveLength(100);
      const over = await post(server, "api/v0/monitoring/checks/report", { reports: many(101) });
      expect(over.status).toBe(400);
      expect(errorMessage(over)).toMatch(/at most 100/);
      expect((await post(server, "api/v0/monitoring/checks/report", { reports: [] })).status).toBe(400);
      expect(server.checkReports()).toHaveLength(100);
    });

    test("a message of 1024 code points passes even as 2048 UTF-16 units; 1025 is refused", async () => {
      const emoji1024 = "😀".repeat(1024);
      expect(emoji1024.length).toBe(2048);
      const ok = await post(server, "api/v0/monitoring/checks/report", {
        reports: [report(hostId, { message: emoji1024 })],
      });
      expect(ok.status).toBe(200);
      expect(server.checkReports()[0]!.message).toBe(emoji1024);
      const tooLong = await post(server, "api/v0/monitoring/checks/report", {
        reports: [report(hostId, { message: "😀".repeat(1024) + "a", occurredAt: T + 1 })],
      });
      expect(tooLong.status).toBe(400);
      expect(errorMessage(tooLong)).toMatch(/1025 characters/);
      const ascii = await post(server, "api/v0/monitoring/checks/report", {
        reports: [report(hostId, { message: "x".repeat(1025), occurredAt: T + 2 })],
      });
      expect(ascii.status).toBe(400);
      expect(server.checkReports()).toHaveLength(1);
    });

    test.each([
      ["status", { status: "ERROR" }, /status must be one of/],
      ["lower-case status", { status: "ok" }, /status must be one of/],
      ["source type", { source: { type: "service", hostId: "x" } }, /source.type/],
      ["missing hostId", { source: { type: "host" } }, /hostId/],
      ["empty name", { name: "" }, /name/],
      ["missing message", { message: undefined }, /message/],
      ["occurredAt in ms", { occurredAt: START_MS }, /milliseconds/],
      ["fractional occurredAt", { occurredAt: T + 0.5 }, /occurredAt/],
      ["notificationInterval below 10", { notificationInterval: 5 }, /notificationInterval/],
      ["maxCheckAttempts 0", { maxCheckAttempts: 0 }, /maxCheckAttempts/],
      ["maxCheckAttempts 11", { maxCheckAttempts: 11 }, /maxCheckAttempts/],
    ])("refuses a bad %s (400)", async (_label, overrides, pattern) => {
      const reply = await post(server, "api/v0/monitoring/checks/report", {
        reports: [report(hostId, { name: "fine", occurredAt: T - 1 }), report(hostId, overrides)],
      });
      expect(reply.status).toBe(400);
      expect(errorMessage(reply)).toMatch(pattern);
      expect(errorMessage(reply)).toMatch(/reports\[1\]/);
      expect(server.checkReports()).toEqual([]);
    });

    test("refuses a body that is not {reports: [...]} (400)", async () => {
      expect((await post(server, "api/v0/monitoring/checks/report", [report(hostId)])).status).toBe(400);
      expect((await post(server, "api/v0/monitoring/checks/report", { reports: {} })).status).toBe(400);
    });

    test("an unknown host answers 404", async () => {
      const reply = await post(server, "api/v0/monitoring/checks/report", { reports: [report("unknown-host")] });
      expect(reply.status).toBe(404);
      expect(server.checkReports()).toEqual([]);
      expect(server.openAlerts()).toEqual([]);
    });

    test("a report 6 h or more old is ignored with 200; one second younger is accepted", async () => {
      const reply = await post(server, "api/v0/monitoring/checks/report", {
        reports: [
          report(hostId, { name: "old", occurredAt: T - 6 * HOUR }),
          report(hostId, { name: "young", occurredAt: T - 6 * HOUR + 1 }),
        ],
      });
      expect(reply.status).toBe(200);
      expect(server.checkReports().map((r) => r.name)).toEqual(["young"]);
      expect(server.counter("ignored.checkReportsTooOld")).toBe(1);
      expect(server.openAlerts().map((a) => a.checkName)).toEqual(["young"]);
    });

    test("a second report with the same (host, name, occurredAt) is ignored", async () => {
      const first = report(hostId, { status: "CRITICAL", message: "first" });
      await post(server, "api/v0/monitoring/checks/report", { reports: [first] });
      const again = await post(server, "api/v0/monitoring/checks/report", {
        reports: [{ ...first, status: "OK", message: "second" }],
      });
      expect(again.status).toBe(200);
      expect(server.checkReports().map((r) => r.message)).toEqual(["first"]);
      expect(server.counter("ignored.duplicateCheckReports")).toBe(1);
      expect(server.writeCount("checkReport", { hostId, name: "my-check", occurredAt: T })).toBe(2);
      expect(server.openAlerts()).toHaveLength(1);
    });

    test("a report older than the newest one for the check is ignored (latest wins)", async () => {
      await post(server, "api/v0/monitoring/checks/report", { reports: [report(hostId, { status: "OK" })] });
      await post(server, "api/v0/monitoring/checks/report", {
        reports: [report(hostId, { status: "CRITICAL", occurredAt: T - 60 })],
      });
      expect(server.checkReports().map((r) => r.status)).toEqual(["OK"]);
      expect(server.counter("ignored.outOfOrderCheckReports")).toBe(1);
      expect(server.openAlerts()).toEqual([]);
    });

    test("checkReportOrdering: duplicates-only accepts older reports", async () => {
      await restart({ checkReportOrdering: "duplicates-only" });
      await post(server, "api/v0/monitoring/checks/report", { reports: [report(hostId, { status: "OK" })] });
      await post(server, "api/v0/monitoring/checks/report", {
        reports: [report(hostId, { status: "CRITICAL", occurredAt: T - 60 })],
      });
      expect(server.checkReports().map((r) => r.status)).toEqual(["OK", "CRITICAL"]);
      expect(server.counter("ignored.outOfOrderCheckReports")).toBe(0);
    });

    test("an alert opens on non-OK, follows status changes, and closes on OK", async () => {
      const send = (status: string, occurredAt: number, message = status) =>
        post(server, "api/v0/monitoring/checks/report", { reports: [report(hostId, { status, occurredAt, message })] });
      await send("OK", T);
      expect(server.openAlerts()).toEqual([]);
      await send("WARNING", T + 60);
      expect(server.openAlerts()).toEqual([
        { hostId, checkName: "my-check", status: "WARNING", message: "WARNING", openedAt: T + 60, updatedAt: T + 60 },
      ]);
      await send("WARNING", T + 120, "still warning");
      await send("CRITICAL", T + 180);
      expect(server.openAlerts()).toEqual([
        {
          hostId,
          checkName: "my-check",
          status: "CRITICAL",
          message: "CRITICAL",
          openedAt: T + 60,
          updatedAt: T + 180,
        },
      ]);
      await send("OK", T + 240);
      expect(server.openAlerts()).toEqual([]);
      expect(server.alertEvents().map((e) => [e.type, e.status, e.at])).toEqual([
        ["open", "WARNING", T + 60],
        ["statusChange", "CRITICAL", T + 180],
        ["close", "OK", T + 240],
      ]);
    });

    test("maxCheckAttempts delays the alert until that many consecutive non-OK reports", async () => {
      const send = (status: string, occurredAt: number) =>
        post(server, "api/v0/monitoring/checks/report", {
          reports: [report(hostId, { status, occurredAt, maxCheckAttempts: 3 })],
        });
      await send("CRITICAL", T);
      await send("CRITICAL", T + 60);
      expect(server.openAlerts()).toEqual([]);
      await send("OK", T + 120);
      await send("CRITICAL", T + 180);
      await send("CRITICAL", T + 240);
      expect(server.openAlerts()).toEqual([]);
      await send("CRITICAL", T + 300);
      expect(server.openAlerts()).toMatchObject([{ checkName: "my-check", openedAt: T + 300 }]);
    });

    test("alerts are kept per (host, check)", async () => {
      const other = server.addHost({ name: "other" });
      await post(server, "api/v0/monitoring/checks/report", {
        reports: [report(hostId, { name: "a" }), report(hostId, { name: "b" }), report(other, { name: "a" })],
      });
      await post(server, "api/v0/monitoring/checks/report", {
        reports: [report(hostId, { name: "a", status: "OK", occurredAt: T + 1 })],
      });
      expect(server.openAlerts().map((a) => [a.hostId, a.checkName])).toEqual(
        [
          [hostId, "b"],
          [other, "a"],
        ].sort(),
      );
    });
  });
});
