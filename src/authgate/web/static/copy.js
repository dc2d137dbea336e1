// Progressive enhancement for secrets shown once: a Copy button for each
// element named by a button's data-copy. Without JavaScript (or a clipboard)
// the button stays hidden and the value is selected by hand.
"use strict";
for (const button of document.querySelectorAll("button[data-copy]")) {
  const source = document.getElementById(button.dataset.copy);
  const status = button.parentElement.querySelector("[data-copy-status]");
  if (source && navigator.clipboard) {
    button.hidden = false;
    button.addEventListener("click", async () => {
      try {
        await navigator.clipboard.writeText(source.textContent.trim());
        if (status) status.textContent = "Copied to the clipboard.";
      } catch {
        if (status) status.textContent = "Could not copy; select the value and copy it by hand.";
      }
    });
  }
}
