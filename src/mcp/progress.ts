import type { RequestHandlerExtra } from "@modelcontextprotocol/sdk/shared/protocol.js";
import type { ServerNotification, ServerRequest } from "@modelcontextprotocol/sdk/types.js";
import type { JobStatus } from "../domain/job-status.js";

/** What a tool handler receives besides its arguments. */
type ToolExtra = RequestHandlerExtra<ServerRequest, ServerNotification>;

/** Sends `notifications/progress` for one tool call. */
interface ProgressReporter {
  /** Sends one notification with this message; does nothing when the caller asked for no progress. */
  report(message: string): void;
  /** Seconds since the call started, rounded, for messages. */
  elapsedSec(): number;
  /**
   * Stops the heartbeat and resolves once every notification sent so far is written. Await it
   * before answering: a notification that follows the response is an error for the client.
   */
  stop(): Promise<void>;
}

/**
 * Progress for a call that waits on a job: one notification per `report()` and a heartbeat
 * every `heartbeatMs` saying what the job is doing, so a client (and its user) can tell a slow
 * job from a hung server. Only when the request carries `_meta.progressToken`: the protocol
 * forbids progress for requests that did not ask for it.
 */
export function startProgress(extra: ToolExtra, options: { heartbeatMs: number; status: () => JobStatus }): ProgressReporter {
  const startedAt = Date.now();
  const elapsedSec = () => Math.round((Date.now() - startedAt) / 1000);
  const progressToken = extra._meta?.progressToken;
  if (progressToken === undefined) return { report: () => undefined, elapsedSec, stop: async () => undefined };

  // The total is unknown (a provider gives no percentage), so `progress` is a counter: the
  // protocol only asks that it increase with every notification.
  let sent = 0;
  let stopped = false;
  const inFlight = new Set<Promise<void>>();
  const report = (message: string) => {
    if (stopped) return;
    sent += 1;
    // A lost progress message (client gone, pipe closed) must not fail the transcription.
    const sending = extra.sendNotification({ method: "notifications/progress", params: { progressToken, progress: sent, message } }).catch(() => undefined);
    inFlight.add(sending);
    void sending.finally(() => inFlight.delete(sending));
  };
  const heartbeat = setInterval(() => report(`${describeStatus(options.status())}, ${elapsedSec()} s elapsed`), options.heartbeatMs);
  // The call's own promise keeps the process busy; the heartbeat alone must not.
  heartbeat.unref();
  return {
    report,
    elapsedSec,
    stop: async () => {
      stopped = true;
      clearInterval(heartbeat);
      await Promise.all(inFlight);
    },
  };
}

/** A status as a person reads it in a progress line. */
export function describeStatus(status: JobStatus): string {
  switch (status) {
    case "submitting":
      return "submitting to the provider";
    case "error":
      return "failed";
    default:
      return status;
  }
}
