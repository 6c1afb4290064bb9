export { Transcriber } from "./transcriber.js";
export type { TranscribeOptions, JobOptions, TranscriberEvents } from "./transcriber.js";
export type { JobSummary } from "./job-summary.js";
export type { TranscriberOptions } from "./options.js";
export { TranscriptionJob } from "./job.js";
export {
  HookscribeError,
  SubmitError,
  TranscriptionError,
  TranscriptionTimeoutError,
  AbortError,
  ConfigurationError,
  StoreError,
  UnknownJobError,
} from "./errors/index.js";
export type { Transcript, Word, JobStatus, SilenceInfo, DeadLetter, Logger } from "./types.js";
export { genericProvider } from "./providers/generic.js";
export type { GenericProviderOptions } from "./providers/generic.js";
export type { Provider, ProviderEvent, SubmitRequest, SubmitContext } from "./providers/provider.js";
export type { WebhookRequest } from "./verification/webhook-request.js";
export type { Verification } from "./verification/verification.js";
export { signHmacHex, verifyHmacHex } from "./verification/hmac-hex.js";
export { signStandardWebhook, verifyStandardWebhook } from "./verification/standard-webhooks.js";
export { startDevProvider, sidecarEngine, fixedTextEngine } from "./dev/dev-provider.js";
export type {
  DevProvider,
  DevProviderOptions,
  DevProviderFaults,
  DevProviderStats,
  DevJob,
  DevJobStatus,
  DevDelivery,
  DevDeadLetter,
  TranscriptEngine,
  EngineContext,
  EngineResult,
} from "./dev/dev-provider.js";
export { toSrt, toVtt } from "./captions/index.js";
export type { CaptionOptions } from "./captions/index.js";
