// The sign-in page: email and password, then a two-factor code when the server asks for one
// (or an enrolment when the account requires two-factor). Calls onSignedIn() on success.

import { api, ApiError, setCsrf } from "./api.js";
import { h, clear } from "./dom.js";

/** Show the login form in container; `message` (e.g. "session ended") is shown above it. */
export function renderLogin(container, { message = "", onSignedIn }) {
  const email = h("input", { id: "login-email", type: "email", name: "email", autocomplete: "username", required: true });
  const password = h("input", { id: "login-password", type: "password", name: "password", autocomplete: "current-password", required: true });
  const totp = h("input", { id: "login-totp", type: "text", name: "totp", inputmode: "numeric", autocomplete: "one-time-code" });
  const totpRow = h("div", { class: "field", hidden: true }, h("label", { for: "login-totp" }, "Two-factor code"), totp);
  const enrolBox = h("div", { class: "enrol", hidden: true });
  const alert = h("div", { class: "form-error", role: "alert" });
  const notice = h("p", { class: "notice", role: "status" }, message);
  const button = h("button", { type: "submit", class: "primary" }, "Sign in");
  let enrolment = null;

  async function submit(event) {
    event.preventDefault();
    alert.textContent = "";
    button.disabled = true;
    const body = { email: email.value.trim(), password: password.value };
    if (!totpRow.hidden && totp.value.trim()) body.totp = totp.value.trim();
    if (enrolment) body.enrolment = enrolment;
    try {
      const answer = await api("POST", "/api/v1/auth/login", { json: body });
      setCsrf(answer.csrf_token);
      onSignedIn(answer);
    } catch (err) {
      showError(err);
    } finally {
      button.disabled = false;
    }
  }

  function showError(err) {
    if (!(err instanceof ApiError)) throw err;
    if (err.code === "TwoFactorRequired") {
      totpRow.hidden = false;
      totp.focus();
      alert.textContent = hasCode() ? "That code is not valid; try the next one." : "Enter the code from your authenticator app.";
    } else if (err.code === "TwoFactorEnrolmentRequired" && err.body.enrolment) {
      enrolment = err.body.enrolment.enrolment;
      clear(enrolBox,
        h("p", {}, "This account requires two-factor sign-in. Add this secret to an authenticator app, then enter its code:"),
        h("code", { class: "secret" }, err.body.enrolment.secret));
      enrolBox.hidden = false;
      totpRow.hidden = false;
      totp.focus();
    } else if (err.code === "TooManyRequests") {
      alert.textContent = "Too many attempts; wait a little and try again.";
    } else {
      alert.textContent = err.message;
    }
  }

  function hasCode() {
    return totp.value.trim() !== "";
  }

  const form = h("form", { class: "login-form", "aria-labelledby": "login-title", onSubmit: submit },
    h("h1", { id: "login-title" }, "Sign in to Timberyard"),
    message ? notice : null,
    h("div", { class: "field" }, h("label", { for: "login-email" }, "Email"), email),
    h("div", { class: "field" }, h("label", { for: "login-password" }, "Password"), password),
    enrolBox,
    totpRow,
    alert,
    button);
  clear(container, h("main", { class: "login-page" }, form));
  email.focus();
}
