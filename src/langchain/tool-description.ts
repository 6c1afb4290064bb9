/**
 * The default description: what a model reads to decide whether to call the tool, so it says
 * when to use it, when not to, that it is slow, and what comes back.
 */
export function defaultToolDescription(output: "text" | "json"): string {
  const returns =
    output === "json"
      ? "Returns JSON with the transcript text, the language, the duration and every word with its start and end time in seconds."
      : "Returns the transcript text.";
  return [
    "Transcribes the speech in an audio or video recording (a call, meeting, podcast, voice note or video) and returns the spoken words.",
    "Use it when you have an http(s) URL of such a recording and need to know what is said in it.",
    "It sends the recording to a speech-to-text service and waits for the result, which can take several minutes for a long recording: call it once per recording and do not call it again while it runs.",
    "Do not use it for text, web pages or documents, nor for files on the user's machine that you cannot give an http(s) URL for.",
    returns,
  ].join(" ");
}
