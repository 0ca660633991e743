/** Resident set size in bytes after two full collections (needs --expose-gc; otherwise as is). */
export function collectedRss(): number {
  const gc = (globalThis as { gc?: () => void }).gc;
  gc?.();
  gc?.();
  return process.memoryUsage().rss;
}
