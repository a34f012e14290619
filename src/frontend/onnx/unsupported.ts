/**
 * Thrown while converting one ONNX node when tinyedge has no IR form for it. The importer catches it, records the
 * node in graph.unsupported and carries on, so that a user sees every unsupported op of a model at once.
 */
export class Unsupported extends Error {
  constructor(readonly reason: string) {
    super(reason);
  }
}
