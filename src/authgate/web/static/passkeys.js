// The WebAuthn ceremony, the one thing Authgate's pages need JavaScript for.
// A form marked data-webauthn="create" (add a passkey) or "get" (sign in with
// one) carries the options as JSON in data-options; on submit, the browser's
// answer goes into the form's hidden "credential" field as JSON and the form
// is posted as any other, with the CSRF token and the ticket it carries.
// Without WebAuthn the form stays hidden and the page's other ways remain;
// what the page says in that case (data-webauthn-fallback) goes once it can.
"use strict";

function toBytes(text) {
  const base64 = text.replace(/-/g, "+").replace(/_/g, "/");
  const binary = atob(base64 + "=".repeat((4 - (base64.length % 4)) % 4));
  return Uint8Array.from(binary, (c) => c.charCodeAt(0));
}

function toText(buffer) {
  const binary = String.fromCharCode(...new Uint8Array(buffer));
  return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

function withIds(list) {
  return (list || []).map((c) => ({ ...c, id: toBytes(c.id) }));
}

function creationOptions(json) {
  return {
    ...json,
    challenge: toBytes(json.challenge),
    user: { ...json.user, id: toBytes(json.user.id) },
    excludeCredentials: withIds(json.excludeCredentials),
  };
}

function requestOptions(json) {
  return {
    ...json,
    challenge: toBytes(json.challenge),
    allowCredentials: withIds(json.allowCredentials),
  };
}

function answer(credential) {
  const response = credential.response;
  const common = {
    id: credential.id,
    rawId: toText(credential.rawId),
    type: credential.type,
    clientExtensionResults: credential.getClientExtensionResults(),
    authenticatorAttachment: credential.authenticatorAttachment,
  };
  if (response.attestationObject) {
    return {
      ...common,
      response: {
        clientDataJSON: toText(response.clientDataJSON),
        attestationObject: toText(response.attestationObject),
        transports: response.getTransports ? response.getTransports() : [],
      },
    };
  }
  return {
    ...common,
    response: {
      clientDataJSON: toText(response.clientDataJSON),
      authenticatorData: toText(response.authenticatorData),
      signature: toText(response.signature),
      userHandle: response.userHandle ? toText(response.userHandle) : null,
    },
  };
}

for (const form of document.querySelectorAll("form[data-webauthn]")) {
  if (!window.PublicKeyCredential) continue;
  form.hidden = false;
  for (const note of document.querySelectorAll("[data-webauthn-fallback]")) note.hidden = true;
  const status = form.querySelector("[data-webauthn-status]");
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const options = JSON.parse(form.dataset.options);
    if (status) status.textContent = "Waiting for your passkey…";
    try {
      const credential =
        form.dataset.webauthn === "create"
          ? await navigator.credentials.create({ publicKey: creationOptions(options) })
          : await navigator.credentials.get({ publicKey: requestOptions(options) });
      form.elements.credential.value = JSON.stringify(answer(credential));
      form.submit();
    } catch {
      if (status) {
        status.textContent = "No passkey was used. Try again, or reload the page if it has been a few minutes.";
      }
    }
  });
}
