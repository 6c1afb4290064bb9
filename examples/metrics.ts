/**
 * Metrics for Prometheus: hookscribe publishes them through @opentelemetry/api, so the
 * application registers the OpenTelemetry SDK (before the client starts) and chooses the exporter.
 * Here the Prometheus exporter's handler is served on a port of our own and read once.
 */
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { metrics } from "@opentelemetry/api";
import { PrometheusExporter } from "@opentelemetry/exporter-prometheus";
import { MeterProvider } from "@opentelemetry/sdk-metrics";
import { Transcriber, genericProvider } from "hookscribe";
import { fixedTextEngine, startDevProvider } from "hookscribe/dev";

const exporter = new PrometheusExporter({ preventServerStart: true });
metrics.setGlobalMeterProvider(new MeterProvider({ readers: [exporter] }));
const scrape = createServer((request, response) => exporter.getMetricsRequestHandler(request, response));
await new Promise<void>((resolve) => scrape.listen(0, "127.0.0.1", resolve));

const dev = await startDevProvider({ engine: fixedTextEngine("counted"), processingDelayMs: 100 });
const client = new Transcriber({
  provider: genericProvider({ baseUrl: dev.url, apiKey: dev.apiKey, webhookSecret: dev.webhookSecret }),
  receiver: { port: 0 },
  storePath: join(await mkdtemp(join(tmpdir(), "hookscribe-metrics-")), "store.json"),
});
await Promise.all(["a", "b"].map((name) => client.transcribe(`https://example.com/${name}.mp3`)));

const page = await (await fetch(`http://127.0.0.1:${(scrape.address() as AddressInfo).port}/metrics`)).text();
console.log(page.split("\n").filter((line) => /^hookscribe_(deliveries|dead_letters|worker_backlog|jobs_pending)/.test(line)).join("\n"));

await client.close();
await dev.close();
scrape.close();
