import http from "node:http";
import { type Delivery, type Distribution, distribution } from "./helpers.js";

/** What one load run measured at the sender. */
export interface LoadResult {
  deliveries: number;
  durationMs: number;
  perSecond: number;
  /** From writing the request to reading the whole answer, in ms. */
  latency: Distribution;
  /** Answers by HTTP status; `0` counts requests that got no answer (network error or timeout). */
  statuses: Record<number, number>;
}

/** A delivery still unanswered after this long counts as failed, so a stuck server cannot hang the run. */
const REQUEST_TIMEOUT_MS = 30_000;

/**
 * POSTs every delivery once to `baseUrl`, keeping `connections` requests in flight over as many
 * kept-alive sockets (a provider's webhook sender pool, or a busy day's retries). Given several
 * base URLs (replicas addressed directly, as a round-robin balancer would), delivery `i` goes to
 * `baseUrl[i % n]` and the connections are split between them, each sending only to its own, so
 * that no socket idles long enough for the server to close it under the sender.
 */
export async function runLoad(baseUrl: string | readonly string[], deliveries: readonly Delivery[], connections: number): Promise<LoadResult> {
  const targets = typeof baseUrl === "string" ? [baseUrl] : baseUrl;
  const agent = new http.Agent({ keepAlive: true, maxSockets: connections });
  const latencies: number[] = [];
  const statuses: Record<number, number> = {};
  const queues = targets.map((target, t) => ({ target, deliveries: targets.length === 1 ? deliveries : deliveries.filter((_, i) => i % targets.length === t), next: 0 }));
  // Each sender takes its target's next undelivered item until none is left, so the run ends by itself.
  const sender = async (queue: (typeof queues)[number]) => {
    while (queue.next < queue.deliveries.length) {
      const delivery = queue.deliveries[queue.next++]!;
      const started = performance.now();
      const status = await post(agent, new URL(delivery.path, queue.target), delivery);
      latencies.push(performance.now() - started);
      statuses[status] = (statuses[status] ?? 0) + 1;
    }
  };
  const started = performance.now();
  try {
    await Promise.all(Array.from({ length: connections }, (_, i) => sender(queues[i % queues.length]!)));
  } finally {
    agent.destroy();
  }
  const durationMs = performance.now() - started;
  return { deliveries: deliveries.length, durationMs, perSecond: (deliveries.length / durationMs) * 1000, latency: distribution(latencies), statuses };
}

/** One POST; resolves with the status once the answer is fully read, `0` on failure. Never rejects. */
export function post(agent: http.Agent, url: URL, delivery: Delivery): Promise<number> {
  return new Promise((resolve) => {
    const request = http.request(url, { method: "POST", agent, headers: delivery.headers, timeout: REQUEST_TIMEOUT_MS }, (response) => {
      response.resume();
      response.on("end", () => resolve(response.statusCode ?? 0));
      response.on("error", () => resolve(0));
    });
    request.on("timeout", () => request.destroy(new Error("timed out")));
    request.on("error", () => resolve(0));
    request.end(delivery.body);
  });
}
