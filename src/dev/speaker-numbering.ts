/**
 * Numbers the engine's speaker labels 0, 1, … in the order they first speak, as providers that
 * number speakers do. Each call gives a label its number, a new one the next; `undefined` (no
 * label) is numbered like any other for a dialect that gives every word a speaker.
 */
export function speakerNumbering(): (label: string | undefined) => number {
  const numbers = new Map<string | undefined, number>();
  return (label) => {
    let number = numbers.get(label);
    if (number === undefined) numbers.set(label, (number = numbers.size));
    return number;
  };
}
