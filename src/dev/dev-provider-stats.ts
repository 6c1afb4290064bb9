/** Live counters of a running emulator. */
export interface DevProviderStats {
  /** Every HTTP request the emulator received: API calls, `/files/` downloads, unknown paths. */
  requests: number;
  /** Requests to the dialect's submit route, whatever the answer (401, simulated 503, idempotent repeat). */
  submits: number;
  /** Requests to the dialect's status and result routes (generic: `GET /v1/transcripts/{job_id}`). */
  statusFetches: number;
  /** Redeliveries started, through the API or `DevProvider.redeliver()`. */
  redeliveries: number;
  /** Webhook HTTP attempts, retries and duplicates included. */
  webhooksSent: number;
  /** Webhook attempts answered 2xx. */
  webhooksDelivered: number;
  /** Webhook messages given up on: answered 4xx, or still failing after the whole retry schedule. */
  webhooksFailed: number;
}

export function createStats(): DevProviderStats {
  return {
    requests: 0,
    submits: 0,
    statusFetches: 0,
    redeliveries: 0,
    webhooksSent: 0,
    webhooksDelivered: 0,
    webhooksFailed: 0,
  };
}
