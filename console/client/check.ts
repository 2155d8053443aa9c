import { checkpointCodeProblem } from '../../protocol/checkpointCodeDigits.js';

/**
 * The public lookup's form: a mistyped code is caught here, before anything is sent, with
 * the page's own words for each problem (data-problem-* attributes, in the page's language).
 */
const form = document.querySelector<HTMLFormElement>('form[data-checkpoint-lookup]');
const input = form?.querySelector<HTMLInputElement>('input[name="code"]');
const message = form?.querySelector<HTMLElement>('[data-code-problem]');

if (form && input && message) {
  const explain = (): boolean => {
    const code = input.value.trim();
    const problem = code === '' ? null : checkpointCodeProblem(code);
    const text = problem === null ? '' : (form.dataset[`problem${problem === 'check-digit' ? 'CheckDigit' : problem === 'non-digit' ? 'NonDigit' : 'Length'}`] ?? '');
    input.setCustomValidity(text);
    input.setAttribute('aria-invalid', problem === null ? 'false' : 'true');
    message.textContent = text;
    return problem === null && code !== '';
  };
  input.addEventListener('input', () => {
    // Judge only once the code could be whole: no scolding after the first digit.
    if (input.value.trim().length >= 14 || input.getAttribute('aria-invalid') === 'true') explain();
  });
  form.addEventListener('submit', (event) => {
    if (!explain()) {
      event.preventDefault();
      input.focus();
    }
  });
}
