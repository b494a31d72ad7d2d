// Roster's passkey buttons (WebAuthn). Loaded only by pages that have one.
// Passkeys need JavaScript, so the buttons start disabled and say so; this
// script turns them on where the browser can use passkeys.
//
//  - <button data-passkey-get="URL"> (sign-in's second step, the confirm
//    forms): POSTs to URL for a challenge, asks the browser for a passkey,
//    puts the answer in the form's hidden "passkey" field and submits the
//    form.
//  - <button data-passkey-create="URL"> (Add a passkey): POSTs to URL for
//    the creation options, asks the browser to make a passkey, puts it in
//    the form's hidden "credential" field and submits the form.
//
// The server checks every answer against the challenge it keeps in the
// session. No inline script or style (CSP): DOM APIs and classes only.
(() => {
  "use strict";

  const supported =
    typeof window.PublicKeyCredential === "function" &&
    navigator.credentials &&
    typeof navigator.credentials.get === "function";

  // base64url <-> ArrayBuffer: the server's JSON carries bytes as base64url.
  const fromB64 = (s) => {
    const b64 = s.replace(/-/g, "+").replace(/_/g, "/");
    const bin = atob(b64 + "===".slice((b64.length + 3) % 4));
    const out = new Uint8Array(bin.length);
    for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
    return out.buffer;
  };
  const toB64 = (buf) => {
    const bytes = new Uint8Array(buf);
    let bin = "";
    for (let i = 0; i < bytes.length; i++) bin += String.fromCharCode(bytes[i]);
    return btoa(bin).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  };

  function say(button, text, isError) {
    const status = button.parentElement.querySelector("[data-passkey-status]");
    if (!status) return;
    status.textContent = text;
    status.classList.toggle("field-error", Boolean(isError));
    status.setAttribute("role", isError ? "alert" : "status");
  }

  async function options(url) {
    const res = await fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: { Accept: "application/json", "Content-Type": "application/x-www-form-urlencoded" },
      body: "",
    });
    const type = res.headers.get("Content-Type") || "";
    if (!res.ok || !type.startsWith("application/json")) {
      throw new Error("options");
    }
    return (await res.json()).publicKey;
  }

  async function signIn(button) {
    const form = button.form;
    const password = form.elements.namedItem("password");
    if (password instanceof HTMLInputElement && password.value === "") {
      say(button, "Enter your password first, then confirm with your passkey.", true);
      password.focus();
      return;
    }
    const pk = await options(button.dataset.passkeyGet);
    pk.challenge = fromB64(pk.challenge);
    for (const c of pk.allowCredentials || []) c.id = fromB64(c.id);
    const cred = await navigator.credentials.get({ publicKey: pk });
    const r = cred.response;
    form.elements.namedItem("passkey").value = JSON.stringify({
      id: cred.id,
      rawId: toB64(cred.rawId),
      type: cred.type,
      authenticatorAttachment: cred.authenticatorAttachment || undefined,
      clientExtensionResults: cred.getClientExtensionResults(),
      response: {
        clientDataJSON: toB64(r.clientDataJSON),
        authenticatorData: toB64(r.authenticatorData),
        signature: toB64(r.signature),
        userHandle: r.userHandle ? toB64(r.userHandle) : undefined,
      },
    });
    const code = form.elements.namedItem("code");
    if (code instanceof HTMLInputElement) code.value = "";
    HTMLFormElement.prototype.submit.call(form);
  }

  async function create(button) {
    const form = button.form;
    const name = form.elements.namedItem("passkey_name");
    if (name instanceof HTMLInputElement && name.value.trim() === "") {
      say(button, "Give the passkey a name first, such as the device it's on.", true);
      name.focus();
      return;
    }
    const pk = await options(button.dataset.passkeyCreate);
    pk.challenge = fromB64(pk.challenge);
    pk.user.id = fromB64(pk.user.id);
    for (const c of pk.excludeCredentials || []) c.id = fromB64(c.id);
    const cred = await navigator.credentials.create({ publicKey: pk });
    const r = cred.response;
    form.elements.namedItem("credential").value = JSON.stringify({
      id: cred.id,
      rawId: toB64(cred.rawId),
      type: cred.type,
      authenticatorAttachment: cred.authenticatorAttachment || undefined,
      clientExtensionResults: cred.getClientExtensionResults(),
      response: {
        clientDataJSON: toB64(r.clientDataJSON),
        attestationObject: toB64(r.attestationObject),
        transports: typeof r.getTransports === "function" ? r.getTransports() : [],
      },
    });
    HTMLFormElement.prototype.submit.call(form);
  }

  function wire(selector, run, busyText) {
    for (const button of document.querySelectorAll(selector)) {
      if (!supported) {
        say(button, "This browser can't use passkeys. Use a code instead.", false);
        continue;
      }
      button.disabled = false;
      say(button, "Your browser will ask you to confirm with your passkey.", false);
      button.addEventListener("click", async () => {
        if (button.getAttribute("aria-busy") === "true") return;
        button.setAttribute("aria-busy", "true");
        say(button, busyText, false);
        try {
          await run(button);
        } catch (err) {
          const cancelled = err && (err.name === "NotAllowedError" || err.name === "AbortError");
          say(
            button,
            cancelled
              ? "The passkey prompt was closed. Try again, or use a code."
              : "That didn't work. Reload the page and try again, or use a code.",
            true,
          );
        } finally {
          button.removeAttribute("aria-busy");
        }
      });
    }
  }

  wire("button[data-passkey-get]", signIn, "Waiting for your passkey…");
  wire("button[data-passkey-create]", create, "Waiting for your browser to make the passkey…");
})();
