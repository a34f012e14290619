/**
 * remove-dead-nodes: a node none of whose outputs is read by another node or named as a graph output is removed.
 *
 * Why it is safe: every IR op is a pure function of its inputs (no state, no side effects), so a result nobody reads
 * cannot change any graph output. Other passes rely on this one to sweep up what their rewiring leaves unread.
 */
import type { Graph } from '../ir/types.js';
import { GraphEdit, type PassResult } from './graph-edit.js';

export function removeDeadNodes(graph: Graph): PassResult {
  const edit = new GraphEdit(graph);
  // Walking backwards removes whole dead branches in one sweep: a reader is always after what it reads.
  for (const node of [...edit.nodeList].reverse()) {
    const used = node.outputs.some((name) => edit.isGraphOutput(name) || edit.consumers(name).length > 0);
    if (used) continue;
    edit.removeNode(node);
    edit.note(`removed ${node.op} '${node.name}': its output is never read`);
  }
  return edit.result();
}
