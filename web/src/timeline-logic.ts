// The timeline's arithmetic, kept apart from the DOM so it is tested on its own.

export interface TimelineScene {
  id: number;
  date: string; // YYYY-MM-DD
  sensor: string;
  cloudCover: number | null;
}

/** The date one step before (-1) or after (+1) the given one; stays at the ends. An unknown date starts from the nearest. */
export function step(dates: string[], current: string | undefined, delta: number): string | undefined {
  if (dates.length === 0) return undefined;
  const sorted = [...dates].sort();
  let index = current === undefined ? sorted.length - 1 : sorted.indexOf(current);
  if (index < 0) index = nearestIndex(sorted, current!);
  return sorted[Math.min(sorted.length - 1, Math.max(0, index + delta))];
}

/** The scene date nearest to a day (ties go to the earlier date). */
export function nearest(dates: string[], day: string): string | undefined {
  if (dates.length === 0) return undefined;
  const sorted = [...dates].sort();
  return sorted[nearestIndex(sorted, day)];
}

function nearestIndex(sorted: string[], day: string): number {
  const t = Date.parse(day);
  let best = 0;
  for (let i = 1; i < sorted.length; i++) {
    if (Math.abs(Date.parse(sorted[i]) - t) < Math.abs(Date.parse(sorted[best]) - t)) best = i;
  }
  return best;
}

/** Position of a date along the timeline, 0..1 (one date: the middle). */
export function position(dates: string[], day: string): number {
  const times = dates.map((d) => Date.parse(d));
  const min = Math.min(...times);
  const max = Math.max(...times);
  if (max === min) return 0.5;
  return (Date.parse(day) - min) / (max - min);
}

/** The pair a comparison starts from when the URL names none: the date shown and the one before it. */
export function defaultPair(dates: string[], after?: string, before?: string): { after?: string; before?: string } {
  const sorted = [...dates].sort();
  const a = after && sorted.includes(after) ? after : sorted[sorted.length - 1];
  let b = before && sorted.includes(before) && before !== a ? before : undefined;
  if (b === undefined && a !== undefined) {
    const i = sorted.indexOf(a);
    b = i > 0 ? sorted[i - 1] : sorted[i + 1];
  }
  return { after: a, before: b };
}
