/** A refusal the Slack Web API reports as `{ ok: false, error: code }` (HTTP 200 unless said). */
export class SlackError extends Error {
  constructor(
    readonly code: string,
    readonly status = 200,
    readonly extra: Record<string, unknown> = {},
  ) {
    super(code);
  }
}
