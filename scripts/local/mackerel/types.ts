/** The public shapes of the local Mackerel server: its options, and what it records for assertions. */
import type { FaultPlan } from "./faults.js";
import type { CheckReportStatus, HostStatus } from "./rules.js";

/** A host to create when the server starts (or after `LocalMackerelServer.reset`). */
export interface LocalHostSeed {
  /** Host id; generated when omitted. */
  id?: string;
  name: string;
  displayName?: string;
  customIdentifier?: string;
  meta?: Record<string, unknown>;
  memo?: string;
  /** `service:role` names; the services and roles are created when missing. */
  roleFullnames?: string[];
  checks?: { name: string; memo?: string }[];
  /** Default `working`. */
  status?: HostStatus;
  /** A retired host: not found by custom identifier, refuses writes. */
  isRetired?: boolean;
}

/** Options of `LocalMackerelServer.start`. */
export interface LocalMackerelServerOptions {
  /** Accepted `X-Api-Key` values with read and write permission (default `["test-api-key"]`). */
  apiKeys?: string[];
  /** Accepted keys with read permission only: writes with them answer 403. */
  readOnlyKeys?: string[];
  /** Existing services (default `["my-service"]`). */
  services?: string[];
  /** Existing hosts. */
  hosts?: LocalHostSeed[];
  /** The server's clock in epoch ms (default `Date.now`); the 24 h and 6 h windows are measured with it. */
  now?: () => number;
  /** Status for a missing or unknown API key (default 403, as documented; 401 to test the other branch). */
  authFailureStatus?: number;
  /** Metric points more than 24 h in the future: refused with 400 (default) or accepted and dropped. */
  futureMetrics?: "reject" | "drop";
  /**
   * Which check reports are ignored for an existing (host, name): `"latest-wins"` (default, per the
   * documentation) ignores any report not newer than the newest accepted one; `"duplicates-only"`
   * ignores only a report with the same occurredAt.
   */
  checkReportOrdering?: "latest-wins" | "duplicates-only";
  /** Record parsed request bodies in `LocalMackerelServer.requests` (default true). */
  recordBodies?: boolean;
  /** Largest request body in bytes (default 10 MiB); larger bodies answer 413. */
  maxBodyBytes?: number;
  /** Port to listen on (default 0: a free port). The server listens on 127.0.0.1 only. */
  port?: number;
}

/** A host as the API returns it. */
export interface LocalHost {
  id: string;
  name: string;
  displayName?: string;
  customIdentifier?: string;
  meta: Record<string, unknown>;
  memo: string;
  type: string;
  status: HostStatus;
  isRetired: boolean;
  retiredAt?: number;
  /** Epoch seconds (server clock). */
  createdAt: number;
  roles: Record<string, string[]>;
  interfaces: unknown[];
  checks: { name: string; memo?: string }[];
}

/** A service and its roles (created by the options, `addService` or a host's `roleFullnames`). */
export interface LocalService {
  name: string;
  memo: string;
  roles: string[];
}

/** A recorded service metric value (the current one for its key). */
export interface RecordedServiceMetric {
  service: string;
  name: string;
  time: number;
  value: number;
}

/** A recorded host metric value (the current one for its key). */
export interface RecordedHostMetric {
  hostId: string;
  name: string;
  time: number;
  value: number;
}

/** An accepted check report. */
export interface RecordedCheckReport {
  hostId: string;
  name: string;
  status: CheckReportStatus;
  message: string;
  occurredAt: number;
  notificationInterval?: number;
  maxCheckAttempts?: number;
  /** Server clock (epoch ms) when it was accepted. */
  receivedAt: number;
}

/** An open check alert. */
export interface OpenAlert {
  hostId: string;
  checkName: string;
  status: Exclude<CheckReportStatus, "OK">;
  message: string;
  /** occurredAt of the report that opened it. */
  openedAt: number;
  /** occurredAt of the latest report that changed it. */
  updatedAt: number;
}

/** An alert transition: Mackerel notifies on `open` and `statusChange`. */
export interface AlertEvent {
  type: "open" | "statusChange" | "close";
  hostId: string;
  checkName: string;
  status: CheckReportStatus;
  /** occurredAt of the report, or the server clock in epoch seconds for `retired`. */
  at: number;
  reason: "report" | "retired";
}

/** One request the server received. The API key itself is never recorded. */
export interface RecordedRequest {
  /** 1, 2, 3… in arrival order. */
  seq: number;
  method: string;
  /** Raw path, without the query string (percent-encoding kept). */
  path: string;
  /** Raw query string without `?` (empty when none). */
  query: string;
  /** Status answered (or processed, for `acceptThenReset`); 0 when the connection was reset unanswered. */
  status: number;
  /** False when the client got no response (reset faults). */
  responded: boolean;
  /** The key was one of the accepted keys (read-write or read-only). */
  apiKeyValid: boolean;
  /** The key was a read-only key. */
  apiKeyReadOnly: boolean;
  /** The fault that decided the outcome, if any. */
  fault?: FaultPlan["mode"] | "outage";
  /** Parsed JSON body (when `recordBodies`). */
  body?: unknown;
  /** Server clock (epoch ms) when the request arrived. */
  receivedAt: number;
}

/** Kinds of writes counted by `LocalMackerelServer.writeCount`. */
export type WriteKind = "serviceMetric" | "hostMetric" | "checkReport";
