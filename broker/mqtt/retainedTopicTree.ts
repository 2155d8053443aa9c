/**
 * Retained messages by topic, in a tree of topic levels, so a SUBSCRIBE's lookup visits only
 * the branches its filter can match. aedes-persistence's in-memory store keeps them in one
 * Map and tests every retained topic against every new filter (`retainedMessagesByPattern`
 * in asyncPersistence.js): with a retained status per terminal, each login's command
 * subscription cost a walk over the whole fleet, and a central restart in front of 10,000
 * terminals spent ~100 s of CPU on it (docs/benchmarks.md, "Reconnect storm").
 *
 * Matching is qlobber's, as aedes-persistence configures it (`/` separates levels, `+` is
 * exactly one level, `#` zero or more), so the broker answers a SUBSCRIBE with the same
 * retained messages as before: `a/#` matches `a` [MQTT-4.7.1-2]. Two of qlobber's ways are
 * kept on purpose although MQTT says otherwise: `+` does not match an empty level (`a/+`
 * misses `a/`, [MQTT-4.7.1-3] would match it), and a `$` topic is not set apart from
 * wildcards [MQTT-4.7.2-1]. Our topics have neither. Pure: no IO.
 */

interface TopicNode<T> {
  value: T | undefined;
  readonly children: Map<string, TopicNode<T>>;
}

const separator = '/';
const oneLevel = '+';
const anyLevels = '#';

function newNode<T>(): TopicNode<T> {
  return { value: undefined, children: new Map() };
}

export class RetainedTopicTree<T> {
  private readonly root: TopicNode<T> = newNode();
  private count = 0;

  get size(): number {
    return this.count;
  }

  /** Stores `value` under a topic (no wildcards: a PUBLISH topic), replacing the one there. */
  set(topic: string, value: T): void {
    let node = this.root;
    for (const level of topic.split(separator)) {
      let child = node.children.get(level);
      if (child === undefined) node.children.set(level, (child = newNode()));
      node = child;
    }
    if (node.value === undefined) this.count++;
    node.value = value;
  }

  /** Forgets a topic's value; branches left empty are pruned, so removed topics cost nothing later. */
  delete(topic: string): void {
    const path: TopicNode<T>[] = [this.root];
    for (const level of topic.split(separator)) {
      const child = path[path.length - 1]!.children.get(level);
      if (child === undefined) return;
      path.push(child);
    }
    const leaf = path[path.length - 1]!;
    if (leaf.value === undefined) return;
    leaf.value = undefined;
    this.count--;
    const levels = topic.split(separator);
    for (let i = path.length - 1; i > 0; i--) {
      const node = path[i]!;
      if (node.value !== undefined || node.children.size > 0) break;
      path[i - 1]!.children.delete(levels[i - 1]!);
    }
  }

  /** Every value whose topic the filter matches, each once. */
  *match(filter: string): Generator<T> {
    yield* matchFrom(this.root, filter.split(separator), 0);
  }
}

function* matchFrom<T>(node: TopicNode<T>, words: readonly string[], index: number): Generator<T> {
  if (index === words.length) {
    if (node.value !== undefined) yield node.value;
    return;
  }
  const word = words[index]!;
  if (word === anyLevels) {
    if (index === words.length - 1) {
      yield* everyValue(node);
      return;
    }
    // `#` before other levels is no valid MQTT filter (aedes refuses it before any lookup);
    // answered as qlobber would, by trying every split, each topic once.
    const seen = new Set<T>();
    for (const descendant of everyNode(node)) {
      for (const value of matchFrom(descendant, words, index + 1)) {
        if (!seen.has(value)) {
          seen.add(value);
          yield value;
        }
      }
    }
    return;
  }
  if (word === oneLevel) {
    for (const [name, child] of node.children) if (name !== '') yield* matchFrom(child, words, index + 1);
    return;
  }
  const child = node.children.get(word);
  if (child !== undefined) yield* matchFrom(child, words, index + 1);
}

function* everyNode<T>(node: TopicNode<T>): Generator<TopicNode<T>> {
  // Iterative: a deep branch must not overflow the stack (topics are bounded by maxTopicLevels anyway).
  const stack: TopicNode<T>[] = [node];
  while (stack.length > 0) {
    const next = stack.pop()!;
    yield next;
    for (const child of next.children.values()) stack.push(child);
  }
}

function* everyValue<T>(node: TopicNode<T>): Generator<T> {
  for (const each of everyNode(node)) if (each.value !== undefined) yield each.value;
}
