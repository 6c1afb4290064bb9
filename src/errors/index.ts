export { HookscribeError, isHookscribeError } from "./hookscribe-error.js";
export { SubmitError } from "./submit-error.js";
export { TranscriptionError } from "./transcription-error.js";
export { TranscriptionTimeoutError } from "./transcription-timeout-error.js";
export { AbortError } from "./abort-error.js";
export { UnknownJobError } from "./unknown-job-error.js";
export { ConfigurationError } from "./configuration-error.js";
export { StoreError } from "./store-error.js";
