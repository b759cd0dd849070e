// Test-only preload (NODE_OPTIONS=--require) for the fault suite's Lambda processes: shifts Date by the
// offset written in $FAULT_CLOCK_FILE, so the built functions see the suite's controllable world clock.
// It is never bundled: production code reads the real clock.
"use strict";
const fs = require("node:fs");

const file = process.env.FAULT_CLOCK_FILE;
if (file) {
  const RealDate = Date;
  const realNow = RealDate.now.bind(RealDate);
  let offset = 0;
  // Read on every call (a few microseconds): the suite moves the clock between invocations and the
  // functions must see each move at once.
  const currentOffset = () => {
    try {
      // An empty read (the file caught between truncation and write) keeps the last offset; "0" is an offset.
      const text = fs.readFileSync(file, "utf8").trim();
      if (text !== "" && Number.isFinite(Number(text))) offset = Number(text);
    } catch {
      // keep the last offset
    }
    return offset;
  };
  class WorldDate extends RealDate {
    constructor(...args) {
      if (args.length === 0) super(realNow() + currentOffset());
      else super(...args);
    }
    static now() {
      return realNow() + currentOffset();
    }
  }
  globalThis.Date = WorldDate;
}
