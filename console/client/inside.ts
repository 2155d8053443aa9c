/**
 * Who is inside now, live (issue 14 page 5): the print button, and every 5 s the other
 * guards' "safe" marks and the missing counts from GET /api/inside, so two phones working one
 * roll call see each other's marks without a reload. A person coming in or going out only
 * says the list changed: rows are the server's to render. Text goes in as text, never HTML.
 */
interface Person {
  readonly ref: string;
  readonly safe: { readonly at: string; readonly by: string } | null;
}
interface Group {
  readonly unit: string;
  readonly missing: number;
  readonly people: readonly Person[];
}
interface InsideNow {
  readonly total: number;
  readonly groups: readonly Group[];
}

document.getElementById('print-roll')?.addEventListener('click', () => window.print());

const live = document.getElementById('inside-live');
const lang = document.documentElement.lang === 'en' ? 'en-GB' : 'vi-VN';
const numbers = new Intl.NumberFormat(lang);
const times = new Intl.DateTimeFormat(lang, { timeZone: 'Asia/Ho_Chi_Minh', day: '2-digit', month: '2-digit', year: 'numeric', hour: '2-digit', minute: '2-digit', second: '2-digit', hour12: false });
const safeWord = document.documentElement.lang === 'en' ? 'Safe' : 'An toàn';

function refresh(view: InsideNow): void {
  const shown = new Set([...document.querySelectorAll<HTMLElement>('tr[data-ref]')].map((row) => row.dataset.ref));
  const inside = new Set(view.groups.flatMap((group) => group.people.map((person) => person.ref)));
  let missing = 0;
  for (const group of view.groups) {
    missing += group.missing;
    const section = [...document.querySelectorAll<HTMLElement>('section.inside-group')].find((s) => s.dataset.unit === group.unit);
    const count = section?.querySelector<HTMLElement>('.missing-count');
    if (count && count.dataset.missing !== String(group.missing)) {
      count.dataset.missing = String(group.missing);
      count.textContent = count.textContent?.replace(/[\d.,\s]+/, ` ${numbers.format(group.missing)}`).trim() ?? '';
    }
    for (const person of group.people) {
      const row = document.querySelector<HTMLElement>(`tr[data-ref="${person.ref}"]`);
      if (!row || person.safe === null || row.classList.contains('safe')) continue;
      row.classList.replace('missing', 'safe');
      const form = row.querySelector('form');
      const mark = document.createElement('span');
      mark.className = 'safe-mark';
      mark.textContent = `${safeWord} · ${person.safe.by} · ${times.format(new Date(person.safe.at))}`;
      form?.replaceWith(mark);
    }
  }
  const missingTotal = document.getElementById('inside-missing');
  if (missingTotal) missingTotal.textContent = numbers.format(missing);
  const changed = [...inside].some((ref) => !shown.has(ref)) || [...shown].some((ref) => ref !== undefined && !inside.has(ref) && !document.querySelector(`tr[data-ref="${ref}"].safe`));
  if (live) live.textContent = changed ? (live.dataset.changed ?? '') : '';
}

async function poll(): Promise<void> {
  try {
    const response = await fetch('/api/inside', { headers: { accept: 'application/json' } });
    if (response.ok) refresh((await response.json()) as InsideNow);
  } catch {
    // The network came and went: the next poll tries again.
  }
  setTimeout(() => void poll(), 5000);
}

setTimeout(() => void poll(), 5000);
