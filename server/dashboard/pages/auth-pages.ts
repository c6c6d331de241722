/**
 * The pages someone sees before being signed in: sign-in, setting a password from a one-time link,
 * accepting an invite, and the plain messages (signed out, link dead, too many attempts).
 */
import { html } from 'hono/html';
import type { Role } from '../../db/database.ts';
import { MIN_PASSWORD_CHARACTERS } from '../../accounts/password.ts';
import type { DashboardAssets } from '../assets/assets.ts';
import { authPage, csrfField, DASHBOARD_PATH, notice, type Html } from '../layout.ts';

const PASSWORD_HELP = `At least ${MIN_PASSWORD_CHARACTERS} characters. A few unrelated words are easy to remember and hard to guess.`;

export function signInPage(input: {
  assets: DashboardAssets;
  csrfToken: string;
  email?: string;
  next?: string;
  error?: string;
  message?: string;
}): Html {
  return authPage({
    title: 'Sign in',
    assets: input.assets,
    body: html`<section class="card auth-card" aria-labelledby="sign-in-title">
<h1 id="sign-in-title">Sign in to your shop</h1>
<p class="lede">Use the email and password of your Pushcart account.</p>
${input.message ? notice('success', input.message) : ''}
${input.error ? notice('error', input.error) : ''}
<form method="post" action="${DASHBOARD_PATH}/login" novalidate>
${csrfField(input.csrfToken)}
${input.next ? html`<input type="hidden" name="next" value="${input.next}">` : ''}
<div class="field">
<label for="email">Email</label>
<input id="email" name="email" type="email" autocomplete="username" required value="${input.email ?? ''}"${input.error ? html` aria-invalid="true"` : ''}>
</div>
<div class="field">
<label for="password">Password</label>
<input id="password" name="password" type="password" autocomplete="current-password" required${input.error ? html` aria-invalid="true"` : ''}>
</div>
<button class="button wide" type="submit">Sign in</button>
</form>
</section>
<p class="auth-footer">Forgot your password? Ask an owner of your shop, or whoever runs Pushcart for you, for a reset link.</p>`,
  });
}

/** Shown instead of the sign-in form while the attempts for this account or address are spent. */
export function tooManyAttemptsPage(input: { assets: DashboardAssets; retryAfterSeconds: number }): Html {
  const minutes = Math.ceil(input.retryAfterSeconds / 60);
  const wait = input.retryAfterSeconds < 60 ? `${input.retryAfterSeconds} seconds` : `${minutes} minute${minutes === 1 ? '' : 's'}`;
  return messagePage({
    assets: input.assets,
    title: 'Too many attempts',
    heading: 'Too many sign-in attempts',
    body: html`<p>There were too many wrong passwords for this account or from your network. For your safety, signing in is paused for about ${wait}.</p>
<p>If you have forgotten your password, ask an owner of your shop for a reset link instead.</p>
<p><a class="button secondary" href="${DASHBOARD_PATH}/login">Back to sign-in</a></p>`,
  });
}

export function passwordPage(input: {
  assets: DashboardAssets;
  csrfToken: string;
  action: string;
  purpose: 'set' | 'reset';
  email: string;
  error?: string;
}): Html {
  const heading = input.purpose === 'set' ? 'Choose your password' : 'Choose a new password';
  return authPage({
    title: heading,
    assets: input.assets,
    body: html`<section class="card auth-card" aria-labelledby="password-title">
<h1 id="password-title">${heading}</h1>
<p class="lede">${input.purpose === 'set' ? 'Welcome to Pushcart. Choose the password you will sign in with.' : 'Your old password stops working, and every device signed in to this account is signed out.'}</p>
${input.error ? notice('error', input.error) : ''}
<form method="post" action="${input.action}" novalidate>
${csrfField(input.csrfToken)}
<div class="field">
<label for="email">Email</label>
<input id="email" name="email" type="email" autocomplete="username" value="${input.email}" readonly>
</div>
<div class="field">
<label for="password">New password</label>
<input id="password" name="password" type="password" autocomplete="new-password" required minlength="${MIN_PASSWORD_CHARACTERS}" aria-describedby="password-help"${input.error ? html` aria-invalid="true"` : ''}>
<p class="help" id="password-help">${PASSWORD_HELP}</p>
</div>
<div class="field">
<label for="confirm">Repeat the password</label>
<input id="confirm" name="confirm" type="password" autocomplete="new-password" required${input.error ? html` aria-invalid="true"` : ''}>
</div>
<button class="button wide" type="submit">Save password and sign in</button>
</form>
</section>`,
  });
}

export type InviteForm =
  /** The invited email has no account yet: choose a name and a password. */
  | { kind: 'new_account' }
  /** It has one: prove it with its password. */
  | { kind: 'existing_account' }
  /** The signed-in user is the invited one: one click. */
  | { kind: 'signed_in' };

export function invitePage(input: {
  assets: DashboardAssets;
  csrfToken: string;
  action: string;
  siteName: string;
  role: Role;
  email: string;
  form: InviteForm;
  name?: string;
  error?: string;
}): Html {
  const roleWords: Record<Role, string> = {
    owner: 'an owner: everything, including keys and the team',
    editor: 'an editor: automations, templates, the prompt and campaigns',
    viewer: 'a viewer: you can look at everything but change nothing',
  };
  let fields: Html;
  let submit: string;
  if (input.form.kind === 'signed_in') {
    fields = html``;
    submit = 'Accept the invite';
  } else if (input.form.kind === 'existing_account') {
    fields = html`<div class="field">
<label for="email">Email</label>
<input id="email" name="email" type="email" autocomplete="username" value="${input.email}" readonly>
</div>
<div class="field">
<label for="password">Your password</label>
<input id="password" name="password" type="password" autocomplete="current-password" required aria-describedby="password-help"${input.error ? html` aria-invalid="true"` : ''}>
<p class="help" id="password-help">This email already has a Pushcart account: sign in with its password to join.</p>
</div>`;
    submit = 'Sign in and join';
  } else {
    fields = html`<div class="field">
<label for="email">Email</label>
<input id="email" name="email" type="email" autocomplete="username" value="${input.email}" readonly>
</div>
<div class="field">
<label for="name">Your name <span class="meta">(optional)</span></label>
<input id="name" name="name" type="text" autocomplete="name" maxlength="200" value="${input.name ?? ''}">
</div>
<div class="field">
<label for="password">Choose a password</label>
<input id="password" name="password" type="password" autocomplete="new-password" required minlength="${MIN_PASSWORD_CHARACTERS}" aria-describedby="password-help"${input.error ? html` aria-invalid="true"` : ''}>
<p class="help" id="password-help">${PASSWORD_HELP}</p>
</div>
<div class="field">
<label for="confirm">Repeat the password</label>
<input id="confirm" name="confirm" type="password" autocomplete="new-password" required${input.error ? html` aria-invalid="true"` : ''}>
</div>`;
    submit = 'Create account and join';
  }
  return authPage({
    title: `Join ${input.siteName}`,
    assets: input.assets,
    body: html`<section class="card auth-card" aria-labelledby="invite-title">
<h1 id="invite-title">Join ${input.siteName}</h1>
<p class="lede">You have been invited to ${input.siteName} on Pushcart as ${roleWords[input.role]}.</p>
${input.error ? notice('error', input.error) : ''}
<form method="post" action="${input.action}" novalidate>
${csrfField(input.csrfToken)}
${fields}
<button class="button wide" type="submit">${submit}</button>
</form>
</section>`,
  });
}

/** A page that only says something: a dead link, a refused request, a missing page. */
export function messagePage(input: { assets: DashboardAssets; title: string; heading: string; body: Html }): Html {
  return authPage({
    title: input.title,
    assets: input.assets,
    body: html`<section class="card auth-card" aria-labelledby="message-title">
<h1 id="message-title">${input.heading}</h1>
${input.body}
</section>`,
  });
}

export function deadLinkPage(assets: DashboardAssets, what: 'password' | 'invite'): Html {
  return messagePage({
    assets,
    title: 'Link no longer works',
    heading: 'This link no longer works',
    body: html`<p>${what === 'password' ? 'Password links work once, for a limited time' : 'Invites work once and expire after a week'}, and this one has been used, replaced or has expired.</p>
<p>Ask an owner of your shop, or whoever runs Pushcart for you, for a new one.</p>
<p><a class="button secondary" href="${DASHBOARD_PATH}/login">Go to sign-in</a></p>`,
  });
}
