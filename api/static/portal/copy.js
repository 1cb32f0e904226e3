// Copies the new API key to the clipboard (the page's one script; no inline scripts).
document.getElementById("copy").addEventListener("click", async (event) => {
  const note = document.getElementById("copied");
  try {
    await navigator.clipboard.writeText(event.target.dataset.copy);
    note.textContent = "Copied.";
  } catch (error) {
    note.textContent = "Select the key above and copy it.";
  }
});
