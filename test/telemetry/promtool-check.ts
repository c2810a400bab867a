// Runs Debian's promtool (installed by .ci/run) on an exposition text, the way CI checks a live
// /metrics scrape. A missing promtool fails the test: a skipped lint would prove nothing.

import { spawn } from 'node:child_process';

export interface PromtoolResult {
  code: number | null;
  output: string;
}

export function promtoolCheckMetrics(exposition: string): Promise<PromtoolResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.env.PROMTOOL ?? 'promtool', ['check', 'metrics'], { stdio: ['pipe', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, output }));
    child.stdin.end(exposition);
  });
}
