/**
 * How many times the calling thread's event loop turned while `work` was out: 0 when the
 * work held the thread from start to end (a synchronous SQLite call inside a promise),
 * more when it ran elsewhere (a worker thread) and the loop was free meanwhile.
 */
export async function loopTurnsDuring(work: () => Promise<unknown>): Promise<number> {
  let turns = 0;
  let done = false;
  const spin = (): void => {
    if (done) return;
    turns += 1;
    setImmediate(spin);
  };
  setImmediate(spin);
  try {
    await work();
  } finally {
    done = true;
  }
  return turns;
}
