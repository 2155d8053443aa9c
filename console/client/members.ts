/**
 * The members pages' file uploads, which a plain form cannot make (the central parses no
 * multipart bodies): the chosen file is posted as it is, with the session's CSRF token in a
 * header, and the central's answer is a page rendered in the visitor's language.
 *
 * Import (/members/import): "check" posts the file and puts the answer's `#import-result` in
 * place; the file stays chosen, so its "import" button sends the very same file. The answer is
 * our own server-rendered page, parsed with DOMParser (scripts in it never run) and moved in as
 * nodes; no text from the network is ever assigned as HTML.
 */

function swapResult(target: HTMLElement, pageText: string, fallback: string): void {
  const fresh = new DOMParser().parseFromString(pageText, 'text/html').getElementById(target.id);
  if (fresh === null) {
    const problem = document.createElement('p');
    problem.className = 'error';
    problem.setAttribute('role', 'alert');
    problem.textContent = fallback;
    target.replaceChildren(problem);
  } else {
    target.replaceChildren(...Array.from(fresh.childNodes, (node) => document.importNode(node, true)));
  }
  target.focus();
}

function importForm(): void {
  const form = document.getElementById('import-form') as HTMLFormElement | null;
  const input = document.getElementById('import-file') as HTMLInputElement | null;
  const result = document.getElementById('import-result');
  if (form === null || input === null || result === null) return;
  const word = (key: string) => form.getAttribute(`data-t-${key}`) ?? key;
  let busy = false;

  async function send(step: 'check' | 'import'): Promise<void> {
    const file = input!.files?.[0];
    if (file === undefined) {
      swapResult(result!, '', word('no-file'));
      return;
    }
    if (busy) return;
    busy = true;
    const status = document.createElement('p');
    status.className = 'hint';
    status.textContent = word('working');
    result!.replaceChildren(status);
    try {
      const response = await fetch(`/members/import?step=${step}`, {
        method: 'POST',
        headers: { 'content-type': 'text/csv', 'x-csrf-token': form!.dataset.csrf ?? '' },
        body: file,
      });
      swapResult(result!, await response.text(), `${word('failed')} (${response.status})`);
    } catch {
      swapResult(result!, '', word('failed'));
    } finally {
      busy = false;
    }
  }

  form.addEventListener('submit', (event) => {
    event.preventDefault();
    void send('check');
  });
  result.addEventListener('click', (event) => {
    if ((event.target as Element | null)?.closest('button[data-step="import"]')) void send('import');
  });
  // A preview speaks of the file that was checked: another file needs its own.
  input.addEventListener('change', () => result.replaceChildren());
}

/**
 * Photo (/members/{ref}): the chosen image is posted as it is (image/jpeg or image/png); the
 * central answers with a redirect back to the member's page, saying what became of it. A file
 * over the limit is refused here before it travels.
 */
function photoForm(): void {
  const form = document.getElementById('photo-form') as HTMLFormElement | null;
  const input = document.getElementById('photo-file') as HTMLInputElement | null;
  const problem = document.getElementById('photo-problem');
  if (form === null || input === null || problem === null) return;
  const word = (key: string) => form.getAttribute(`data-t-${key}`) ?? key;
  const say = (text: string, isProblem: boolean) => {
    problem.textContent = text;
    problem.className = isProblem ? 'problem' : 'hint';
    problem.hidden = false;
    if (isProblem) input.setAttribute('aria-invalid', 'true');
  };
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const file = input.files?.[0];
    if (file === undefined) return;
    if (file.size > Number(form.dataset.maxBytes)) {
      say(word('too-large'), true);
      return;
    }
    say(word('working'), false);
    void fetch(`/members/${encodeURIComponent(form.dataset.ref ?? '')}/photo`, {
      method: 'POST',
      headers: { 'content-type': file.type === 'image/png' ? 'image/png' : 'image/jpeg', 'x-csrf-token': form.dataset.csrf ?? '' },
      body: file,
    })
      .then((response) => {
        if (response.redirected) window.location.assign(response.url);
        else say(response.status === 413 ? word('too-large') : word('failed'), true);
      })
      .catch(() => say(word('failed'), true));
  });
}

importForm();
photoForm();
