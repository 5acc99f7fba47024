"""Centre staff: who they are as the card shows them, their lifecycle (a change
reaches every credential they hold at once), their photo, CSV import, and the
console pages and commands that manage them."""
