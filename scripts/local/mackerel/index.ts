/**
 * The local Mackerel server: import it from here. `server.ts` is the HTTP side, `routes.ts` and
 * `bodies.ts` the endpoints the functions call, `model.ts` and `alerts.ts` the organization it keeps,
 * `faults.ts` fault injection, `monitors.ts` the monitors file check, `rules.ts` the documented limits.
 */
export { LocalMackerelServer } from "./server.js";
export type { FaultMatch, FaultPlan } from "./faults.js";
export { ALERT_STATUSES_ON_GONE, MONITOR_OPERATORS, validateMonitorDefinitions } from "./monitors.js";
export {
  CHECK_MESSAGE_MAX_CODE_POINTS,
  CHECK_REPORT_MAX_AGE_SECONDS,
  CHECK_REPORT_STATUSES,
  CHECK_REPORTS_MAX_PER_REQUEST,
  type CheckReportStatus,
  codePointLength,
  EPOCH_SECONDS_MAX,
  HOST_CHECK_NAME_PATTERN,
  HOST_METRIC_NAME_PATTERN,
  HOST_STATUSES,
  type HostStatus,
  METRIC_MAX_AGE_SECONDS,
  METRIC_MAX_FUTURE_SECONDS,
  SERVICE_METRIC_NAME_PATTERN,
  SERVICE_NAME_PATTERN,
} from "./rules.js";
export type * from "./types.js";
