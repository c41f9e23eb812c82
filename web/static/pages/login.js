/* pages/login.js — the sign-in page (shown whenever no session is open).
 *
 * Purpose: a login + password form posting to POST /api/session; 401 and
 * 429 (with retry_after) are explained in Russian; on success the shell's
 * onSignedIn gets {login, role, csrf}. Also tells that operators and
 * admins can sign in from the bot without a password.
 *
 * Exports: render.
 * Thread: the page's main thread.
 */
import { send } from '../api.js';
import { h, message, replace } from '../dom.js';
import { dur } from '../fmt.js';
import { T } from '../texts.js';

/* Contract (every page): render(root, params) fills root. */
export function render(root, params) {
    const login = h('input', { id: 'login', name: 'login', autocomplete: 'username', required: true, maxlength: '64' });
    const password = h('input', { id: 'password', name: 'password', type: 'password', autocomplete: 'current-password', required: true });
    const submit = h('button', { type: 'submit', class: 'primary' }, T.login.submit);
    const status = h('div', { class: 'login-status' });

    const onSubmit = async (e) => {
        e.preventDefault();
        if (!login.value.trim() || !password.value) { replace(status, message('error', T.login.need)); return; }
        submit.disabled = true;
        submit.textContent = T.login.busy;
        replace(status);
        try {
            const who = await send('POST', '/api/session', { login: login.value.trim(), password: password.value });
            password.value = '';
            params.onSignedIn(who);
        } catch (err) {
            let text = err.message;
            if (err.status === 401) text = T.login.wrong;
            else if (err.status === 429) text = T.login.limited(dur(Number(err.body && err.body.retry_after) || 60));
            replace(status, message('error', text));
            password.value = '';
            password.focus();
        } finally {
            submit.disabled = false;
            submit.textContent = T.login.submit;
        }
    };

    root.appendChild(h('section', { class: 'login' },
        h('h1', null, T.login.title),
        h('form', { class: 'card login-form', on: { submit: onSubmit } },
            h('label', { for: 'login' }, T.login.login), login,
            h('label', { for: 'password' }, T.login.password), password,
            status, submit),
        h('aside', { class: 'card login-bot' },
            h('h2', null, T.login.bot_title),
            h('p', null, T.login.bot_text))));
    login.focus();
}
