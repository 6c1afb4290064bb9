export type { CaptionOptions } from "./options.js";
export { toSrt } from "./srt.js";
export { toVtt } from "./vtt.js";
