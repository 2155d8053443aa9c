/**
 * The guard screen, live: polls GET /api/pending twice a second (a scan shows within a second
 * of the terminal telling the central), counts each scan down on the central's clock, and
 * answers through the API with the session's CSRF token. Text comes from the page's data
 * attributes, in the page's language; nothing from the network is ever put in as HTML.
 */
interface PendingView {
  readonly id: string;
  readonly checkpointCode: string;
  readonly lane: string;
  readonly direction: 'in' | 'out';
  readonly expiresAt: string;
  readonly terminalOnline: boolean;
  /** The central has a photo of this person for this guard (GET /api/pending/{id}/photo answers 200). */
  readonly photo: boolean;
  readonly member: null | { readonly otherUnit: true; readonly unit: string; readonly idMasked: string } | { readonly name: string; readonly unit: string; readonly idMasked: string; readonly status: string };
}

const root = document.getElementById('guard');
const list = document.getElementById('pending');
const state = document.getElementById('guard-state');

/** Checkpoint names by code, from the page (a scan names its checkpoint by code only). */
const checkpointNames = JSON.parse(root?.dataset.checkpoints ?? '{}') as Record<string, string>;

function word(key: string): string {
  return root?.getAttribute(`data-t-${key}`) ?? key;
}

function element<K extends keyof HTMLElementTagNameMap>(tag: K, className: string, text?: string): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

let skewMs = 0;
const answered = new Map<string, string>();
/**
 * The list is rebuilt on every poll; each scan keeps its one <img>, so the photo is fetched
 * once per scan rather than twice a second (it is served no-store) and does not flicker.
 */
const photos = new Map<string, HTMLImageElement>();

function photoOf(scan: PendingView, name: string): HTMLImageElement {
  let img = photos.get(scan.id);
  if (!img) {
    img = element('img', 'pending-photo');
    img.src = `/api/pending/${encodeURIComponent(scan.id)}/photo`;
    img.alt = `${word('photo-alt')} ${name}`;
    photos.set(scan.id, img);
  }
  return img;
}

async function answer(id: string, action: 'confirm' | 'reject'): Promise<void> {
  const response = await fetch(`/api/pending/${encodeURIComponent(id)}/${action}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-csrf-token': root?.dataset.csrf ?? '' },
    body: '{}',
  });
  answered.set(id, response.status === 202 ? word('answered') : response.status === 409 ? word('late') : word('failed'));
  await refresh();
}

function render(pending: readonly PendingView[]): void {
  if (!list || !state) return;
  for (const id of photos.keys()) if (!pending.some((scan) => scan.id === id)) photos.delete(id);
  list.replaceChildren(
    ...pending.map((scan) => {
      const item = element('li', 'pending-scan card');
      item.dataset.pendingId = scan.id;
      const who = scan.member === null ? word('unknownPerson') : 'otherUnit' in scan.member ? `${word('otherUnit')} ${scan.member.unit}` : scan.member.name;
      if (scan.photo) item.append(photoOf(scan, who));
      item.append(element('p', 'person', who));
      if (scan.member !== null && !('otherUnit' in scan.member)) {
        const facts = element('p', 'facts-line');
        facts.append(element('span', '', scan.member.unit), element('span', 'code', scan.member.idMasked), element('span', `status status-${scan.member.status}`, word(`status-${scan.member.status}`)));
        item.append(facts);
      }
      item.append(element('p', 'hint', `${checkpointNames[scan.checkpointCode] ?? scan.checkpointCode} · ${word('lane')} ${scan.lane} · ${word(`direction-${scan.direction}`)}`));
      const left = Math.max(0, Math.round((Date.parse(scan.expiresAt) - (Date.now() + skewMs)) / 1000));
      item.append(element('p', 'countdown', `${left} ${word('seconds')}`));
      const done = answered.get(scan.id);
      if (done !== undefined) item.append(element('p', 'notice', done));
      else if (!scan.terminalOnline) item.append(element('p', 'error', word('offline')));
      else {
        const buttons = element('div', 'answer');
        const confirm = element('button', 'confirm', word('confirm'));
        const reject = element('button', 'danger', word('reject'));
        confirm.type = reject.type = 'button';
        confirm.addEventListener('click', () => void answer(scan.id, 'confirm'));
        reject.addEventListener('click', () => void answer(scan.id, 'reject'));
        buttons.append(confirm, reject);
        item.append(buttons);
      }
      return item;
    }),
  );
  state.textContent = pending.length === 0 ? word('waiting') : '';
}

let timer: number | undefined;
async function refresh(): Promise<void> {
  try {
    const response = await fetch('/api/pending', { headers: { accept: 'application/json' } });
    if (response.status === 401) {
      window.location.assign(`/login?next=${encodeURIComponent('/guard')}`);
      return;
    }
    if (!response.ok) return;
    const body = (await response.json()) as { now: string; pending: PendingView[] };
    skewMs = Date.parse(body.now) - Date.now();
    render(body.pending);
  } catch {
    // The network is down: the gate keeps its own buttons; try again on the next tick.
  }
}

if (root && list) {
  void refresh();
  timer = window.setInterval(() => void refresh(), 500);
  window.addEventListener('pagehide', () => window.clearInterval(timer));
}

const openForm = document.querySelector<HTMLFormElement>('form[data-remote-open]');
openForm?.addEventListener('submit', (event) => {
  event.preventDefault();
  const data = new FormData(openForm);
  const result = document.getElementById('open-result');
  void fetch(`/api/checkpoints/${encodeURIComponent(String(data.get('checkpoint')))}/open`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-csrf-token': root?.dataset.csrf ?? '' },
    body: JSON.stringify({ reason: String(data.get('reason') ?? '') }),
  }).then((response) => {
    if (result) result.textContent = response.status === 202 ? word('opened') : word('failed');
    if (response.status === 202) openForm.reset();
  });
});
