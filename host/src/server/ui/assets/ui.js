// tokenscope's token page: small helpers, each optional (every form works without them).
"use strict";
document.addEventListener("DOMContentLoaded", () => {
  // A one-time link carries its code in the fragment: fill it in, then drop it from the address bar.
  const code = document.querySelector("[data-from-fragment]");
  if (code && location.hash.length > 1) {
    code.value = decodeURIComponent(location.hash.slice(1));
    history.replaceState(null, "", location.pathname);
  }
  // Copy a new secret.
  const copy = document.getElementById("copy");
  if (copy) {
    copy.addEventListener("click", async () => {
      const field = document.getElementById(copy.dataset.target);
      const status = document.getElementById("copied");
      field.select();
      try {
        await navigator.clipboard.writeText(field.value);
      } catch (_) {
        document.execCommand("copy");
      }
      if (status) status.textContent = "Copied.";
    });
  }
  // Show the resource rows or the scopes, by the chosen type.
  const kinds = document.querySelectorAll("input[name=kind]");
  const show = () => {
    const scopes = document.querySelector("input[name=kind][value=scopes]");
    const pick = scopes && scopes.checked;
    const resources = document.getElementById("resources");
    const catalog = document.getElementById("scopes");
    if (resources) resources.hidden = pick;
    if (catalog) catalog.hidden = !pick;
  };
  kinds.forEach((k) => k.addEventListener("change", show));
  if (kinds.length) show();
  // Add a resource row.
  const add = document.getElementById("add-resource");
  const rows = document.getElementById("resource-rows");
  if (add && rows) {
    add.hidden = false;
    add.addEventListener("click", () => {
      const n = rows.children.length;
      const row = rows.lastElementChild.cloneNode(true);
      row.querySelectorAll("label").forEach((l) => l.setAttribute("for", l.getAttribute("for").replace(/\d+$/, n)));
      row.querySelectorAll("input, select").forEach((f) => {
        f.id = f.id.replace(/\d+$/, n);
        if (f.tagName === "INPUT") f.value = "";
      });
      rows.appendChild(row);
      row.querySelector("input").focus();
    });
  }
  // After an action, move focus to the page's message or heading.
  const target = document.querySelector("[role=alert], [role=status]:not(:empty), main h1");
  if (target && !document.querySelector("[autofocus]")) {
    target.setAttribute("tabindex", "-1");
    target.focus({ preventScroll: false });
  }
});
