export { Transcriber } from "./transcriber.js";
export type { TranscriberEvents } from "./transcriber.js";
export type { TranscribeOptions, JobOptions } from "./transcribe-options.js";
export type { DeliveryInfo } from "./receiver/reply.js";
export type { JobSummary, JobsFilter, JobsPage } from "./job-summary.js";
export type { TranscriberOptions, ReceiverOptions, RetryOptions } from "./options.js";
export { TranscriptionJob } from "./job.js";
export {
  HookscribeError,
  isHookscribeError,
  SubmitError,
  TranscriptionError,
  TranscriptionTimeoutError,
  AbortError,
  ConfigurationError,
  StoreError,
  UnknownJobError,
  ProviderPayloadError,
  FetchResultError,
  CaptionError,
  UnknownDeadLetterError,
} from "./errors/index.js";
export type { Transcript, TranscriptResult, Word } from "./domain/transcript.js";
export type { JobStatus, ProviderJobStatus } from "./domain/job-status.js";
export type { SilenceInfo } from "./silence-monitor.js";
export type { DeadLetter } from "./domain/dead-letter.js";
export type { Logger } from "./shared/logger.js";
export { genericProvider } from "./providers/generic.js";
export { speechmaticsProvider, type SpeechmaticsProviderOptions, type SpeechmaticsParams, type SpeechmaticsTranscriptionConfig, type SpeechmaticsRegion } from "./providers/speechmatics.js";
export { deepgramProvider, type DeepgramProviderOptions, type DeepgramParams, type DeepgramParamValue, type DeepgramRegion } from "./providers/deepgram.js";
export {
  gladiaProvider,
  type GladiaProviderOptions,
  type GladiaParams,
  type GladiaDiarizationConfig,
  type GladiaSubtitlesConfig,
  type GladiaCustomVocabularyConfig,
  type GladiaTranslationConfig,
} from "./providers/gladia.js";
export { assemblyAIProvider, type AssemblyAIProviderOptions, type AssemblyAIParams } from "./providers/assemblyai.js";
export { revAIProvider, type RevAIProviderOptions, type RevAIParams, type RevAIRegion } from "./providers/revai.js";
export type { GenericProviderOptions } from "./providers/generic.js";
export type { ProviderRequestOptions, ProviderRetryOptions } from "./providers/provider-api.js";
export type { Provider, SubmitRequest, SubmitContext } from "./providers/provider.js";
export type { ProviderEvent } from "./domain/provider-event.js";
export type { WebhookContext, WebhookRequest } from "./verification/webhook-request.js";
export type { Verification } from "./verification/verification.js";
export { signHmacHex, verifyHmacHex } from "./verification/hmac-hex.js";
export { signStandardWebhook, verifyStandardWebhook } from "./verification/standard-webhooks.js";
export { toSrt, toVtt } from "./captions/index.js";
export type { CaptionOptions } from "./captions/index.js";
export type { JobStore, StoreReader, StatusChange, StatusChangeResult, DeliveryOutcome, JobListing } from "./store/job-store.js";
export type { JobRecord, DeliveryRecord, DeadLetterRecord } from "./store/records.js";
