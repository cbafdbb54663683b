"""The chat bot: Home Affairs asks who is overdue; unit heads see and answer their own reminders."""
