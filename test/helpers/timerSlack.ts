/**
 * How early a Node timer may end, measured with performance.now(): libuv times a timer from the
 * loop's clock, cached at the start of the loop's turn, so a timer set late in a turn ends up to
 * a millisecond or two before `delay` has passed by performance.now() (seen here: an 80 ms hold
 * measured 79.x ms; a 200 ms spacing 198.8 ms). A lower bound on a waited time is the delay
 * less this; that still tells a waited refusal or pass from one that did not wait.
 */
export const timerSlackMs = 5;
