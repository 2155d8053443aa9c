import { describe, expect, it } from 'vitest';
import { html } from '../../console/html.js';
import { en } from '../../console/i18n/en.js';
import { chooseLang, translator } from '../../console/i18n/lang.js';
import { vi } from '../../console/i18n/vi.js';
import { localPath } from '../../console/pageContext.js';

const pick = (query: string, cookie?: string, acceptLanguage?: string) =>
  chooseLang({ query: new URLSearchParams(query), cookies: cookie === undefined ? {} : { qrgate_lang: cookie }, acceptLanguage });

describe('the console language', () => {
  it('is Vietnamese unless asked: ?lang wins and is remembered, then the cookie, then Accept-Language by weight', () => {
    expect(pick('')).toEqual({ lang: 'vi', chosenNow: false });
    expect(pick('lang=en', 'vi')).toEqual({ lang: 'en', chosenNow: true });
    expect(pick('', 'en', 'vi-VN')).toEqual({ lang: 'en', chosenNow: false });
    expect(pick('', undefined, 'en-US,en;q=0.9')).toEqual({ lang: 'en', chosenNow: false });
    expect(pick('', undefined, 'fr-FR, en;q=0.5, vi;q=0.8')).toEqual({ lang: 'vi', chosenNow: false });
    expect(pick('', undefined, 'en;q=0, de')).toEqual({ lang: 'vi', chosenNow: false });
    expect(pick('lang=fr', 'xx', 'de')).toEqual({ lang: 'vi', chosenNow: false });
  });

  it('has every string in both languages, none empty, and fills in values', () => {
    expect(Object.keys(en).sort()).toEqual(Object.keys(vi).sort());
    for (const catalogue of [vi, en]) for (const text of Object.values(catalogue)) expect(text.trim()).not.toBe('');
    expect(translator('vi')('login.throttled', { seconds: 30 })).toBe('Đăng nhập sai quá nhiều lần. Hãy thử lại sau 30 giây.');
    expect(translator('en')('check.notFound', { code: '1' })).toBe('No checkpoint has the code 1.');
  });
});

describe('pages', () => {
  it('escape every value put into HTML, so a name or a query cannot become markup', () => {
    const name = `<script>alert("x")</script> & 'Ánh'`;
    expect(html`<td title="${name}">${name}</td>`.text).toBe(
      '<td title="&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#39;Ánh&#39;">&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#39;Ánh&#39;</td>',
    );
    expect(html`<ul>${['a<', html`<b>b</b>`, null, false]}</ul>`.text).toBe('<ul>a&lt;<b>b</b></ul>');
  });

  it('send a login only on to a path of this central, never to another site', () => {
    expect(localPath('/checkpoints?x=1')).toBe('/checkpoints?x=1');
    for (const outside of ['https://evil.example/', '//evil.example/', '/\\evil.example', 'javascript:alert(1)', '', null]) expect(localPath(outside)).toBe('/');
  });
});
