import { appendFileSync } from 'node:fs';
import { importPackage } from '../core/packages.js';

/** Sets a step output (GITHUB_OUTPUT) through @actions/core; nothing happens outside a job. */
export async function setStepOutput(name: string, value: string): Promise<void> {
  if (!process.env.GITHUB_OUTPUT) return;
  const { setOutput } = await importPackage<typeof import('@actions/core')>('@actions/core');
  setOutput(name, value);
}

/**
 * Appends Markdown to the job summary (GITHUB_STEP_SUMMARY) through @actions/core, loaded only
 * here. core refuses a summary file that does not exist yet, which the runner creates only on
 * some paths: it is created first. Nothing happens outside a job.
 */
export async function appendSummary(text: string): Promise<void> {
  const file = process.env.GITHUB_STEP_SUMMARY;
  if (!file) return;
  appendFileSync(file, '');
  const { summary } = await importPackage<typeof import('@actions/core')>('@actions/core');
  await summary.addRaw(text).write();
}
