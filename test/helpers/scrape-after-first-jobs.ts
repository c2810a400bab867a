// A running daemon's /metrics once its first sweep and profile have finished (each counted ok
// once): per-asset series and the jobs' own metrics are then in the scrape.

import { setTimeout as sleep } from 'node:timers/promises';

export async function scrapeAfterFirstJobs(url: string, timeoutMs = 30_000): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const text = await (await fetch(`${url}/metrics`)).text();
    const done = (job: string) => new RegExp(`^pipewarden_job_runs_total\\{job="${job}",outcome="ok"\\} 1$`, 'm').test(text);
    if (done('sweep') && done('profile')) return text;
    if (Date.now() > deadline) throw new Error(`the daemon's first sweep and profile did not finish within ${timeoutMs} ms`);
    await sleep(50);
  }
}
