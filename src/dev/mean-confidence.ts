/** The mean of some words' confidences, as a transcript's or an utterance's own; `undefined` for none. */
export function meanConfidence(confidences: readonly number[]): number | undefined {
  return confidences.length === 0 ? undefined : confidences.reduce((sum, value) => sum + value, 0) / confidences.length;
}
