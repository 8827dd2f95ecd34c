import type { InspectedEntry, InspectionLog } from './inspection-log.js';

/** What `/inspect` answers: a status and a JSON body. */
export interface InspectReply {
  status: number;
  body: unknown;
}

/**
 * `/inspect?actor=<id>[&pipeline=<name>]`: the latest inspection events of one actor (a stage
 * instance, or a supervisor, named as in `/tree`), oldest first. Without `actor`: the actors with
 * events, per pipeline. `pipeline` may be left out when one pipeline is served.
 */
export function inspectReply(log: InspectionLog | undefined, pipelines: readonly string[], query: URLSearchParams): InspectReply {
  if (log === undefined) return { status: 404, body: { error: 'inspection is off (serve option inspectEvents: 0)' } };
  const actor = query.get('actor');
  const asked = query.get('pipeline');
  if (actor === null) {
    const shown = asked === null ? pipelines : pipelines.filter((p) => p === asked);
    return { status: 200, body: { pipelines: shown.map((pipeline) => ({ pipeline, actors: log.actors(pipeline) })) } };
  }
  let pipeline = asked;
  if (pipeline === null) {
    if (pipelines.length !== 1) return { status: 400, body: { error: `give pipeline=<name> with actor: ${pipelines.length} pipelines are served` } };
    pipeline = pipelines[0] as string;
  }
  if (!pipelines.includes(pipeline)) return { status: 404, body: { error: `no pipeline ${JSON.stringify(pipeline)} is served` } };
  const events: InspectedEntry[] = log.events(pipeline, actor);
  return { status: 200, body: { pipeline, actor, events } };
}
