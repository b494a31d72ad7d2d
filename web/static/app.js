// Roster's little JavaScript. Progressive enhancement only: every page works
// the same with it switched off (menus are <details>, and every confirm step
// has a server-side confirm page). It does two things:
//
//  1. Menus (<details data-menu>): opening one closes the others; a click
//     outside, Escape, or moving focus out closes an open menu (Escape puts
//     focus back on its button).
//  2. Confirm dialogs: a form, or a submit button, with data-confirm="message"
//     (optional data-confirm-button="Remove User", data-confirm-danger) asks in
//     a <dialog class="confirm-dialog"> before it is submitted. Confirming
//     submits the form with the clicked button and adds confirm=yes, so the
//     server acts at once instead of showing its own confirm page.
//  3. Live regions: an element with an id and data-refresh="seconds" (a
//     running import's progress) is fetched again that often and replaced
//     by its new self, until the new one has no data-refresh (the import is
//     done). Without it, the page's own link loads it again.
//
// No inline styles and no HTML strings: classes and DOM APIs only (CSP).
(() => {
  "use strict";

  // ----------------------------------------------------------------- menus

  const MENU = "details[data-menu]";

  const openMenus = () => Array.from(document.querySelectorAll(MENU + "[open]"));

  const inDialog = (node) => node instanceof Element && node.closest("dialog") !== null;

  function closeMenu(menu, returnFocus) {
    menu.open = false;
    if (returnFocus) {
      const summary = menu.querySelector(":scope > summary");
      if (summary) summary.focus();
    }
  }

  // "toggle" does not bubble, but a capturing listener still sees it.
  document.addEventListener(
    "toggle",
    (event) => {
      const menu = event.target;
      if (!(menu instanceof HTMLDetailsElement) || !menu.matches(MENU) || !menu.open) return;
      for (const other of openMenus()) {
        if (other !== menu && !other.contains(menu)) other.open = false;
      }
    },
    true,
  );

  document.addEventListener("click", (event) => {
    const target = event.target;
    if (inDialog(target)) return;
    for (const menu of openMenus()) {
      if (!menu.contains(target)) menu.open = false;
    }
  });

  document.addEventListener("keydown", (event) => {
    if (event.key !== "Escape" || event.defaultPrevented) return;
    if (document.querySelector("dialog[open]")) return; // the dialog handles it
    const menus = openMenus();
    if (menus.length === 0) return;
    const active = document.activeElement;
    // The innermost open menu holding focus, else the last one opened.
    const menu = menus.reverse().find((m) => m.contains(active)) || menus[0];
    event.preventDefault();
    closeMenu(menu, true);
  });

  document.addEventListener("focusout", (event) => {
    const from = event.target;
    const to = event.relatedTarget;
    if (!(from instanceof Element) || !(to instanceof Element)) return;
    const menu = from.closest(MENU + "[open]");
    if (!menu || menu.contains(to) || inDialog(to)) return;
    menu.open = false;
  });

  // --------------------------------------------------------- confirm dialog

  const canDialog =
    typeof HTMLDialogElement === "function" &&
    typeof HTMLDialogElement.prototype.showModal === "function";

  // Forms the person has just confirmed: their next submit goes through.
  const confirmed = new WeakSet();
  let asking = false;

  document.addEventListener("submit", (event) => {
    const form = event.target;
    if (!(form instanceof HTMLFormElement)) return;
    if (confirmed.has(form)) {
      confirmed.delete(form);
      return;
    }
    const submitter = event.submitter || null;
    let source = null;
    if (submitter && submitter.hasAttribute("data-confirm")) source = submitter;
    else if (form.hasAttribute("data-confirm")) source = form;
    if (!source || !canDialog) return; // the server's confirm page asks instead

    event.preventDefault();
    if (asking) return;
    ask(source, form, submitter);
  });

  function ask(source, form, submitter) {
    asking = true;
    const opener = document.activeElement;
    const danger = source.hasAttribute("data-confirm-danger");
    const message = source.getAttribute("data-confirm") || "Are you sure?";
    const label =
      source.getAttribute("data-confirm-button") ||
      (submitter && submitter.textContent.trim()) ||
      "Confirm";

    const dialog = document.createElement("dialog");
    dialog.className = "confirm-dialog";
    const messageId = "confirm-message-" + Date.now().toString(36);
    dialog.setAttribute("aria-labelledby", messageId);

    const body = document.createElement("div");
    body.className = "confirm-dialog-body";

    const text = document.createElement("p");
    text.className = "confirm-message";
    text.id = messageId;
    text.textContent = message;

    const actions = document.createElement("div");
    actions.className = "actions";

    const cancel = document.createElement("button");
    cancel.type = "button";
    cancel.className = "button";
    cancel.textContent = "Cancel";

    const ok = document.createElement("button");
    ok.type = "button";
    ok.className = "button " + (danger ? "button-danger" : "button-primary");
    ok.textContent = label;
    // A destructive step starts on Cancel; a harmless one on its own button.
    if (danger) cancel.autofocus = true;
    else ok.autofocus = true;

    actions.append(cancel, ok);
    body.append(text, actions);
    dialog.append(body);

    let accepted = false;
    cancel.addEventListener("click", () => dialog.close());
    ok.addEventListener("click", () => {
      accepted = true;
      dialog.close();
    });
    // A click on the backdrop (outside the box) cancels.
    dialog.addEventListener("click", (event) => {
      if (event.target === dialog) {
        const r = dialog.getBoundingClientRect();
        const inside =
          event.clientX >= r.left && event.clientX <= r.right &&
          event.clientY >= r.top && event.clientY <= r.bottom;
        if (!inside) dialog.close();
      }
    });
    dialog.addEventListener("close", () => {
      dialog.remove();
      asking = false;
      if (accepted) {
        submit(form, submitter);
        return;
      }
      restoreFocus(opener);
    });

    document.body.append(dialog);
    dialog.showModal();
  }

  function submit(form, submitter) {
    if (!form.elements.namedItem("confirm")) {
      const marker = document.createElement("input");
      marker.type = "hidden";
      marker.name = "confirm";
      marker.value = "yes";
      form.append(marker);
    }
    confirmed.add(form);
    if (typeof form.requestSubmit === "function") {
      try {
        form.requestSubmit(submitter && submitter.form === form ? submitter : null);
        return;
      } catch (_) {
        // fall through to a plain submit
      }
    }
    if (submitter && submitter.name) {
      const pair = document.createElement("input");
      pair.type = "hidden";
      pair.name = submitter.name;
      pair.value = submitter.value;
      form.append(pair);
    }
    confirmed.delete(form); // submit() fires no submit event
    HTMLFormElement.prototype.submit.call(form);
  }

  function restoreFocus(opener) {
    if (!(opener instanceof HTMLElement) || !opener.isConnected) return;
    // If the button sat in a menu that has closed meanwhile, use the menu's button.
    const closedMenu = opener.closest("details:not([open])");
    const target =
      closedMenu && !opener.matches("summary")
        ? closedMenu.querySelector(":scope > summary")
        : opener;
    if (target) target.focus();
  }
  // ---------------------------------------------------------- live regions

  function follow(region) {
    const seconds = Number(region.dataset.refresh);
    if (!region.id || !(seconds > 0)) return;
    const tick = async () => {
      const current = document.getElementById(region.id);
      if (!current) return;
      // Not while someone is using the region with the keyboard: try again
      // at the next tick.
      if (current.contains(document.activeElement)) {
        window.setTimeout(tick, seconds * 1000);
        return;
      }
      let next = null;
      try {
        const res = await fetch(window.location.href, { credentials: "same-origin", cache: "no-store" });
        if (res.ok) {
          const doc = new DOMParser().parseFromString(await res.text(), "text/html");
          next = doc.getElementById(region.id);
        }
      } catch (_) {
        // offline for a moment: try again
      }
      if (next) {
        current.replaceWith(document.importNode(next, true));
        if (!next.dataset.refresh) return; // done
      }
      window.setTimeout(tick, seconds * 1000);
    };
    window.setTimeout(tick, seconds * 1000);
  }

  for (const region of document.querySelectorAll("[data-refresh]")) follow(region);
})();
