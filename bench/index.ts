import { readFile, writeFile } from "node:fs/promises";
import { cpus } from "node:os";
import { latencyGoals, latencyTable, webhookVsPolling } from "./webhook-vs-polling.js";
import { attackChecks, attackGoals, attackTable, receiverAttack } from "./receiver-attack.js";
import { receiverChecks, receiverGoals, receiverTable, receiverThroughput } from "./receiver-throughput.js";
import { sdkPollingVsWebhook, sdkTable } from "./sdk-polling-vs-webhook.js";
import { compactionGoals, compactionTable, storeCompaction } from "./store-compaction.js";
import { scaleOut, scaleOutChecks, scaleOutGoals, scaleOutTable } from "./scale-out.js";
import { storeTable, storeWrites } from "./store-write.js";
import { sustainedGoals, sustainedLoad, sustainedTable } from "./sustained-load.js";

/**
 * `npm run bench [-- a b c d]`: the benchmarks, one after the other (they would disturb each
 * other's timings if run at once), each table printed as soon as it is ready, every figure next to
 * its baseline and goal. The figures go to bench/results.json for the README; a run of some of
 * them keeps the others' last figures there.
 */
const BENCHMARKS = {
  a: async () => {
    const latency = await webhookVsPolling();
    console.log(`${latencyTable(latency)}\n`);
    return { webhookVsPolling: { goals: latencyGoals, ...latency } };
  },
  b: async () => {
    const receiver = await receiverThroughput();
    console.log(`${receiverTable(receiver)}\n`);
    return {
      receiver: {
        goals: receiverGoals,
        ...receiver,
        checks: { hookscribe: receiverChecks(receiver.hookscribe, receiver.bare), hookscribeFsync: receiverChecks(receiver.hookscribeFsync, receiver.bare) },
      },
    };
  },
  c: async () => {
    const store = await storeWrites();
    console.log(`${storeTable(store)}\n`);
    return { storeWrite: store };
  },
  d: async () => {
    const sdks = await sdkPollingVsWebhook();
    console.log(`${sdkTable(sdks)}\n`);
    return { sdkPollingVsWebhook: sdks };
  },
  e: async () => {
    const compaction = await storeCompaction();
    console.log(`${compactionTable(compaction)}\n`);
    return { storeCompaction: { goals: compactionGoals, ...compaction } };
  },
  f: async () => {
    const attack = await receiverAttack();
    console.log(`${attackTable(attack)}\n`);
    return { receiverAttack: { goals: attackGoals, ...attack, checks: attackChecks(attack) } };
  },
  g: async () => {
    const sustained = await sustainedLoad();
    console.log(`${sustainedTable(sustained)}\n`);
    return { sustainedLoad: { goals: sustainedGoals, ...sustained } };
  },
  h: async () => {
    const scaled = await scaleOut();
    console.log(`${scaleOutTable(scaled)}\n`);
    return { scaleOut: { goals: scaleOutGoals, ...scaled, checks: scaleOutChecks(scaled) } };
  },
};

const wanted = process.argv.slice(2);
const unknown = wanted.filter((name) => !(name in BENCHMARKS));
if (unknown.length > 0) throw new Error(`unknown benchmark ${unknown.join(", ")}; choose from ${Object.keys(BENCHMARKS).join(", ")}`);
const names = (wanted.length > 0 ? wanted : Object.keys(BENCHMARKS)) as (keyof typeof BENCHMARKS)[];

const started = performance.now();
const machine = { node: process.version, cpus: cpus().length, cpuModel: cpus()[0]?.model ?? "unknown", platform: `${process.platform}-${process.arch}` };
console.log(`hookscribe benchmarks ${names.join(", ")}: Node ${machine.node}, ${machine.cpus} x ${machine.cpuModel}\n`);

const resultsUrl = new URL("./results.json", import.meta.url);
// Each section carries when and where it was measured; nothing else is kept at the top.
const { measuredAt: _measuredAt, machine: _machine, ...results }: Record<string, unknown> = JSON.parse(await readFile(resultsUrl, "utf8").catch(() => "{}"));
for (const name of names) {
  for (const [section, figures] of Object.entries(await BENCHMARKS[name]())) results[section] = { measuredAt: new Date().toISOString(), machine, ...figures };
}
await writeFile(resultsUrl, `${JSON.stringify(results, null, 2)}\n`);
console.log(`Wrote bench/results.json. Total ${((performance.now() - started) / 1000).toFixed(0)} s.`);
