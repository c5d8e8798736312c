// The timeline's counts while live tail streams lines in: pure functions over the histogram as
// the server answers it ({from, to, interval, buckets: [{ts, count, by}]}, buckets starting at
// `from`, each `interval` ms wide, a line at exactly `to` in the last one; docs/api.md).

/**
 * The histogram slid so it ends at `now` (when later than its end; the span is kept): buckets
 * that end before the new start are dropped and empty ones are added to reach the new end, on
 * the same grid. The input is not changed.
 */
export function slide(data, now) {
  const { interval } = data;
  const shift = Math.max(0, now - data.to);
  const from = data.from + shift;
  const to = data.to + shift;
  const buckets = data.buckets
    .filter((bucket) => bucket.ts + interval > from)
    .map((bucket) => ({ ...bucket, ...(bucket.by ? { by: { ...bucket.by } } : {}) }));
  const split = data.buckets.some((bucket) => bucket.by);
  let next = data.buckets.length ? data.buckets[data.buckets.length - 1].ts + interval : from;
  for (; next < to; next += interval) {
    if (next + interval > from) buckets.push(split ? { ts: next, count: 0, by: {} } : { ts: next, count: 0 });
  }
  return { from, to, interval, buckets };
}

/** The bucket index a time falls in, or -1 outside [from, to]. */
export function bucketIndex(data, ts) {
  if (!data.buckets.length || ts < data.from || ts > data.to) return -1;
  const index = Math.floor((ts - data.buckets[0].ts) / data.interval);
  if (index < 0) return -1;
  return Math.min(index, data.buckets.length - 1);
}

/**
 * The histogram with live `lines` ({ts, level}) counted in, after sliding it to `now`. A line
 * outside the window is left out (the next answer from the server has the final word).
 */
export function addLines(data, lines, now) {
  const next = slide(data, now);
  for (const line of lines) {
    const index = bucketIndex(next, line.ts);
    if (index < 0) continue;
    const bucket = next.buckets[index];
    bucket.count += 1;
    if (bucket.by) {
      const level = line.level || "";
      bucket.by[level] = (bucket.by[level] || 0) + 1;
    }
  }
  return next;
}

/** Lines counted in the histogram. */
export function total(data) {
  return data.buckets.reduce((sum, bucket) => sum + bucket.count, 0);
}
