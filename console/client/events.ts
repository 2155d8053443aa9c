import { eventRow, type EventRowInput, type EventWords } from '../shared/eventRow.js';

/**
 * The in/out log, live: each event the central stores that matches the page's filters arrives
 * over /api/events/live and goes on top of the table, rendered by the same eventRow the server
 * uses, as text (never HTML). The browser's EventSource reconnects by itself (the central ends
 * a feed every few minutes to check the session again).
 */
const table = document.getElementById('events');
const body = table?.querySelector('tbody');
const state = document.getElementById('live-state');

if (table && body && table.dataset.live) {
  const words = JSON.parse(table.dataset.words ?? '{}') as EventWords;
  const names = JSON.parse(table.dataset.checkpoints ?? '{}') as Record<string, string>;
  const lang = table.dataset.lang === 'en' ? 'en' : 'vi';
  const source = new EventSource(table.dataset.live);
  source.addEventListener('scan', (message) => {
    const event = JSON.parse((message as MessageEvent<string>).data) as EventRowInput;
    if (body.querySelector(`tr[data-event="${CSS.escape(event.id)}"]`)) return;
    const row = eventRow(event, words, lang, names);
    const tr = document.createElement('tr');
    tr.dataset.event = row.id;
    tr.className = `decision-${row.decision} new`;
    for (const cell of row.cells) {
      const td = document.createElement('td');
      td.textContent = cell;
      tr.append(td);
    }
    body.prepend(tr);
    document.getElementById('no-events')?.remove();
  });
  // `data-live` says whether the feed is open now: styles mark a broken feed, tests wait for an open one.
  source.addEventListener('error', () => {
    if (state) state.dataset.live = 'closed';
  });
  source.addEventListener('open', () => {
    if (state) state.dataset.live = 'open';
  });
}
