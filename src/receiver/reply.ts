/** What the receiver answered one webhook delivery, for the `'delivery'` event. */
export interface DeliveryInfo {
  /** The HTTP status the sender got: `200` for an accepted or duplicate delivery. */
  statusCode: number;
  /**
   * `accepted`: stored and acknowledged; `duplicate`: acknowledged, it repeated a status already
   * stored (providers retry and reorder); `ignored`: acknowledged, a notification that is not about
   * a job's status (AssemblyAI's redacted audio); `refused`: not stored (the status code says why).
   */
  outcome: "accepted" | "duplicate" | "ignored" | "refused";
  /** The provider's job id, once the delivery could be tied to a job. */
  jobId?: string;
  /** The provider named in the webhook path. */
  provider?: string;
  /** Why it was refused, safe to log: never a secret, token or transcript text. */
  reason?: string;
  /** Time from the request's arrival to the answer, in ms. */
  durationMs: number;
}

/** What the intake answers for a delivery that passed routing and limits. */
export interface Reply {
  status: 200 | 400 | 401 | 404 | 405 | 413 | 415 | 500 | 503;
  outcome: DeliveryInfo["outcome"];
  /** Safe to send to the caller and to log: never holds a secret or transcript text. */
  message: string;
  /** The job the delivery was for, once known. */
  jobId?: string;
  /** With a `503`: when the sender may try again, in seconds (sent as `Retry-After`). */
  retryAfterSec?: number;
}
