import { writeFile } from "node:fs/promises";
import { cpus } from "node:os";
import { latencyGoals, latencyTable, webhookVsPolling } from "./webhook-vs-polling.js";
import { receiverChecks, receiverGoals, receiverTable, receiverThroughput } from "./receiver-throughput.js";
import { storeTable, storeWrites } from "./store-write.js";

/**
 * `npm run bench`: the benchmarks, one after the other (they would disturb each
 * other's timings if run at once), each table printed as soon as it is ready, every figure next to
 * its baseline and goal. The figures also go to bench/results.json for the README.
 */
const started = performance.now();
const machine = { node: process.version, cpus: cpus().length, cpuModel: cpus()[0]?.model ?? "unknown", platform: `${process.platform}-${process.arch}` };
console.log(`hookscribe benchmarks: Node ${machine.node}, ${machine.cpus} x ${machine.cpuModel}\n`);

const latency = await webhookVsPolling();
console.log(`${latencyTable(latency)}\n`);

const receiver = await receiverThroughput();
console.log(`${receiverTable(receiver)}\n`);

const store = await storeWrites();
console.log(`${storeTable(store)}\n`);

const results = {
  measuredAt: new Date().toISOString(),
  machine,
  webhookVsPolling: { goals: latencyGoals, ...latency },
  receiver: {
    goals: receiverGoals,
    ...receiver,
    checks: { hookscribe: receiverChecks(receiver.hookscribe, receiver.bare), hookscribeFsync: receiverChecks(receiver.hookscribeFsync, receiver.bare) },
  },
  storeWrite: store,
};
await writeFile(new URL("./results.json", import.meta.url), `${JSON.stringify(results, null, 2)}\n`);
console.log(`Wrote bench/results.json. Total ${((performance.now() - started) / 1000).toFixed(0)} s.`);
